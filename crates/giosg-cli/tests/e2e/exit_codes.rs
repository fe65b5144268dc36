//! Every exit code, with one line on stderr that says what to do; invalid arguments are
//! refused before any request.

use crate::common::{api_args, chats, giosg, mock, run, temp_dir};
use giosg_mock::{Fault, FaultPlan, MockServer};
use std::io::{Read, Write};
use std::net::TcpListener;

#[test]
fn usage_errors_exit_2_before_any_request() {
    let mock = mock(20, 10);
    let dir = temp_dir("usage");
    let foreign = dir.join("notes.txt");
    std::fs::write(&foreign, "my notes\n").unwrap();
    let foreign = foreign.to_str().unwrap();
    let cases: [(&[&str], &str); 10] = [
        (
            &["--page-size", "101"],
            "--page-size must be between 1 and 100, got 101",
        ),
        (&["--page", "0"], "--page"),
        (&["--since-id", "42"], "is not a UUID"),
        (&["--room-id", "not-a-uuid"], "is not a UUID"),
        (
            &["--start-time", "2025-02-01", "--end-time", "2025-01-01"],
            "--start-time (2025-02-01T00:00:00.000Z) must be before --end-time",
        ),
        (&["--start-time", "last tuesday"], "--start-time"),
        (&["--ordering", "id"], "unknown ordering key"),
        (&["--has-sales", "yes"], "--has-sales"),
        (
            &["--format", "table", "--csv-logs"],
            "--csv-logs needs --format csv",
        ),
        (&["--token", "abc"], "unexpected argument '--token'"),
    ];
    for (args, expected) in cases {
        let out = run(&mut chats(&mock, "list", args));
        let line = out.fails(2);
        assert!(line.contains(expected), "{args:?}: {line}");
    }
    for args in [
        &["--out", foreign][..],
        &["--out", foreign, "--format", "json"][..],
        &["--out", foreign, "--csv-logs"][..],
        &["--out", foreign, "--page", "2"][..],
    ] {
        run(&mut chats(&mock, "export", args)).fails(2);
    }
    let mut insecure = giosg(["chats", "list", "--base-url", "http://example.com", "--org"]);
    insecure
        .arg(mock.org().to_string())
        .env("GIOSG_API_TOKEN", "t");
    let line = run(&mut insecure).fails(2).to_owned();
    assert!(line.contains("--base-url must be https"), "{line}");
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "my notes\n"
    );
    assert!(mock.requests().is_empty(), "{:?}", mock.requests());
}

#[test]
fn a_time_range_empty_to_the_millisecond_is_refused_before_any_request() {
    // The API keeps milliseconds: both times go out as 00:00:00.001, so the range is empty
    // whichever comes first. The CLI refuses it as the SDK would, with its flags' names.
    let mock = mock(23, 10);
    let dir = temp_dir("millisecond-range");
    let (early, late) = ("2025-01-01T00:00:00.0001Z", "2025-01-01T00:00:00.0009Z");
    for (start, end) in [(late, early), (early, late)] {
        let times = ["--start-time", start, "--end-time", end];
        let out = dir.join("chats.jsonl");
        let db = dir.join("chats.db");
        for (sub, more) in [
            ("list", vec![]),
            ("summary", vec![]),
            ("export", vec!["--out", out.to_str().unwrap()]),
            ("sync", vec!["--db", db.to_str().unwrap()]),
        ] {
            let args: Vec<&str> = times.iter().copied().chain(more).collect();
            let line = run(&mut chats(&mock, sub, &args)).fails(2).to_owned();
            assert!(
                line.contains(
                    "--start-time (2025-01-01T00:00:00.001Z) must be before --end-time (2025-01-01T00:00:00.001Z)"
                ),
                "{sub} {start} {end}: {line}"
            );
        }
        assert!(!out.exists() && !db.exists());
    }
    assert!(mock.requests().is_empty(), "{:?}", mock.requests());
}

#[test]
fn no_command_shows_the_help_and_help_documents_the_exit_codes() {
    let out = run(&mut giosg(Vec::<&str>::new()));
    assert_eq!(out.code, 2);
    let help = run(&mut giosg(["--help"]));
    let text = help.ok();
    for line in [
        "2  usage",
        "3  authentication",
        "4  other API errors",
        "5  network",
        "6  bad response",
        "GIOSG_API_TOKEN",
    ] {
        assert!(text.contains(line), "{line}");
    }
    for sub in ["list", "export", "summary"] {
        let help = run(&mut giosg(["chats", sub, "--help"]));
        assert!(help.ok().contains("Exit codes:") && help.ok().contains("Examples:"));
    }
}

#[test]
fn authentication_failures_exit_3() {
    let mock = mock(21, 10);
    let mut no_token = chats(&mock, "list", &[]);
    no_token.env_remove("GIOSG_API_TOKEN");
    let line = run(&mut no_token).fails(3).to_owned();
    assert!(line.contains("set GIOSG_API_TOKEN"), "{line}");
    assert!(mock.requests().is_empty());

    let mut wrong = chats(&mock, "list", &[]);
    wrong.env("GIOSG_API_TOKEN", "not-the-token");
    let line = run(&mut wrong).fails(3).to_owned();
    assert!(
        line.contains("401") && line.contains("check GIOSG_API_TOKEN"),
        "{line}"
    );
    assert_eq!(mock.requests().len(), 1, "401 is not retried");

    let mut other_org = giosg([
        "chats",
        "list",
        "--org",
        "00000000-0000-4000-8000-000000000001",
    ]);
    other_org
        .args(["--base-url", &mock.base_url()])
        .env("GIOSG_API_TOKEN", mock.token());
    let line = run(&mut other_org).fails(3).to_owned();
    assert!(line.contains("403") && line.contains("--org"), "{line}");

    let dir = temp_dir("empty-token");
    let empty = dir.join("token");
    std::fs::write(&empty, "\n").unwrap();
    let mut cmd = chats(&mock, "summary", &["--token-file"]);
    cmd.arg(&empty);
    run(&mut cmd).fails(3);
    let mut cmd = chats(&mock, "summary", &["--token-file"]);
    cmd.arg(dir.join("missing"));
    run(&mut cmd).fails(3);
}

#[test]
fn api_errors_exit_4() {
    let mock = mock(22, 10);
    let line = run(&mut chats(&mock, "list", &["--page", "99"]))
        .fails(4)
        .to_owned();
    assert!(
        line.contains("404") && line.contains("check the organisation id"),
        "{line}"
    );

    mock.set_faults(FaultPlan::new().on_requests(0..10, Fault::too_many_requests(Some("0"))));
    let line = run(&mut chats(&mock, "list", &["--max-attempts", "3"]))
        .fails(4)
        .to_owned();
    assert!(
        line.contains("rate limited") && line.contains("after 3 attempts"),
        "{line}"
    );

    mock.set_faults(FaultPlan::new().on_requests(0..10, Fault::status(500)));
    let line = run(&mut chats(&mock, "summary", &["--max-attempts", "2"]))
        .fails(4)
        .to_owned();
    assert!(
        line.contains("HTTP 500") && line.contains("after 2 attempts"),
        "{line}"
    );
}

#[test]
fn network_failures_exit_5() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut cmd = giosg([
        "chats",
        "list",
        "--org",
        "7f9e9580-095b-42c7-838c-c04e667b26f7",
        "--max-attempts",
        "2",
        "--retry-delay-ms",
        "1",
        "--base-url",
    ]);
    cmd.arg(format!("http://127.0.0.1:{port}"))
        .env("GIOSG_API_TOKEN", "t");
    let line = run(&mut cmd).fails(5).to_owned();
    assert!(
        line.contains("network error") && line.contains("--base-url"),
        "{line}"
    );

    let mock = MockServer::builder()
        .faults(FaultPlan::new().on_requests(0..10, Fault::Drop))
        .start()
        .unwrap();
    run(&mut chats(&mock, "list", &["--max-attempts", "3"])).fails(5);
    assert_eq!(mock.requests().len(), 3);
}

#[test]
fn bad_responses_exit_6() {
    let mock = MockServer::builder()
        .faults(FaultPlan::new().on_request(
            0,
            Fault::Oversized {
                bytes: 64 * 1024 * 1024,
            },
        ))
        .start()
        .unwrap();
    let line = run(&mut chats(&mock, "list", &[])).fails(6).to_owned();
    assert!(line.contains("larger than"), "{line}");

    // A server whose 200 is not a page.
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    let serve = std::thread::spawn(move || {
        let (mut stream, _) = server.accept().unwrap();
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
            request.push(byte[0]);
        }
        let body = b"<html>maintenance</html>";
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .unwrap();
        stream.write_all(body).unwrap();
    });
    let mut cmd = giosg(["chats", "list", "--max-attempts", "1"]);
    let mut args = api_args(&mock);
    args[3] = base;
    cmd.args(args).env("GIOSG_API_TOKEN", "t");
    let line = run(&mut cmd).fails(6).to_owned();
    assert!(line.contains("bad response"), "{line}");
    serve.join().unwrap();
}

#[test]
fn local_failures_exit_1() {
    let mock = mock(23, 3);
    let dir = temp_dir("local");
    let mut cmd = chats(&mock, "export", &["--out"]);
    cmd.arg(dir.join("no/such/dir/chats.jsonl"));
    run(&mut cmd).fails(1);
}

#[test]
fn a_reader_that_goes_away_ends_the_listing_quietly() {
    use std::io::BufRead;
    let mock = mock(24, 2000);
    let mut child = chats(&mock, "list", &["--page-size", "100"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped here, like `giosg chats list | head -1`.
    assert!(first.starts_with("{\"id\":"));
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

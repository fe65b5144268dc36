//! `giosg chats export` resumes: after a complete run, after new chats arrive, after a torn
//! write, and after a kill at random points, the file holds every chat exactly once.

use crate::common::{chats, ids, jsonl, mock, run, temp_dir};
use giosg_mock::{FaultPlan, MockServer};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The export formats, as flags.
const FORMATS: [(&str, &[&str]); 3] = [
    ("jsonl", &["--format", "jsonl"]),
    ("csv", &["--format", "csv"]),
    ("csv-logs", &["--format", "csv", "--csv-logs"]),
];

fn export(mock: &MockServer, args: &[&str], file: &Path) -> Command {
    let mut cmd = chats(mock, "export", args);
    cmd.args(["--page-size", "20", "--out"]).arg(file);
    cmd
}

#[test]
fn a_rerun_appends_only_new_chats() {
    let mock = mock(41, 50);
    let dir = temp_dir("incremental");
    let file = dir.join("chats.jsonl");
    run(&mut export(&mock, &[], &file)).ok();
    let first = std::fs::read_to_string(&file).unwrap();
    let last = mock.chats().last().unwrap().id;

    mock.clear_requests();
    let again = run(&mut export(&mock, &[], &file));
    again.ok();
    assert_eq!(
        again.stderr.trim(),
        format!(
            "giosg: exported 0 new chats to {} (resumed after chat {last})",
            file.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), first);
    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].query_value("since_id"),
        Some(last.to_string().as_str())
    );

    let start = mock.chats().last().unwrap().start_time.unwrap() + chrono::TimeDelta::hours(1);
    let mut generator = giosg_mock::Generator::new(99, start);
    mock.push_chats((0..7).map(|_| generator.chat()).collect());
    let more = run(&mut export(&mock, &[], &file));
    assert!(more.ok().is_empty());
    assert!(
        more.stderr.contains("exported 7 new chats"),
        "{}",
        more.stderr
    );
    let all = jsonl(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(ids(&all), ids(&mock.chats()));
}

#[test]
fn since_id_starts_a_new_file_after_that_chat() {
    let mock = mock(42, 30);
    let all = mock.chats();
    let dir = temp_dir("since");
    let file = dir.join("chats.jsonl");
    let since = all[9].id.to_string();
    run(&mut export(&mock, &["--since-id", &since], &file)).ok();
    let exported = jsonl(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(ids(&exported), ids(&all[10..]));
}

#[test]
fn a_torn_last_line_is_cut_and_written_again() {
    let mock = mock(43, 40);
    let dir = temp_dir("torn");
    for (name, args) in FORMATS {
        let reference = dir.join(format!("reference-{name}"));
        run(&mut export(&mock, args, &reference)).ok();
        let expected = std::fs::read(&reference).unwrap();
        // Everything up to some line, then half of the next one.
        let cut = expected.len() / 2;
        let file = dir.join(name);
        std::fs::write(&file, &expected[..cut]).unwrap();
        let out = run(&mut export(&mock, args, &file));
        out.ok();
        assert!(
            out.stderr.contains("cut an incomplete tail"),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("resumed after chat"), "{}", out.stderr);
        assert_eq!(std::fs::read(&file).unwrap(), expected, "{name}");
    }
}

/// Starts an export and kills it (SIGKILL) once it has reported `after` chats written, or
/// when it ends first. The export is paced by the mock's latency and by this reader: it
/// blocks when nobody reads its log.
fn kill_after(mut cmd: Command, after: usize) {
    let mut child = cmd
        .env("RUST_LOG", "giosg::export=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("giosg starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let mut written = 0;
    let mut lines = BufReader::new(stderr).lines();
    while written < after {
        match lines.next() {
            Some(Ok(line)) => written += usize::from(line.contains("chat written")),
            _ => break,
        }
    }
    let _ = child.kill();
    child.wait().expect("the export ends");
}

#[test]
fn killed_at_random_points_and_rerun_the_file_holds_every_chat_once() {
    let mock = MockServer::builder()
        .generated(44, 240)
        .faults(FaultPlan::new().latency(Duration::from_millis(1)))
        .start()
        .unwrap();
    let dir = temp_dir("kill");
    let mut rng = fastrand::Rng::with_seed(44);
    let (mut kills, mut midway) = (0, 0);
    for (name, args) in FORMATS {
        let reference = dir.join(format!("reference-{name}"));
        run(&mut export(&mock, args, &reference)).ok();
        let expected = std::fs::read(&reference).unwrap();
        for round in 0..8 {
            let file = dir.join(format!("{name}-{round}"));
            for _ in 0..rng.usize(1..=4) {
                kill_after(export(&mock, args, &file), rng.usize(0..260));
                kills += 1;
                let now = std::fs::read(&file).unwrap_or_default();
                midway += usize::from(now.len() < expected.len());
                assert!(
                    expected.starts_with(&now),
                    "{name} round {round}: the file is a prefix of the full export"
                );
                if rng.bool() && now.len() < expected.len() {
                    // A torn write: part of what comes next, without its end.
                    let torn = rng.usize(1..=(expected.len() - now.len()).min(400));
                    let mut with_tail = now.clone();
                    with_tail.extend_from_slice(&expected[now.len()..now.len() + torn]);
                    std::fs::write(&file, with_tail).unwrap();
                }
            }
            run(&mut export(&mock, args, &file)).ok();
            assert_eq!(
                std::fs::read(&file).unwrap(),
                expected,
                "{name} round {round}: every chat exactly once, no torn line"
            );
        }
    }
    eprintln!("{kills} kills, {midway} mid-way");
    assert!(kills >= 24);
}

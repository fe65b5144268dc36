//! `giosg demo` runs on its own: no token, loopback only.

use crate::common::{giosg, run, temp_dir};

#[test]
fn the_demo_lists_summarises_and_exports() {
    let dir = temp_dir("demo");
    let file = dir.join("demo.jsonl");
    let mut cmd = giosg(["demo", "--out"]);
    cmd.arg(&file);
    let out = run(&mut cmd);
    let text = out.ok();
    for expected in [
        "at http://127.0.0.1:",
        "$ giosg chats list --org",
        "START (UTC)",
        "$ giosg chats summary --org",
        "chats per day (UTC)",
        "exported 500 new chats to",
        "exported 5 new chats to",
        "now holds 505 chats",
        "$ giosg chats sync --org",
        "synced 505 chats: 505 new",
        "$ sqlite3 ",
        "SELECT date(start_time) AS day",
        "export GIOSG_API_TOKEN=",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
    let lines = std::fs::read_to_string(&file).unwrap().lines().count();
    assert_eq!(lines, 505);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    // Five rows of `day|chats` after the query.
    let answer = text.split("LIMIT 5\"").nth(1).expect("the query's answer");
    let rows: Vec<&str> = answer
        .lines()
        .filter(|l| l.len() > 11 && l.as_bytes()[10] == b'|')
        .collect();
    assert_eq!(rows.len(), 5, "{answer}");
}

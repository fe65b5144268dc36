//! `giosg chats export` resumes: after a complete run, after new chats arrive, after a torn
//! write, and after a kill at random points, the file holds every chat exactly once.

use crate::common::{chats, ids, jsonl, mock, recent_chats, run, temp_dir};
use giosg_mock::MockServer;
use std::path::Path;
use std::process::{Command, Stdio};

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
    // Every chat has ended: none is read again for being open.
    let mut all = giosg_mock::generate(41, 50);
    for c in &mut all {
        c.end_time = c.end_time.or(c.start_time);
    }
    let mock = MockServer::builder().chats(all).start().unwrap();
    let dir = temp_dir("incremental");
    let file = dir.join("chats.jsonl");
    run(&mut export(&mock, &[], &file)).ok();
    let first = std::fs::read_to_string(&file).unwrap();
    let last = mock.chats().last().unwrap().start_time.unwrap();

    mock.clear_requests();
    let again = run(&mut export(&mock, &[], &file));
    again.ok();
    assert_eq!(
        again.stderr.trim(),
        format!(
            "giosg: exported 0 new chats to {} (resumed where the last run stopped)",
            file.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), first);
    // The finished listing goes on from its last chat's start time: one request, and one for
    // the window of chats without a start time.
    let requests = mock.requests();
    assert!(requests.len() <= 2, "{requests:?}");
    let from = giosg_async::time::format(&last);
    assert!(requests
        .iter()
        .any(|r| r.query_value("start_time") == Some(from.as_str())));

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
    assert_eq!(sorted(ids(&all)), sorted(ids(&mock.chats())));
}

#[test]
fn a_rerun_appends_the_newer_version_of_each_chat_that_changed() {
    for (name, format) in FORMATS {
        // Recent chats, three of them still going on.
        let mut chats0 = recent_chats(43, 40);
        for c in &mut chats0 {
            c.end_time = c.end_time.or(c.start_time);
        }
        for c in chats0.iter_mut().rev().take(3) {
            c.end_time = None;
        }
        let mock = MockServer::builder().chats(chats0.clone()).start().unwrap();
        let dir = temp_dir(&format!("follow-{name}"));
        let file = dir.join("chats.out");
        run(&mut export(&mock, format, &file)).ok();

        // One open chat ends with one more message, a chat that had ended gets a tag, one
        // new chat comes.
        let mut ended = chats0[38].clone();
        ended.end_time = ended.start_time;
        ended.logs.push(giosg_async::ChatLog::new());
        let mut tagged = chats0[5].clone();
        tagged.tags.push(giosg_async::Tag::new("Followed up"));
        let last = chats0.last().unwrap().start_time.unwrap();
        let new = giosg_mock::Generator::new(7, last + chrono::TimeDelta::minutes(1)).chat();
        mock.push_chats(vec![ended.clone(), tagged.clone(), new.clone()]);

        let before = std::fs::read(&file).unwrap();
        let out = run(&mut export(&mock, format, &file));
        out.ok();
        // A row per message has no tags: there, the tagged chat's records did not change.
        let updated = if name == "csv-logs" { 1 } else { 2 };
        assert!(
            out.stderr
                .contains(&format!("exported 1 new chat and {updated} updated")),
            "{name}: {}",
            out.stderr
        );
        // Appended only: the first run's records stay as they were.
        let after = std::fs::read(&file).unwrap();
        assert_eq!(&after[..before.len()], &before[..], "{name}");
        // The last record of each id is the chat as the server has it now.
        if name == "jsonl" {
            let mut newest = std::collections::BTreeMap::new();
            for chat in jsonl(&String::from_utf8(after.clone()).unwrap()) {
                newest.insert(chat.id, chat);
            }
            let served: std::collections::BTreeMap<_, _> =
                mock.chats().into_iter().map(|c| (c.id, c)).collect();
            assert_eq!(newest, served);
        }

        // Nothing changed since: a rerun appends nothing.
        let again = run(&mut export(&mock, format, &file));
        again.ok();
        assert!(
            again.stderr.contains("exported 0 new chats to"),
            "{name}: {}",
            again.stderr
        );
        assert_eq!(std::fs::read(&file).unwrap(), after, "{name}");
    }
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// A file's records (lines of JSON, or CSV records with their fields), sorted: two exports
/// hold the same chats exactly once each when these are equal.
fn records(bytes: &[u8], csv: bool) -> Vec<Vec<String>> {
    let records: Vec<Vec<String>> = if csv {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes)
            .records()
            .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
            .collect()
    } else {
        String::from_utf8(bytes.to_vec())
            .expect("UTF-8")
            .lines()
            .map(|l| vec![l.to_owned()])
            .collect()
    };
    sorted(records)
}

/// The complete records of a file, as for [`records`], with its first line (a CSV header)
/// first whatever its order.
fn same_chats(got: &[u8], expected: &[u8], csv: bool, context: &str) {
    assert!(got.ends_with(b"\n"), "{context}: no torn line");
    if csv {
        let header = |b: &[u8]| b.split(|&c| c == b'\n').next().map(<[u8]>::to_vec);
        assert_eq!(header(got), header(expected), "{context}: the header first");
    }
    assert_eq!(
        records(got, csv),
        records(expected, csv),
        "{context}: every chat exactly once"
    );
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
    assert_eq!(sorted(ids(&exported)), sorted(ids(&all[10..])));
}

#[test]
fn a_torn_last_line_is_cut_and_written_again() {
    let mock = mock(43, 40);
    let dir = temp_dir("torn");
    for (name, args) in FORMATS {
        let reference = dir.join(format!("reference-{name}"));
        run(&mut export(&mock, args, &reference)).ok();
        let expected = std::fs::read(&reference).unwrap();

        // Past what the state accounts for: half a line, cut and not written again.
        let file = dir.join(name);
        let mut torn = expected.clone();
        let line = expected.split(|&b| b == b'\n').nth(1).unwrap();
        torn.extend_from_slice(&line[..line.len() / 2]);
        std::fs::write(&file, &torn).unwrap();
        let mut state = reference.clone().into_os_string();
        state.push(".giosg-state");
        let mut copy = file.clone().into_os_string();
        copy.push(".giosg-state");
        std::fs::copy(&state, &copy).unwrap();
        let out = run(&mut export(&mock, args, &file));
        out.ok();
        assert!(
            out.stderr.contains("cut an incomplete tail"),
            "{}",
            out.stderr
        );
        assert_eq!(std::fs::read(&file).unwrap(), expected, "{name}");

        // A file that is not an export of giosg's (no state beside it) is refused untouched.
        let foreign = dir.join(format!("foreign-{name}"));
        std::fs::write(&foreign, b"precious data, no newline").unwrap();
        let out = run(&mut export(&mock, args, &foreign));
        out.fails(2);
        assert!(out.stderr.contains("not an export"), "{}", out.stderr);
        assert_eq!(
            std::fs::read(&foreign).unwrap(),
            b"precious data, no newline"
        );
    }
}

/// Starts an export and kills it (SIGKILL) while the mock holds its answer after `answered`
/// more: the kill lands at that point of the listing, whatever the machine's speed.
fn kill_at(mock: &MockServer, mut cmd: Command, answered: u64) {
    mock.hold_from(answered);
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("giosg starts");
    mock.wait_until_held();
    child.kill().expect("the export was still running");
    child.wait().expect("the export ends");
    mock.release();
}

#[test]
fn killed_at_random_points_and_rerun_the_file_holds_every_chat_once() {
    let mock = mock(44, 240);
    let dir = temp_dir("kill");
    let mut rng = fastrand::Rng::with_seed(44);
    for (name, args) in FORMATS {
        let csv = name != "jsonl";
        let reference = dir.join(format!("reference-{name}"));
        run(&mut export(&mock, args, &reference)).ok();
        let expected = std::fs::read(&reference).unwrap();
        let lines: Vec<&[u8]> = expected.split(|&b| b == b'\n').collect();
        for round in 0..6 {
            let file = dir.join(format!("{name}-{round}"));
            for kill in 0..rng.usize(1..=3) {
                // 240 chats in pages of 20: at most 12 answers, and the kill comes before.
                kill_at(&mock, export(&mock, args, &file), rng.u64(0..8));
                let now = std::fs::read(&file).unwrap_or_default();
                let context = format!("{name} round {round} kill {kill}");
                assert!(now.len() < expected.len(), "{context}: killed mid-run");
                if !csv {
                    // Every complete line is a chat of the full export, once.
                    let complete =
                        &now[..now.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)];
                    let mut got = records(complete, false);
                    let n = got.len();
                    got.dedup();
                    assert_eq!(got.len(), n, "{context}: no chat twice");
                    let all = records(&expected, false);
                    assert!(got.iter().all(|r| all.binary_search(r).is_ok()));
                }
                if rng.bool() {
                    // A torn write: part of a line, without its end.
                    let line = lines[rng.usize(1..lines.len() - 1)];
                    let mut with_tail = now.clone();
                    with_tail.extend_from_slice(&line[..rng.usize(1..line.len())]);
                    std::fs::write(&file, with_tail).unwrap();
                }
            }
            run(&mut export(&mock, args, &file)).ok();
            let context = format!("{name} round {round}");
            same_chats(&std::fs::read(&file).unwrap(), &expected, csv, &context);
        }
    }
}

#[test]
fn a_rerun_with_other_filters_or_format_is_refused_and_the_file_kept() {
    let mock = mock(45, 30);
    let dir = temp_dir("other-options");
    let file = dir.join("chats.jsonl");
    run(&mut export(&mock, &["--tag", "Premium"], &file)).ok();
    let before = std::fs::read(&file).unwrap();
    for args in [
        &["--tag", "Other"][..],
        &[][..],
        &["--tag", "Premium", "--ordering", "end_time"][..],
        &["--tag", "Premium", "--format", "csv"][..],
    ] {
        mock.clear_requests();
        let out = run(&mut export(&mock, args, &file));
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("was started with other options")
                || out.stderr.contains("cannot be resumed"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(mock.requests().is_empty(), "{args:?}: nothing sent");
        assert_eq!(
            std::fs::read(&file).unwrap(),
            before,
            "{args:?}: the file is untouched"
        );
    }
    // A different page size or concurrency lists the same chats: allowed.
    let out = run(&mut export(
        &mock,
        &["--tag", "Premium", "--concurrency", "1"],
        &file,
    ));
    out.ok();
}

#[test]
fn a_descending_export_is_refused() {
    let mock = mock(46, 5);
    let dir = temp_dir("descending");
    let file = dir.join("chats.jsonl");
    let out = run(&mut export(&mock, &["--ordering", "-start_time"], &file));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("ascending"), "{}", out.stderr);
    assert!(mock.requests().is_empty());
}

#[test]
fn members_the_model_does_not_know_reach_the_export() {
    let mut chats = giosg_mock::generate(47, 12);
    for chat in &mut chats {
        chat.extra
            .insert("is_encrypted".into(), serde_json::json!(false));
        chat.extra.insert(
            "brand_new_field".into(),
            serde_json::json!({"nested": [1, 2.5, "x"]}),
        );
        for log in &mut chat.logs {
            log.extra.insert("extra".into(), serde_json::json!("kept"));
        }
    }
    let mock = MockServer::builder().chats(chats).start().unwrap();
    let dir = temp_dir("unknown-members");
    let file = dir.join("chats.jsonl");
    run(&mut export(&mock, &[], &file)).ok();
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 12);
    for line in &lines {
        assert_eq!(line["is_encrypted"], serde_json::json!(false));
        assert_eq!(
            line["brand_new_field"],
            serde_json::json!({"nested": [1, 2.5, "x"]})
        );
        for log in line["logs"].as_array().unwrap() {
            assert_eq!(log["extra"], "kept");
        }
    }
}

#[test]
fn csv_raw_is_part_of_what_a_file_was_started_with() {
    let mock = mock(45, 30);
    let dir = temp_dir("csv-raw");
    let file = dir.join("chats.csv");
    run(&mut export(&mock, &["--format", "csv", "--csv-raw"], &file)).ok();
    let before = std::fs::read(&file).unwrap();
    let out = run(&mut export(&mock, &["--format", "csv"], &file));
    let line = out.fails(2);
    assert!(line.contains("csv-raw"), "{line}");
    assert_eq!(std::fs::read(&file).unwrap(), before);
    run(&mut export(&mock, &["--format", "csv", "--csv-raw"], &file)).ok();
    run(&mut export(&mock, &["--csv-raw"], &dir.join("x.jsonl"))).fails(2);
}

#[test]
fn a_csv_file_name_means_csv() {
    let mock = mock(46, 20);
    let dir = temp_dir("csv-name");
    let file = dir.join("chats.csv");
    let mut cmd = chats(&mock, "export", &[]);
    cmd.arg("--out").arg(&file);
    run(&mut cmd).ok();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("id,start_time,"), "{text}");
    let mut cmd = chats(&mock, "export", &["--format", "jsonl"]);
    cmd.arg("--out").arg(dir.join("other.csv"));
    run(&mut cmd).fails(2);
}

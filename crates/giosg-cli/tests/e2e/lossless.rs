//! Chats deleted while listing, and envelopes that contradict themselves: `list`, `export` and
//! `summary` deliver every chat that survived exactly once, exit 0, and say on stderr what did
//! not add up.

use crate::common::{chats, ids, jsonl, run, temp_dir};
use giosg_async::Chat;
use giosg_mock::{Fault, FaultPlan, MockServer};
use std::collections::HashSet;

/// 300 chats; the oldest 30 go after requests 1, 5, 9 and 13. The first deletion takes 30
/// chats when at most 20 were served (requests 0 and 1, 10 chats each): some chats are always
/// deleted before they could be delivered, whatever order concurrent requests arrive in.
fn retention_mock(seed: u64) -> MockServer {
    MockServer::builder()
        .generated(seed, 300)
        .faults(FaultPlan::new().on_requests([1, 5, 9, 13], Fault::DeleteOldest { chats: 30 }))
        .start()
        .unwrap()
}

/// Asserts `got` (ids) holds no id twice, every id of `after`, and only ids of `before`.
fn assert_survivors_once(got: &[String], before: &[Chat], after: &[Chat], context: &str) {
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "{context}: a chat came twice");
    let before: HashSet<String> = ids(before).into_iter().collect();
    assert!(
        got.iter().all(|id| before.contains(id)),
        "{context}: a chat that never existed"
    );
    let missing: Vec<String> = ids(after)
        .into_iter()
        .filter(|id| !unique.contains(id))
        .collect();
    assert!(missing.is_empty(), "{context}: survivors lost: {missing:?}");
}

/// The shortfall warning for a listing that counted `expected` chats and delivered `got`.
fn shortfall_line(expected: usize, got: usize) -> String {
    format!(
        "giosg: warning: the server counted {expected} matching chats when the listing started, but {got} were received ({} fewer)",
        expected - got
    )
}

#[test]
fn list_under_retention_prints_every_survivor_once_and_warns() {
    let mock = retention_mock(60);
    let before = mock.chats();
    let out = run(&mut chats(
        &mock,
        "list",
        &["--page-size", "10", "--concurrency", "4"],
    ));
    let listed = jsonl(out.ok());
    let after = mock.chats();
    assert_eq!(after.len(), 180);
    assert_survivors_once(&ids(&listed), &before, &after, "list");
    // In the listing's order.
    let position: std::collections::HashMap<_, _> =
        before.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    assert!(
        listed
            .windows(2)
            .all(|w| position[&w[0].id] < position[&w[1].id]),
        "list: out of order"
    );
    assert!(listed.len() < before.len());
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with(&shortfall_line(300, listed.len()))),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .lines()
            .all(|l| l.starts_with("giosg: warning: ")),
        "{}",
        out.stderr
    );
}

#[test]
fn export_under_retention_writes_every_survivor_once_and_warns() {
    let mock = retention_mock(61);
    let before = mock.chats();
    let file = temp_dir("lossless-export").join("chats.jsonl");
    let mut cmd = chats(
        &mock,
        "export",
        &["--page-size", "10", "--concurrency", "4", "--out"],
    );
    cmd.arg(&file);
    let out = run(&mut cmd);
    out.ok();
    let mut exported = ids(&jsonl(&std::fs::read_to_string(&file).unwrap()));
    // The export is unordered: compare sorted ids.
    exported.sort();
    let after = mock.chats();
    assert_eq!(after.len(), 180);
    assert_survivors_once(&exported, &before, &after, "export");
    let mut survivors = ids(&after);
    survivors.sort();
    let delivered_survivors: Vec<String> = exported
        .iter()
        .filter(|id| survivors.binary_search(id).is_ok())
        .cloned()
        .collect();
    assert_eq!(delivered_survivors, survivors);
    assert!(exported.len() < before.len());
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with(&shortfall_line(300, exported.len()))),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "giosg: exported {} new chats to {}",
            exported.len(),
            file.display()
        )),
        "{}",
        out.stderr
    );
}

/// The `chats` figure of a summary.
fn summary_count(stdout: &str) -> usize {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("chats "))
        .unwrap_or_else(|| panic!("no chats line: {stdout}"));
    line["chats".len()..].trim().parse().unwrap()
}

#[test]
fn summary_under_retention_counts_every_survivor_once_and_warns() {
    // Only request 0 deletes: chats 10 to 29 go before any other request, so exactly 280
    // chats can be delivered (the first 10, and the 270 that survive).
    let mock = MockServer::builder()
        .generated(62, 300)
        .faults(FaultPlan::new().on_request(0, Fault::DeleteOldest { chats: 30 }))
        .start()
        .unwrap();
    let out = run(&mut chats(
        &mock,
        "summary",
        &["--page-size", "10", "--concurrency", "4"],
    ));
    assert_eq!(summary_count(out.ok()), 280, "{}", out.stdout);
    assert!(
        out.stderr.contains(&shortfall_line(300, 280)),
        "{}",
        out.stderr
    );

    // Deletions on several requests: every survivor, and no more than there were.
    let mock = retention_mock(63);
    let out = run(&mut chats(
        &mock,
        "summary",
        &["--page-size", "10", "--concurrency", "4"],
    ));
    let counted = summary_count(out.ok());
    assert!((180..300).contains(&counted), "{}", out.stdout);
    assert!(
        out.stderr.contains(&shortfall_line(300, counted)),
        "{}",
        out.stderr
    );
}

#[test]
fn no_next_page_on_page_two_lists_every_chat_and_warns() {
    for concurrency in [1, 4] {
        // 6 pages of 10. Page 2 is request 1 when requests go one at a time; with 4 at once,
        // it is one of the up to 4 requests sent together after the first answer (arriving
        // in any order), so all of those get the fault.
        let page_two = if concurrency == 1 { 1..2 } else { 1..5 };
        let mock = MockServer::builder()
            .generated(64, 60)
            .faults(FaultPlan::new().on_requests(page_two, Fault::NoNextPage))
            .start()
            .unwrap();
        let out = run(&mut chats(
            &mock,
            "list",
            &[
                "--page-size",
                "10",
                "--concurrency",
                &concurrency.to_string(),
            ],
        ));
        assert_eq!(ids(&jsonl(out.ok())), ids(&mock.chats()), "{concurrency}");
        assert!(
            out.stderr
                .lines()
                .any(|l| l.starts_with("giosg: warning: ")),
            "concurrency {concurrency}: {}",
            out.stderr
        );
    }
}

#[test]
fn a_limit_makes_only_the_requests_it_needs() {
    let mock = MockServer::builder().generated(65, 100).start().unwrap();
    let out = run(&mut chats(
        &mock,
        "list",
        &["--limit", "30", "--page-size", "25"],
    ));
    assert_eq!(ids(&jsonl(out.ok())), ids(&mock.chats()[..30]));
    assert_eq!(mock.requests().len(), 2, "{:?}", mock.requests());
    assert_eq!(out.stderr, "");
}

/// Every other fault of the mock's that used to lose or repeat chats, for `list` and `export`:
/// exit 0, every chat that existed throughout exactly once, none that never existed.
#[test]
fn list_and_export_under_every_listing_fault_deliver_every_chat_once() {
    let faults: [(&str, Vec<u64>, Fault); 6] = [
        (
            "cursor deleted after its page",
            vec![1, 4, 7],
            Fault::DeleteLast,
        ),
        (
            "cursor deleted before its request",
            vec![2, 5, 8],
            Fault::DeleteCursor,
        ),
        ("short page", vec![2, 3, 6], Fault::ShortPage),
        ("count off", vec![1, 2, 3, 4, 5], Fault::CountOffset(7)),
        ("since_id ignored", vec![1, 3, 4, 8], Fault::IgnoreSinceId),
        (
            "chats inserted",
            vec![1, 3, 5, 7],
            Fault::Insert { chats: 20 },
        ),
    ];
    let dir = temp_dir("every-fault");
    for (i, (name, requests, fault)) in faults.into_iter().enumerate() {
        for command in ["list", "export"] {
            let mock = MockServer::builder()
                .generated(70 + i as u64, 120)
                .faults(FaultPlan::new().on_requests(requests.clone(), fault.clone()))
                .start()
                .unwrap();
            let before = mock.chats();
            let listed = if command == "list" {
                let out = run(&mut chats(
                    &mock,
                    "list",
                    &["--page-size", "10", "--concurrency", "4"],
                ));
                jsonl(out.ok())
            } else {
                let file = dir.join(format!("{i}.jsonl"));
                let mut cmd = chats(&mock, "export", &["--page-size", "10", "--out"]);
                cmd.arg(&file);
                run(&mut cmd).ok();
                jsonl(&std::fs::read_to_string(&file).unwrap())
            };
            let after = mock.chats();
            let now: HashSet<_> = after.iter().map(|c| c.id).collect();
            let throughout: Vec<Chat> = before
                .iter()
                .filter(|c| now.contains(&c.id))
                .cloned()
                .collect();
            let ever: Vec<Chat> = before.iter().chain(after.iter()).cloned().collect();
            assert_survivors_once(
                &ids(&listed),
                &ever,
                &throughout,
                &format!("{command}, {name}"),
            );
        }
    }
}

//! Faults on the wire: retried requests give every chat exactly once, and the token never
//! follows a `next_page_url` to another origin.

use crate::common::{chats, ids, jsonl, mock, run, temp_dir};
use giosg_mock::{Fault, FaultPlan, MockServer};

fn scripted() -> FaultPlan {
    FaultPlan::new()
        .on_request(0, Fault::status(503))
        .on_request(1, Fault::Drop)
        .on_request(3, Fault::Truncate)
        .on_request(4, Fault::too_many_requests(Some("0")))
        .on_request(6, Fault::status(502))
        .on_request(7, Fault::Drop)
        .on_request(8, Fault::status(504))
}

#[test]
fn list_retries_and_prints_every_chat_once() {
    for concurrency in ["1", "3"] {
        let mock = MockServer::builder()
            .generated(30, 47)
            .faults(scripted())
            .start()
            .unwrap();
        let out = run(&mut chats(
            &mock,
            "list",
            &["--page-size", "10", "--concurrency", concurrency],
        ));
        assert_eq!(ids(&jsonl(out.ok())), ids(&mock.chats()));
        assert!(mock.requests().iter().filter(|r| r.fault.is_some()).count() >= 5);
    }
}

#[test]
fn random_faults_never_duplicate_or_lose_a_chat() {
    let kinds = vec![
        Fault::status(503),
        Fault::status(500),
        Fault::Drop,
        Fault::Truncate,
        Fault::too_many_requests(Some("0")),
    ];
    let dir = temp_dir("random-faults");
    for seed in 0..4 {
        let mock = MockServer::builder()
            .generated(31 + seed, 120)
            .faults(FaultPlan::new().random(seed, 0.3, kinds.clone()))
            .start()
            .unwrap();
        let expected = ids(&mock.chats());
        let out = run(&mut chats(
            &mock,
            "list",
            &[
                "--page-size",
                "10",
                "--concurrency",
                "4",
                "--max-attempts",
                "12",
            ],
        ));
        assert_eq!(ids(&jsonl(out.ok())), expected, "list, seed {seed}");

        let file = dir.join(format!("{seed}.jsonl"));
        let mut cmd = chats(
            &mock,
            "export",
            &["--page-size", "10", "--max-attempts", "12", "--out"],
        );
        cmd.arg(&file);
        run(&mut cmd).ok();
        let mut exported = ids(&jsonl(&std::fs::read_to_string(&file).unwrap()));
        exported.sort();
        let mut expected = expected;
        expected.sort();
        assert_eq!(exported, expected, "export, seed {seed}");
    }
}

#[test]
fn page_drift_never_repeats_a_chat() {
    let mock = MockServer::builder()
        .generated(32, 60)
        .faults(FaultPlan::new().on_requests([0, 2], Fault::Drift { new_chats: 3 }))
        .start()
        .unwrap();
    let original = ids(&mock.chats());
    let out = run(&mut chats(
        &mock,
        "list",
        &["--page-size", "10", "--concurrency", "1"],
    ));
    let listed = ids(&jsonl(out.ok()));
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), listed.len(), "no chat twice");
    assert!(
        original.iter().all(|id| listed.contains(id)),
        "no chat lost"
    );
}

#[test]
fn a_foreign_next_page_url_never_gets_the_token() {
    let foreign = mock(33, 1);
    let mock = MockServer::builder()
        .generated(34, 35)
        .faults(FaultPlan::new().on_requests(0..10, Fault::ForeignNextPageUrl(foreign.base_url())))
        .start()
        .unwrap();
    let out = run(&mut chats(
        &mock,
        "list",
        &["--page-size", "10", "--concurrency", "1"],
    ));
    assert_eq!(ids(&jsonl(out.ok())), ids(&mock.chats()));
    assert!(foreign.requests().is_empty(), "{:?}", foreign.requests());
    let requests = mock.requests();
    assert_eq!(requests.len(), 4);
    assert!(requests
        .iter()
        .all(|r| r.header("authorization") == Some("Token ***")));
}

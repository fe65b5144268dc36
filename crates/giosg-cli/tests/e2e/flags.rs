//! Every flag reaches the server as its API parameter, and the output follows it.

use crate::common::{chats, ids, jsonl, mock, run, temp_dir};
use giosg_async::time::parse;

#[test]
fn every_filter_flag_becomes_its_query_parameter() {
    let mock = mock(11, 200);
    let all = mock.chats();
    let since = all[3].id.to_string();
    let room = all[0].room_id.unwrap().to_string();
    let out = run(&mut chats(
        &mock,
        "list",
        &[
            "--ordering",
            "end_time,start_time",
            "--page-size",
            "7",
            "--since-id",
            &since,
            "--start-time",
            "2025-01-01T02:00:00+02:00",
            "--end-time",
            "2025-03-01",
            "--has-sales",
            "false",
            "--is-real-conversation",
            "true",
            "--room-id",
            &room,
            "--tag",
            "VIP & friends",
            "--min-message-count",
            "2",
            "--only-ended",
            "--format",
            "jsonl",
        ],
    ));
    let listed = jsonl(out.ok());
    let first = &mock.requests()[0];
    let expect = [
        ("ordering", "end_time,start_time"),
        ("page", "1"),
        ("page_size", "7"),
        ("since_id", since.as_str()),
        ("start_time", "2025-01-01T00:00:00.000Z"),
        ("end_time", "2025-03-01T00:00:00.000Z"),
        ("has_sales", "false"),
        ("is_real_conversation", "true"),
        ("room_id", room.as_str()),
        ("tag", "VIP & friends"),
        ("min_message_count", "2"),
        ("only_ended", "true"),
    ];
    for (name, value) in expect {
        assert_eq!(first.query_value(name), Some(value), "{name} in {first:?}");
    }
    assert_eq!(first.header("authorization"), Some("Token ***"));
    // Every chat listed matches every filter, in ascending end order.
    let start = parse("2025-01-01T00:00:00Z").unwrap();
    for chat in &listed {
        assert!(!chat.has_sales() && chat.is_real_conversation == Some(true));
        assert!(chat.has_tag("VIP & friends") && chat.message_count >= Some(2));
        assert_eq!(chat.room_id.map(|r| r.to_string()), Some(room.clone()));
        assert!(chat.is_ended() && chat.start_time.unwrap() >= start);
    }
    assert!(listed.windows(2).all(|w| w[0].end_time <= w[1].end_time));
}

#[test]
fn since_id_with_a_descending_ordering_is_refused_before_any_request() {
    let mock = mock(11, 20);
    let since = mock.chats()[3].id.to_string();
    let out = run(&mut chats(
        &mock,
        "list",
        &["--ordering", "-start_time", "--since-id", &since],
    ));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("--since-id needs an ascending --ordering"),
        "{}",
        out.stderr
    );
    assert!(mock.requests().is_empty());
}

#[test]
fn page_starts_the_listing_later_and_limit_stops_it() {
    let mock = mock(12, 40);
    let all = ids(&mock.chats());
    let out = run(&mut chats(
        &mock,
        "list",
        &["--page", "3", "--page-size", "5", "--concurrency", "1"],
    ));
    assert_eq!(ids(&jsonl(out.ok())), all[10..]);
    assert_eq!(mock.requests()[0].query_value("page"), Some("3"));

    mock.clear_requests();
    let out = run(&mut chats(
        &mock,
        "list",
        &["--limit", "7", "--page-size", "5", "--concurrency", "1"],
    ));
    assert_eq!(ids(&jsonl(out.ok())), all[..7]);
    assert_eq!(mock.requests().len(), 2, "no page fetched beyond the limit");
}

#[test]
fn concurrency_fetches_every_page_once_and_keeps_the_order() {
    let mock = mock(13, 63);
    let out = run(&mut chats(
        &mock,
        "list",
        &["--page-size", "5", "--concurrency", "4"],
    ));
    assert_eq!(ids(&jsonl(out.ok())), ids(&mock.chats()));
    let requests = mock.requests();
    // Keyset paging in start-time windows: never a page number past 1, several windows.
    assert!(requests.iter().all(|r| r.query_value("page") == Some("1")));
    let windows: std::collections::BTreeSet<_> = requests
        .iter()
        .filter(|r| r.query_value("since_id").is_none())
        .map(|r| r.query_value("start_time").map(str::to_owned))
        .collect();
    assert!(windows.len() > 1, "{requests:?}");
    // 13 pages' worth of chats, plus at most one boundary page per window.
    assert!(
        requests.len() <= 13 + windows.len(),
        "{} requests",
        requests.len()
    );
}

#[test]
fn bearer_and_token_file_set_the_authorization_header() {
    let mock = mock(14, 3);
    let dir = temp_dir("token-file");
    let file = dir.join("token");
    std::fs::write(&file, format!("{}\n", mock.token())).unwrap();
    let mut cmd = chats(&mock, "list", &["--bearer", "--token-file"]);
    cmd.arg(&file).env_remove("GIOSG_API_TOKEN");
    assert_eq!(jsonl(run(&mut cmd).ok()).len(), 3);
    let requests = mock.requests();
    assert_eq!(requests[0].header("authorization"), Some("Bearer ***"));
}

#[test]
fn summary_and_export_send_the_filters_too() {
    let mock = mock(15, 30);
    let dir = temp_dir("export-flags");
    let out = dir.join("chats.jsonl");
    let out_arg = out.to_str().unwrap();
    run(&mut chats(
        &mock,
        "summary",
        &[
            "--tag",
            "Premium",
            "--page-size",
            "9",
            "--ordering",
            "end_time",
        ],
    ))
    .ok();
    let first = &mock.requests()[0];
    assert_eq!(first.query_value("tag"), Some("Premium"));
    assert_eq!(first.query_value("page_size"), Some("9"));
    assert_eq!(first.query_value("ordering"), Some("end_time"));

    mock.clear_requests();
    run(&mut chats(
        &mock,
        "export",
        &["--out", out_arg, "--only-ended", "--ordering", "end_time"],
    ))
    .ok();
    let first = &mock.requests()[0];
    assert_eq!(first.query_value("only_ended"), Some("true"));
    assert_eq!(first.query_value("ordering"), Some("end_time"));
    assert_eq!(
        first.query_value("page_size"),
        Some("100"),
        "export pages by 100"
    );
    let exported = jsonl(&std::fs::read_to_string(&out).unwrap());
    assert!(!exported.is_empty() && exported.iter().all(|c| c.is_ended()));
}

#[test]
fn times_are_taken_as_a_person_writes_them_and_bad_dates_are_named() {
    let mock = crate::common::mock(47, 10);
    for given in [
        "2025-01-02 10:00",
        "2025-01-02T10:00",
        "2025-01-02 10:00:00",
    ] {
        mock.clear_requests();
        crate::common::run(&mut crate::common::chats(
            &mock,
            "list",
            &["--start-time", given, "--limit", "1"],
        ))
        .ok();
        let sent = mock.requests();
        assert_eq!(
            sent[0].query_value("start_time"),
            Some("2025-01-02T10:00:00.000Z"),
            "{given}"
        );
    }
    for (given, says) in [
        ("2025-13-01", "no month 13"),
        ("2025-02-30", "has no day 30"),
    ] {
        let out = crate::common::run(&mut crate::common::chats(
            &mock,
            "list",
            &["--start-time", given],
        ));
        let line = out.fails(2);
        assert!(line.contains(says), "{line}");
    }
}

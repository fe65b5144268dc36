//! The conformance suite: every scenario runs on both clients (see `giosg_conformance`).

use giosg_blocking::UreqTransport;
use giosg_conformance::{assert_exactly, scenario, traced, Setup};
use giosg_mock::{Fault, FaultPlan, MockServer};
use giosg_model::{time, ChatFilter, OrderBy, SortField, Uuid};
use giosg_query::{
    decode_page, ApiErrorKind, Credentials, Endpoint, Error, PlanOptions, Planner, RetryPolicy,
    TransportErrorKind,
};
use giosg_transport::{FromSettings, Transport, TransportSettings};
use std::collections::HashSet;
use std::time::Duration;

fn mock(chats: usize) -> MockServer {
    MockServer::builder().generated(11, chats).start().unwrap()
}

fn mock_with(chats: usize, faults: FaultPlan) -> MockServer {
    MockServer::builder()
        .generated(11, chats)
        .faults(faults)
        .start()
        .unwrap()
}

scenario!(every_filter_reaches_the_server_encoded, |h| {
    let server = mock(60);
    let setup = Setup::for_mock(&server);
    let t = |s: &str| time::parse(s).unwrap();
    let since = server.chats()[5].id;
    let room = server.chats()[0].room_id.unwrap();
    // Each filter, and the parameters the server decodes from its first request, in order:
    // written out, so that a change in what the clients send fails here.
    let cases: [(ChatFilter, Vec<(&str, String)>); 11] = [
        (ChatFilter::new(), vec![("page", "1".into())]),
        (
            ChatFilter::new()
                .ordering(OrderBy::desc(SortField::EndTime).then_asc(SortField::StartTime)),
            vec![
                ("ordering", "-end_time,start_time".into()),
                ("page", "1".into()),
            ],
        ),
        (
            ChatFilter::new().page_size(7).page(2),
            vec![("page", "2".into()), ("page_size", "7".into())],
        ),
        (
            ChatFilter::new().since_id(since),
            vec![("page", "1".into()), ("since_id", since.to_string())],
        ),
        (
            ChatFilter::new()
                .start_time(t("2025-01-01T03:00:00+02:00"))
                .end_time(t("2025-01-02T00:00:00.5Z")),
            vec![
                ("page", "1".into()),
                ("start_time", "2025-01-01T01:00:00.000Z".into()),
                ("end_time", "2025-01-02T00:00:00.500Z".into()),
            ],
        ),
        (
            ChatFilter::new()
                .has_sales(true)
                .is_real_conversation(false),
            vec![
                ("page", "1".into()),
                ("has_sales", "true".into()),
                ("is_real_conversation", "false".into()),
            ],
        ),
        (
            ChatFilter::new().room_id(room),
            vec![("page", "1".into()), ("room_id", room.to_string())],
        ),
        (
            ChatFilter::new().tag("VIP & friends"),
            vec![("page", "1".into()), ("tag", "VIP & friends".into())],
        ),
        (
            ChatFilter::new().tag("päivä+1"),
            vec![("page", "1".into()), ("tag", "päivä+1".into())],
        ),
        (
            ChatFilter::new().tag("x&page_size=1000"),
            vec![("page", "1".into()), ("tag", "x&page_size=1000".into())],
        ),
        (
            ChatFilter::new().min_message_count(4).only_ended(true),
            vec![
                ("page", "1".into()),
                ("min_message_count", "4".into()),
                ("only_ended", "true".into()),
            ],
        ),
    ];
    for (filter, want) in cases {
        server.clear_requests();
        h.first_page(&setup, server.org(), &filter).unwrap();
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        let want: Vec<(String, String)> =
            want.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        assert_eq!(requests[0].query, want, "{}: {filter:?}", h.name());
        assert_eq!(requests[0].header("accept"), Some("application/json"));
        assert!(requests[0]
            .header("user-agent")
            .unwrap()
            .starts_with("giosg-rs/"));
    }
});

scenario!(every_page_size_lists_every_chat_once, |h| {
    let server = mock(1000);
    let all = server.chats();
    let setup = Setup::for_mock(&server);
    for size in 1..=100u32 {
        let got = h
            .list(&setup, server.org(), &ChatFilter::new().page_size(size))
            .unwrap();
        assert_exactly(&got, &all, &format!("{} page_size {size}", h.name()));
    }
    assert!(h.waits().is_empty());
});

scenario!(filters_select_what_the_server_selects, |h| {
    let server = mock(400);
    let setup = Setup::for_mock(&server);
    let filter = ChatFilter::new()
        .has_sales(true)
        .only_ended(true)
        .page_size(9);
    let want: Vec<_> = server
        .chats()
        .into_iter()
        .filter(|c| c.has_sales() && c.is_ended())
        .collect();
    assert!(want.len() > 10);
    let got = h.list(&setup, server.org(), &filter).unwrap();
    assert_exactly(&got, &want, h.name());
    let desc = h
        .list(
            &setup,
            server.org(),
            &ChatFilter::new().ordering(OrderBy::desc(SortField::StartTime)),
        )
        .unwrap();
    let mut asc = desc.clone();
    asc.reverse();
    assert_exactly(&asc, &server.chats(), "descending is the reverse");
});

scenario!(rate_limits_are_retried_honouring_retry_after, |h| {
    let plan = FaultPlan::new()
        .on_request(0, Fault::too_many_requests(Some("1")))
        .on_request(2, Fault::too_many_requests(None))
        .on_request(
            3,
            Fault::too_many_requests(Some("Thu, 01 Jan 1970 00:00:00 GMT")),
        );
    let server = mock_with(100, plan);
    let setup = Setup::for_mock(&server);
    let got = h
        .list(&setup, server.org(), &ChatFilter::new().page_size(30))
        .unwrap();
    assert_exactly(&got, &server.chats(), h.name());
    // Retry-After: 1 second; none: jittered backoff (jitter 0.5 of 1 ms); a past date: no wait.
    assert_eq!(
        h.waits(),
        vec![
            Duration::from_secs(1),
            Duration::from_micros(500),
            Duration::ZERO
        ]
    );
});

scenario!(server_error_bursts_are_survived, |h| {
    let plan = FaultPlan::new()
        .on_request(1, Fault::status(500))
        .on_request(2, Fault::status(502))
        .on_request(3, Fault::status(503))
        .on_request(4, Fault::status(504))
        .on_request(7, Fault::status(503));
    let server = mock_with(200, plan);
    let setup = Setup::for_mock(&server);
    let got = h
        .list(&setup, server.org(), &ChatFilter::new().page_size(50))
        .unwrap();
    assert_exactly(&got, &server.chats(), h.name());
    assert_eq!(h.waits().len(), 5);
});

scenario!(dropped_and_truncated_responses_are_retried, |h| {
    let plan = FaultPlan::new()
        .on_request(0, Fault::Drop)
        .on_request(2, Fault::Truncate)
        .on_request(3, Fault::Drop)
        .on_request(5, Fault::Truncate);
    let server = mock_with(150, plan);
    let setup = Setup::for_mock(&server);
    let got = h
        .list(&setup, server.org(), &ChatFilter::new().page_size(40))
        .unwrap();
    assert_exactly(&got, &server.chats(), h.name());
    assert_eq!(h.waits().len(), 4);
});

scenario!(a_stalled_body_times_out_and_is_retried, |h| {
    let plan = FaultPlan::new().on_request(1, Fault::Stall(Duration::from_secs(30)));
    let server = mock_with(60, plan);
    let mut setup = Setup::for_mock(&server);
    setup.read_timeout = Duration::from_millis(300);
    let got = h
        .list(&setup, server.org(), &ChatFilter::new().page_size(25))
        .unwrap();
    assert_exactly(&got, &server.chats(), h.name());
    assert_eq!(h.waits().len(), 1);
});

scenario!(random_faults_of_every_kind_lose_nothing, |h| {
    let kinds = vec![
        Fault::too_many_requests(Some("0")),
        Fault::status(500),
        Fault::status(503),
        Fault::Drop,
        Fault::Truncate,
    ];
    let server = mock_with(500, FaultPlan::new().random(3, 0.3, kinds));
    let mut setup = Setup::for_mock(&server);
    setup.retry = setup.retry.clone().max_attempts(12);
    setup.concurrency = 4;
    let got = h
        .list(&setup, server.org(), &ChatFilter::new().page_size(20))
        .unwrap();
    assert_exactly(&got, &server.chats(), h.name());
    assert!(!h.waits().is_empty());
});

scenario!(client_errors_are_typed_and_not_retried, |h| {
    let server = mock(30);
    let setup = Setup::for_mock(&server);
    let check = |setup: &Setup, org: Uuid, filter: ChatFilter, kind: ApiErrorKind, status: u16| {
        server.clear_requests();
        let err = h.list(setup, org, &filter).unwrap_err();
        let api = err.api().unwrap_or_else(|| panic!("{}: {err:?}", h.name()));
        assert_eq!((api.kind, api.status), (kind, status), "{err}");
        assert!(matches!(err, Error::Api(_)), "{err:?}");
        assert_eq!(server.requests().len(), 1, "{status} was retried");
    };
    let mut wrong = setup.clone();
    wrong.token = "wrong-token".into();
    check(
        &wrong,
        server.org(),
        ChatFilter::new(),
        ApiErrorKind::Unauthorized,
        401,
    );
    check(
        &setup,
        Uuid::from_u128(42),
        ChatFilter::new(),
        ApiErrorKind::Forbidden,
        403,
    );
    check(
        &setup,
        server.org(),
        ChatFilter::new().page(99),
        ApiErrorKind::NotFound,
        404,
    );
    let err = h
        .list(&wrong, server.org(), &ChatFilter::new())
        .unwrap_err();
    assert_eq!(err.api().unwrap().detail.as_deref(), Some("Invalid token."));

    let bad = mock_with(30, FaultPlan::new().on_request(0, Fault::status(400)));
    let err = h
        .list(&Setup::for_mock(&bad), bad.org(), &ChatFilter::new())
        .unwrap_err();
    assert_eq!(err.api().unwrap().kind, ApiErrorKind::BadRequest);
    assert_eq!(bad.requests().len(), 1);
    assert!(h.waits().is_empty());
});

scenario!(bearer_tokens_work_too, |h| {
    let server = mock(40);
    let mut setup = Setup::for_mock(&server);
    setup.bearer = true;
    let got = h.list(&setup, server.org(), &ChatFilter::new()).unwrap();
    assert_exactly(&got, &server.chats(), h.name());
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Bearer ***")
    );
});

scenario!(invalid_filters_fail_before_sending, |h| {
    let server = mock(10);
    let setup = Setup::for_mock(&server);
    for filter in [
        ChatFilter::new().page_size(101),
        ChatFilter::new().page(0),
        ChatFilter::new().tag(""),
    ] {
        let err = h.list(&setup, server.org(), &filter).unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    }
    assert!(server.requests().is_empty());
});

scenario!(a_foreign_next_page_url_never_gets_the_token, |h| {
    let foreign = mock(10);
    let server = mock_with(
        90,
        FaultPlan::new().on_requests(0..10, Fault::ForeignNextPageUrl(foreign.base_url())),
    );
    let setup = Setup::for_mock(&server);
    let got = h
        .list(&setup, server.org(), &ChatFilter::new().page_size(20))
        .unwrap();
    assert_exactly(&got, &server.chats(), h.name());
    assert!(
        foreign.requests().is_empty(),
        "the foreign origin was contacted"
    );
    assert_eq!(server.requests().len(), 5);
});

scenario!(page_drift_yields_no_duplicate_and_skips_nothing, |h| {
    let server = mock_with(
        120,
        FaultPlan::new().on_requests([1, 3], Fault::Drift { new_chats: 4 }),
    );
    let before = server.chats();
    let setup = Setup::for_mock(&server);
    let got = h
        .list(&setup, server.org(), &ChatFilter::new().page_size(25))
        .unwrap();
    let ids: Vec<Uuid> = got.iter().map(|c| c.id).collect();
    let unique: HashSet<Uuid> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{}: a chat came twice", h.name());
    assert!(
        before.iter().all(|c| unique.contains(&c.id)),
        "{}: a chat was skipped",
        h.name()
    );
});

scenario!(concurrent_paging_under_drift_skips_nothing, |h| {
    // Chats arrive at the front after the 5th and the 8th request, whichever windows those
    // are: with 4 requests in flight the answers interleave differently from run to run, and
    // every interleaving must skip nothing. (The interleaving that used to lose chats, the
    // windows ahead answered before the ones behind them, is forced by
    // `windows_answered_newest_first_under_drift_skip_nothing`.)
    let plan = FaultPlan::new()
        .on_request(4, Fault::Drift { new_chats: 3 })
        .on_request(7, Fault::Drift { new_chats: 2 });
    let server = mock_with(100, plan);
    let before = server.chats();
    let mut setup = Setup::for_mock(&server);
    setup.concurrency = 4;
    let got = h
        .list(&setup, server.org(), &ChatFilter::new().page_size(10))
        .unwrap();
    let ids: Vec<Uuid> = got.iter().map(|c| c.id).collect();
    let unique: HashSet<Uuid> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{}: a chat came twice", h.name());
    let missing = before.iter().filter(|c| !unique.contains(&c.id)).count();
    assert_eq!(missing, 0, "{}: chats were skipped", h.name());
});

/// The interleaving `concurrent_paging_under_drift_skips_nothing` cannot force over real
/// concurrency without timing, forced with the sans-I/O planner both clients run: its requests
/// (4 in flight) go to the mock one at a time, always the newest first, so the windows ahead
/// are answered before the ones behind them, and every other answer adds chats at the front.
#[test]
fn windows_answered_newest_first_under_drift_skip_nothing() {
    let drifts = FaultPlan::new().on_requests((1..400).step_by(2), Fault::Drift { new_chats: 3 });
    let server = mock_with(100, drifts);
    let before = server.chats();
    let endpoint = Endpoint::new(
        &server.base_url(),
        Credentials::token(server.token().to_owned()),
    )
    .unwrap();
    let list = endpoint
        .chats(server.org(), &ChatFilter::new().page_size(10))
        .unwrap();
    let mut planner = Planner::new(&list, PlanOptions::new().concurrency(4)).unwrap();
    let transport = UreqTransport::from_settings(&TransportSettings::default()).unwrap();
    let mut pending = Vec::new();
    let mut got = Vec::new();
    // Answers that overtook an older request still waiting.
    let mut overtaking = 0;
    loop {
        while let Some(page) = planner.poll_page() {
            got.extend(page.results);
        }
        if planner.is_finished() {
            break;
        }
        while let Some(request) = planner.poll_request() {
            pending.push(request);
        }
        let newest = pending
            .pop()
            .expect("a request until the listing is finished");
        overtaking += usize::from(!pending.is_empty());
        let response = transport.send(newest.request.request).unwrap();
        let page = decode_page(&response, 1 << 20).unwrap();
        planner.accept(newest.ticket, page).unwrap();
        assert!(server.requests().len() < 400, "no end in sight");
    }
    assert!(
        overtaking >= 3,
        "only {overtaking} answers came out of order"
    );
    assert!(server.chats().len() > before.len() + 9, "too little drift");
    // Chats that arrive at the front come before every window: the listing is what was there.
    assert_exactly(&got, &before, "newest first under drift");
    assert_eq!(planner.completeness().shortfall(), 0);
}

scenario!(keyset_sync_resumes_exactly_and_sees_new_chats, |h| {
    let server = mock(150);
    let setup = Setup::for_mock(&server);
    let all = server.chats();
    let filter = ChatFilter::new().page_size(40);
    let first = h.sync(&setup, server.org(), &filter, None).unwrap();
    assert_exactly(&first, &all, h.name());
    let resumed = h
        .sync(&setup, server.org(), &filter, Some(all[99].id))
        .unwrap();
    assert_exactly(&resumed, &all[100..], "resume after the 100th");
    let mut generator = giosg_mock::Generator::new(77, all.last().unwrap().start_time.unwrap());
    let newer: Vec<_> = (0..3).map(|_| generator.chat()).collect();
    server.push_chats(newer.clone());
    let next = h
        .sync(&setup, server.org(), &filter, Some(all.last().unwrap().id))
        .unwrap();
    assert_exactly(&next, &newer, "only the new chats");
    assert!(server
        .requests()
        .iter()
        .all(|r| r.query_value("page") == Some("1")));
});

scenario!(an_oversized_body_is_refused_without_retry, |h| {
    let server = mock_with(
        10,
        FaultPlan::new().on_request(0, Fault::Oversized { bytes: 2 << 30 }),
    );
    let mut setup = Setup::for_mock(&server);
    setup.max_body = 1 << 20;
    let err = h
        .list(&setup, server.org(), &ChatFilter::new())
        .unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { limit } if limit == 1 << 20),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1);
});

scenario!(retries_give_up_within_the_policy, |h| {
    let server = mock_with(10, FaultPlan::new().on_requests(0..100, Fault::status(503)));
    let mut setup = Setup::for_mock(&server);
    setup.retry = RetryPolicy::default()
        .max_attempts(4)
        .backoff(Duration::from_millis(2), Duration::from_millis(2));
    let err = h
        .list(&setup, server.org(), &ChatFilter::new())
        .unwrap_err();
    assert_eq!(err.attempts(), 4);
    assert_eq!(err.api().unwrap().status, 503);
    assert_eq!(server.requests().len(), 4);
    assert_eq!(h.waits(), vec![Duration::from_millis(1); 3]);
});

scenario!(a_refused_connection_is_a_transport_error, |h| {
    let server = mock(1);
    let mut setup = Setup::for_mock(&server);
    drop(server);
    setup.retry = RetryPolicy::default()
        .max_attempts(2)
        .backoff(Duration::ZERO, Duration::ZERO);
    let err = h
        .list(&setup, Uuid::from_u128(1), &ChatFilter::new())
        .unwrap_err();
    assert_eq!(err.attempts(), 2);
    let Error::Transport(t) = err.root() else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind, TransportErrorKind::Connect, "{t}");
});

scenario!(the_token_appears_in_no_log_debug_or_error, |h| {
    let token = "c0nf0rmance-s3cret-t0ken";
    let server = MockServer::builder()
        .generated(5, 40)
        .token(token)
        .faults(FaultPlan::new().on_request(1, Fault::status(503)))
        .start()
        .unwrap();
    let setup = Setup::for_mock(&server);
    let mut wrong = setup.clone();
    wrong.token = format!("{token}-wrong");
    let (mut printed, log) = traced(|| {
        let chats = h
            .list(&setup, server.org(), &ChatFilter::new().page_size(10))
            .unwrap();
        let err = h
            .list(&wrong, server.org(), &ChatFilter::new())
            .unwrap_err();
        format!(
            "{chats:?}\n{err}\n{err:?}\n{}\n{}",
            h.debug_client(&setup),
            h.debug_client(&wrong)
        )
    });
    printed.push_str(&log);
    printed.push_str(&format!("{:?}", server.requests()));
    assert!(printed.contains("giosg.request"), "no trace was captured");
    assert!(!printed.contains(token), "{}: the token leaked", h.name());
});

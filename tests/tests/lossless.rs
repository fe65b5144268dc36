//! Listings that lose nothing while the server misbehaves in the ways that used to lose chats:
//! chats deleted or inserted while listing (the cursor chat among them), envelopes that
//! contradict themselves, and a server that ignores `since_id`. Each scenario runs on both
//! clients (see `giosg_conformance`) and checks what the listing delivered and what it reported
//! (`completeness()`).

use giosg_conformance::{
    assert_exactly, assert_in_default_order, assert_lossless, scenario, Harness, Setup,
};
use giosg_mock::{Fault, FaultPlan, MockServer};
use giosg_model::{Chat, ChatFilter, OrderBy, SortField, Uuid};
use giosg_query::{Anomaly, Completeness, Error, ValidationError};
use std::collections::HashSet;

fn mock_with(chats: usize, faults: FaultPlan) -> MockServer {
    MockServer::builder()
        .generated(23, chats)
        .faults(faults)
        .start()
        .unwrap()
}

/// The requests the mock saw, one line each, for failure messages.
fn request_log(server: &MockServer) -> String {
    server
        .requests()
        .iter()
        .enumerate()
        .map(|(n, r)| {
            format!(
                "#{n} {} since_id={} start_time={} page_size={} fault={}\n",
                r.status,
                r.query_value("since_id").unwrap_or("-"),
                r.query_value("start_time").unwrap_or("-"),
                r.query_value("page_size").unwrap_or("-"),
                r.fault
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |f| format!("{f:?}")),
            )
        })
        .collect()
}

/// Lists with this setup; panics with the mock's request log if the listing fails.
fn listed(
    h: &dyn Harness,
    server: &MockServer,
    setup: &Setup,
    filter: &ChatFilter,
) -> (Vec<Chat>, Completeness) {
    h.list_reported(setup, server.org(), filter)
        .unwrap_or_else(|e| {
            panic!(
                "{} (concurrency {}): {e}\n{}",
                h.name(),
                setup.concurrency,
                request_log(server)
            )
        })
}

/// The cursors the listing reported lost, sorted.
fn cursor_lost(report: &Completeness) -> Vec<Uuid> {
    let mut lost: Vec<Uuid> = report
        .anomalies
        .iter()
        .filter_map(|a| match a {
            Anomaly::CursorLost { cursor } => Some(*cursor),
            _ => None,
        })
        .collect();
    lost.sort();
    lost
}

/// The ids of the chats of `before` the server no longer has, sorted.
fn deleted(before: &[Chat], server: &MockServer) -> Vec<Uuid> {
    let now: HashSet<Uuid> = server.chats().iter().map(|c| c.id).collect();
    let mut gone: Vec<Uuid> = before
        .iter()
        .map(|c| c.id)
        .filter(|id| !now.contains(id))
        .collect();
    gone.sort();
    gone
}

fn has_envelope_conflict(report: &Completeness) -> bool {
    report
        .anomalies
        .iter()
        .any(|a| matches!(a, Anomaly::EnvelopeConflict { .. }))
}

scenario!(retention_deleting_the_oldest_chats_loses_no_survivor, |h| {
    // The first deletion (request 1) takes 30 chats when at most 20 were served (requests 0
    // and 1, 10 each): some chats are deleted before they could be delivered, whatever order
    // concurrent requests reach the mock in.
    let plan = FaultPlan::new().on_requests([1, 5, 9, 13], Fault::DeleteOldest { chats: 30 });
    let server = mock_with(300, plan);
    let before = server.chats();
    let mut setup = Setup::for_mock(&server);
    setup.concurrency = 4;
    let (got, report) = listed(h, &server, &setup, &ChatFilter::new().page_size(10));
    let after = server.chats();
    let context = format!("{}\n{}", h.name(), request_log(&server));
    assert_eq!(after.len(), 180, "{context}");
    assert_lossless(&got, &before, &after, &context);
    assert_in_default_order(&got, &context);
    // The first answer counted every chat (deletions come after a page is served); what is
    // short is exactly what was deleted before it was delivered.
    assert_eq!(report.expected, Some(300), "{context}");
    assert_eq!(report.delivered, got.len() as u64, "{context}");
    assert!(report.finished && !report.limited, "{report:?}");
    let delivered: HashSet<Uuid> = got.iter().map(|c| c.id).collect();
    let deleted_undelivered = deleted(&before, &server)
        .iter()
        .filter(|id| !delivered.contains(id))
        .count();
    assert_eq!(
        report.shortfall(),
        deleted_undelivered as u64,
        "{report:?}\n{context}"
    );
    assert!(report.shortfall() > 0, "{report:?}\n{context}");
});

scenario!(the_cursor_chat_deleted_after_its_page_loses_nothing, |h| {
    for concurrency in [1, 4] {
        let plan = FaultPlan::new().on_requests([1, 4, 7], Fault::DeleteLast);
        let server = mock_with(120, plan);
        let before = server.chats();
        let mut setup = Setup::for_mock(&server);
        setup.concurrency = concurrency;
        let (got, report) = listed(h, &server, &setup, &ChatFilter::new().page_size(10));
        let context = format!(
            "{} concurrency {concurrency}\n{}",
            h.name(),
            request_log(&server)
        );
        // Each deleted chat was served before it went: every chat is delivered, in order.
        assert_exactly(&got, &before, &context);
        assert_eq!(report.shortfall(), 0, "{report:?}");
        if concurrency == 1 {
            // One window: requests 1, 4 and 7 each follow a cursor or re-anchor on one, so
            // each serves a page and deletes its last chat, the cursor of the next request.
            assert_eq!(server.chats().len(), 117, "{context}");
            assert_eq!(
                cursor_lost(&report),
                deleted(&before, &server),
                "{report:?}\n{context}"
            );
        }
    }
});

scenario!(the_cursor_deleted_before_its_request_loses_nothing, |h| {
    for concurrency in [1, 4] {
        let plan = FaultPlan::new().on_requests([2, 5, 8], Fault::DeleteCursor);
        let server = mock_with(120, plan);
        let before = server.chats();
        let mut setup = Setup::for_mock(&server);
        setup.concurrency = concurrency;
        let (got, report) = listed(h, &server, &setup, &ChatFilter::new().page_size(10));
        let context = format!(
            "{} concurrency {concurrency}\n{}",
            h.name(),
            request_log(&server)
        );
        // A cursor was delivered before a request named it: every chat is delivered.
        assert_exactly(&got, &before, &context);
        assert_eq!(report.shortfall(), 0, "{report:?}");
        // Only a request with a since_id deletes; with one window, requests 2, 5 and 8 all
        // name one (re-anchoring requests, which do not, come right after a deletion).
        // Each deletion is a lost cursor the listing reports.
        let deleted = deleted(&before, &server);
        if concurrency == 1 {
            assert_eq!(deleted.len(), 3, "{context}");
        }
        assert_eq!(cursor_lost(&report), deleted, "{report:?}\n{context}");
    }
});

scenario!(no_next_page_on_page_two_loses_nothing, |h| {
    for concurrency in [1, 4] {
        // 6 pages of 10. Page 2 is request 1 when requests go one at a time; with 4 at once,
        // it is one of the up to 4 requests sent together after the first answer (arriving
        // in any order), so all of those get the fault.
        let page_two = if concurrency == 1 { 1..2 } else { 1..5 };
        let server = mock_with(
            60,
            FaultPlan::new().on_requests(page_two, Fault::NoNextPage),
        );
        let before = server.chats();
        let mut setup = Setup::for_mock(&server);
        setup.concurrency = concurrency;
        let (got, report) = listed(h, &server, &setup, &ChatFilter::new().page_size(10));
        let context = format!(
            "{} concurrency {concurrency}\n{}",
            h.name(),
            request_log(&server)
        );
        assert_exactly(&got, &before, &context);
        assert!(has_envelope_conflict(&report), "{report:?}\n{context}");
        assert_eq!(report.shortfall(), 0, "{report:?}");
    }
});

scenario!(a_short_page_mid_listing_loses_nothing, |h| {
    for concurrency in [1, 4] {
        let server = mock_with(
            100,
            FaultPlan::new().on_requests([2, 3, 6], Fault::ShortPage),
        );
        let before = server.chats();
        let mut setup = Setup::for_mock(&server);
        setup.concurrency = concurrency;
        let (got, report) = listed(h, &server, &setup, &ChatFilter::new().page_size(10));
        let context = format!(
            "{} concurrency {concurrency}\n{}",
            h.name(),
            request_log(&server)
        );
        assert_exactly(&got, &before, &context);
        assert!(has_envelope_conflict(&report), "{report:?}\n{context}");
        assert_eq!(report.shortfall(), 0, "{report:?}");
    }
});

scenario!(a_count_that_changes_between_pages_loses_nothing, |h| {
    for concurrency in [1, 4] {
        let plan = FaultPlan::new()
            .on_request(1, Fault::CountOffset(7))
            .on_request(2, Fault::CountOffset(-4))
            .on_request(3, Fault::CountOffset(-1000))
            .on_request(4, Fault::CountOffset(25))
            .on_request(5, Fault::CountOffset(3));
        let server = mock_with(60, plan);
        let before = server.chats();
        let mut setup = Setup::for_mock(&server);
        setup.concurrency = concurrency;
        let (got, report) = listed(h, &server, &setup, &ChatFilter::new().page_size(10));
        let context = format!(
            "{} concurrency {concurrency}\n{}",
            h.name(),
            request_log(&server)
        );
        assert_exactly(&got, &before, &context);
        assert_eq!(report.expected, Some(60), "{context}");
        assert_eq!(report.shortfall(), 0, "{report:?}");
    }
});

scenario!(a_server_ignoring_since_id_yields_each_chat_once, |h| {
    for concurrency in [1, 4] {
        let server = mock_with(
            100,
            FaultPlan::new().on_requests([1, 3, 4, 8], Fault::IgnoreSinceId),
        );
        let before = server.chats();
        let mut setup = Setup::for_mock(&server);
        setup.concurrency = concurrency;
        let (got, report) = listed(h, &server, &setup, &ChatFilter::new().page_size(10));
        let context = format!(
            "{} concurrency {concurrency}\n{}",
            h.name(),
            request_log(&server)
        );
        assert_exactly(&got, &before, &context);
        assert_eq!(report.shortfall(), 0, "{report:?}");
        let ignored = server
            .requests()
            .iter()
            .any(|r| r.fault.is_some() && r.query_value("since_id").is_some());
        if ignored {
            // What the server sent again was dropped, not delivered twice.
            assert!(report.repeats > 0, "{report:?}\n{context}");
        }
    }
});

scenario!(chats_inserted_while_listing_lose_nothing, |h| {
    for concurrency in [1, 4] {
        let plan = FaultPlan::new().on_requests([1, 3, 6, 10], Fault::Insert { chats: 20 });
        let server = mock_with(300, plan);
        let before = server.chats();
        let mut setup = Setup::for_mock(&server);
        setup.concurrency = concurrency;
        let (got, report) = listed(h, &server, &setup, &ChatFilter::new().page_size(10));
        let after = server.chats();
        let context = format!(
            "{} concurrency {concurrency}\n{}",
            h.name(),
            request_log(&server)
        );
        assert_eq!(after.len(), 380, "{context}");
        // Every chat there at the start exactly once; inserted ones at most once.
        assert_lossless(&got, &before, &after, &context);
        assert!(got.len() >= before.len(), "{context}");
        assert_in_default_order(&got, &context);
        assert_eq!(report.expected, Some(300), "{context}");
        assert_eq!(report.shortfall(), 0, "{report:?}");
    }
});

scenario!(a_descending_keyset_listing_is_refused_before_sending, |h| {
    let server = mock_with(30, FaultPlan::new());
    let setup = Setup::for_mock(&server);
    let since = server.chats()[10].id;
    for ordering in [
        OrderBy::desc(SortField::StartTime),
        OrderBy::asc(SortField::StartTime).then_desc(SortField::EndTime),
    ] {
        let filter = ChatFilter::new().ordering(ordering).since_id(since);
        let err = h.list(&setup, server.org(), &filter).unwrap_err();
        assert!(
            matches!(err, Error::Invalid(ValidationError::DescendingKeyset(_))),
            "{}: {err:?}",
            h.name()
        );
        let err = h.list_reported(&setup, server.org(), &filter).unwrap_err();
        assert!(
            matches!(err, Error::Invalid(ValidationError::DescendingKeyset(_))),
            "{}: {err:?}",
            h.name()
        );
    }
    assert!(server.requests().is_empty(), "{}", request_log(&server));
});

scenario!(a_limit_asks_only_for_the_pages_it_needs, |h| {
    let server = mock_with(100, FaultPlan::new());
    let mut setup = Setup::for_mock(&server);
    setup.limit = Some(30);
    setup.concurrency = 4;
    let (got, report) = listed(h, &server, &setup, &ChatFilter::new().page_size(25));
    assert_exactly(&got, &server.chats()[..30], h.name());
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{}", request_log(&server));
    // The second page asks for no more than is left.
    let sizes: Vec<_> = requests
        .iter()
        .map(|r| r.query_value("page_size"))
        .collect();
    assert_eq!(sizes, [Some("25"), Some("5")]);
    assert!(report.limited, "{report:?}");
    assert_eq!(report.delivered, 30);
    assert_eq!(report.shortfall(), 0);
});

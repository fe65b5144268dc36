//! Every fault, checked on the wire.

mod common;

use common::{get, header, page, raw_exchange, raw_get_request, split_response};
use giosg_mock::{Fault, FaultPlan, MockServer};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn server(plan: FaultPlan) -> MockServer {
    MockServer::builder()
        .generated(9, 60)
        .faults(plan)
        .start()
        .unwrap()
}

#[test]
fn scripted_status_with_retry_after() {
    let s = server(
        FaultPlan::new()
            .on_request(0, Fault::too_many_requests(Some("1")))
            .on_request(2, Fault::status(503)),
    );
    // Requests to other paths do not count.
    assert_eq!(
        common::get_url(&format!("{}/elsewhere", s.base_url()), None).status,
        404
    );
    let r = get(&s, &[]);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json(), json!({"detail": "Request was throttled."}));
    assert_eq!(get(&s, &[]).status, 200);
    let r = get(&s, &[]);
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), None);
    assert_eq!(
        r.json(),
        json!({"detail": "Service temporarily unavailable, try again later."})
    );
    assert_eq!(get(&s, &[]).status, 200);

    let statuses: Vec<(u16, Option<Fault>)> = s
        .requests()
        .into_iter()
        .map(|r| (r.status, r.fault))
        .collect();
    assert_eq!(
        statuses,
        [
            (404, None),
            (429, Some(Fault::too_many_requests(Some("1")))),
            (200, None),
            (503, Some(Fault::status(503))),
            (200, None),
        ]
    );
}

#[test]
fn latency_then_normal_service() {
    let s = server(
        FaultPlan::new()
            .latency(Duration::from_millis(1))
            .on_request(0, Fault::Latency(Duration::from_millis(20))),
    );
    let slow = get(&s, &[("page_size", "5")]);
    let fast = get(&s, &[("page_size", "5")]);
    assert_eq!((slow.status, &slow.body), (200, &fast.body));
    assert_eq!(
        s.requests()[0].fault,
        Some(Fault::Latency(Duration::from_millis(20)))
    );
    assert_eq!(s.requests()[1].fault, None);
}

#[test]
fn drop_closes_without_a_byte() {
    let s = server(FaultPlan::new().on_request(0, Fault::Drop));
    let got = raw_exchange(s.addr(), &raw_get_request(&s, ""));
    assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));
    assert_eq!(get(&s, &[]).status, 200);
    let recorded = s.requests();
    assert_eq!(recorded[0].status, 0);
    assert_eq!(recorded[0].fault, Some(Fault::Drop));
    assert_eq!(recorded[1].status, 200);
}

#[test]
fn truncate_sends_half_of_the_body_with_the_full_length() {
    let s = server(FaultPlan::new().on_request(0, Fault::Truncate));
    let got = raw_exchange(s.addr(), &raw_get_request(&s, "page_size=50"));
    let (status, headers, body) = split_response(&got);
    assert_eq!(status, 200);
    let full = get(&s, &[("page_size", "50")]).body;
    let length: usize = header(&headers, "content-length").unwrap().parse().unwrap();
    assert_eq!(length, full.len());
    assert_eq!(body.len(), length / 2);
    assert_eq!(body, full.as_bytes()[..length / 2]);
    assert_eq!(s.requests()[0].fault, Some(Fault::Truncate));
    assert_eq!(s.requests()[0].status, 200);
}

#[test]
fn stall_pauses_mid_body_then_completes() {
    let s = server(FaultPlan::new().on_request(0, Fault::Stall(Duration::from_millis(30))));
    let got = raw_exchange(s.addr(), &raw_get_request(&s, "page_size=20"));
    let (status, headers, body) = split_response(&got);
    let full = get(&s, &[("page_size", "20")]).body;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-length"),
        Some(full.len().to_string().as_str())
    );
    assert_eq!(body, full.as_bytes());
    // Through a real client too.
    s.set_faults(FaultPlan::new().on_request(0, Fault::Stall(Duration::from_millis(30))));
    assert_eq!(get(&s, &[("page_size", "20")]).body, full);
    assert_eq!(
        s.requests()[2].fault,
        Some(Fault::Stall(Duration::from_millis(30)))
    );
}

#[test]
fn drift_shifts_later_pages_forward() {
    let s = server(FaultPlan::new().on_request(0, Fault::Drift { new_chats: 3 }));
    let before = s.chats();
    let p1 = page(&s, &[("page_size", "10")]);
    assert_eq!(p1.results, before[..10]);
    let p2 = page(&s, &[("page_size", "10"), ("page", "2")]);
    // Three chats arrived at the front: page 2 starts with page 1's last three.
    assert_eq!(p2.results[..3], p1.results[7..]);
    assert_eq!(p2.count, 63);
    let after = s.chats();
    assert_eq!(after.len(), 63);
    assert_eq!(after[3..], before[..]);
    assert!(after[..3]
        .iter()
        .all(|c| c.start_time < before[0].start_time && c.is_ended()));

    // Descending: the new chats are the latest ones.
    s.set_faults(FaultPlan::new().on_request(0, Fault::Drift { new_chats: 2 }));
    let d1 = page(&s, &[("page_size", "10"), ("ordering", "-start_time")]);
    let d2 = page(
        &s,
        &[
            ("page_size", "10"),
            ("ordering", "-start_time"),
            ("page", "2"),
        ],
    );
    assert_eq!(d2.results[..2], d1.results[8..]);
    let newest = page(&s, &[("page_size", "2"), ("ordering", "-start_time")]);
    assert!(newest
        .results
        .iter()
        .all(|c| c.start_time > d1.results[0].start_time));
    assert_eq!(s.chats().len(), 65);
}

#[test]
fn foreign_next_page_url() {
    let s = server(FaultPlan::new().on_request(
        0,
        Fault::ForeignNextPageUrl("http://127.0.0.2:9".to_owned()),
    ));
    let p = page(&s, &[("page_size", "10")]);
    let path = s.chats_url().replace(&s.base_url(), "");
    assert_eq!(
        p.next_page_url.as_deref(),
        Some(format!("http://127.0.0.2:9{path}?page_size=10&page=2").as_str())
    );
    assert_eq!(p.results, s.chats()[..10]);
    let normal = page(&s, &[("page_size", "10")]);
    assert_eq!(
        normal.next_page_url.as_deref(),
        Some(format!("{}?page_size=10&page=2", s.chats_url()).as_str())
    );
}

#[test]
fn oversized_body_has_exactly_the_announced_length() {
    let s = server(FaultPlan::new().on_request(0, Fault::Oversized { bytes: 300_000 }));
    let got = raw_exchange(s.addr(), &raw_get_request(&s, ""));
    let (status, headers, body) = split_response(&got);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-length"), Some("300000"));
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert_eq!(body.len(), 300_000);
    assert!(body.starts_with(br#"{"count": 1"#));
}

#[test]
fn a_huge_oversized_body_is_streamed_and_abandoned() {
    let bytes = 50_000_000_000u64;
    let s = server(FaultPlan::new().on_request(0, Fault::Oversized { bytes }));
    let mut stream = TcpStream::connect(s.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
        .write_all(raw_get_request(&s, "").as_bytes())
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    while got.len() < 1_000_000 {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    let end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
    assert!(head.contains(&format!("content-length: {bytes}")), "{head}");
    drop(stream);
    // The server is fine and serves the next request.
    assert_eq!(get(&s, &[]).status, 200);
}

#[test]
fn redirect_answers_the_status_with_a_location() {
    let location = "http://127.0.0.2:9/api/v5/orgs/x/chats?page=2";
    let s = server(FaultPlan::new().on_request(
        0,
        Fault::Redirect {
            location: location.to_owned(),
            status: 307,
        },
    ));
    let got = raw_exchange(s.addr(), &raw_get_request(&s, "page_size=5"));
    let (status, headers, body) = split_response(&got);
    assert_eq!(status, 307);
    assert_eq!(header(&headers, "location"), Some(location));
    let detail: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(detail, json!({"detail": "Temporary Redirect."}));
    assert_eq!(get(&s, &[]).status, 200);
    let recorded = s.requests();
    assert_eq!(recorded[0].status, 307);
    assert_eq!(
        recorded[0].fault,
        Some(Fault::Redirect {
            location: location.to_owned(),
            status: 307
        })
    );
}

#[test]
fn random_faults_are_deterministic() {
    let plan = FaultPlan::new().on_request(3, Fault::status(502)).random(
        1234,
        0.5,
        vec![Fault::status(500), Fault::Latency(Duration::from_millis(1))],
    );
    let expected: Vec<Option<Fault>> = (0..24).map(|n| plan.fault_for(n)).collect();
    assert!(expected.iter().filter(|f| f.is_some()).count() > 3);
    assert!(expected.iter().filter(|f| f.is_none()).count() > 3);
    assert_eq!(expected[3], Some(Fault::status(502)));
    assert_eq!(plan.clone().fault_for(17), plan.fault_for(17));

    let s = server(plan);
    for _ in 0..24 {
        get(&s, &[("page_size", "1")]);
    }
    let got: Vec<Option<Fault>> = s.requests().into_iter().map(|r| r.fault).collect();
    assert_eq!(got, expected);
    for r in s.requests() {
        let want = match r.fault {
            Some(Fault::Status { status, .. }) => status,
            _ => 200,
        };
        assert_eq!(r.status, want);
    }
}

#[test]
fn set_faults_restarts_the_numbering() {
    let s = server(FaultPlan::new());
    assert_eq!(get(&s, &[]).status, 200);
    assert_eq!(get(&s, &[]).status, 200);
    s.set_faults(FaultPlan::new().on_request(0, Fault::status(500)));
    assert_eq!(get(&s, &[]).status, 500);
    assert_eq!(get(&s, &[]).status, 200);
    s.set_faults(FaultPlan::new());
    assert_eq!(get(&s, &[]).status, 200);
}

/// The fault recorded for each request so far.
fn recorded_faults(s: &MockServer) -> Vec<Option<Fault>> {
    s.requests().into_iter().map(|r| r.fault).collect()
}

#[test]
fn delete_oldest_removes_the_first_chats_after_serving() {
    let s = server(FaultPlan::new().on_requests([0, 2], Fault::DeleteOldest { chats: 5 }));
    let before = s.chats();
    // The page is served whole, then the five oldest chats go.
    let p1 = page(&s, &[("page_size", "10")]);
    assert_eq!(p1.results, before[..10]);
    assert_eq!(p1.count, 60);
    assert_eq!(s.chats(), before[5..]);
    let again = page(&s, &[("page_size", "10")]);
    assert_eq!(again.results, before[5..15]);
    assert_eq!(again.count, 55);
    // Whatever the request's filters and order: the oldest by start time go.
    let newest = page(&s, &[("page_size", "3"), ("ordering", "-start_time")]);
    assert_eq!(newest.results[0], before[59]);
    assert_eq!(s.chats(), before[10..]);
    assert_eq!(
        recorded_faults(&s),
        [
            Some(Fault::DeleteOldest { chats: 5 }),
            None,
            Some(Fault::DeleteOldest { chats: 5 })
        ]
    );

    // An answer that is not a page deletes nothing.
    s.set_faults(FaultPlan::new().on_requests(0..2, Fault::DeleteOldest { chats: 5 }));
    let wrong = common::get_url(&s.chats_url(), Some("Token wrong"));
    assert_eq!(wrong.status, 401);
    assert_eq!(get(&s, &[("page", "99")]).status, 404);
    assert_eq!(s.chats(), before[10..]);
    // More than there are: all of them.
    s.set_faults(FaultPlan::new().on_request(0, Fault::DeleteOldest { chats: 1000 }));
    assert_eq!(page(&s, &[]).count, 50);
    assert!(s.chats().is_empty());
    assert_eq!(page(&s, &[]).count, 0);
}

#[test]
fn delete_last_removes_the_next_cursor() {
    let s = server(FaultPlan::new().on_request(0, Fault::DeleteLast));
    let before = s.chats();
    let p1 = page(&s, &[("page_size", "10")]);
    assert_eq!(p1.results, before[..10]);
    let mut left = before.clone();
    left.remove(9);
    assert_eq!(s.chats(), left);
    // The keyset client's next request names the deleted chat: an empty listing.
    let since = before[9].id.to_string();
    let r = get(&s, &[("page_size", "10"), ("since_id", &since)]);
    assert_eq!(
        (r.json()["count"].clone(), r.json()["next_page"].clone()),
        (json!(0), json!(null))
    );
    assert_eq!(r.page().results, []);
    // After the chat before it, the listing goes on without it.
    let since = before[8].id.to_string();
    let p = page(&s, &[("page_size", "10"), ("since_id", &since)]);
    assert_eq!(p.results, before[10..20]);
    assert_eq!(p.count, 50);
    assert_eq!(recorded_faults(&s)[0], Some(Fault::DeleteLast));

    // An empty page deletes nothing.
    s.set_faults(FaultPlan::new().on_request(0, Fault::DeleteLast));
    let last = before[59].id.to_string();
    assert_eq!(page(&s, &[("since_id", &last)]).results, []);
    assert_eq!(s.chats(), left);
}

#[test]
fn delete_cursor_removes_the_since_id_before_serving() {
    let s = server(FaultPlan::new().on_requests(0..3, Fault::DeleteCursor));
    let before = s.chats();
    // Without a since_id, nothing is deleted.
    assert_eq!(page(&s, &[("page_size", "10")]).results, before[..10]);
    assert_eq!(s.chats(), before);
    let since = before[9].id.to_string();
    let r = get(&s, &[("page_size", "10"), ("since_id", &since)]);
    assert_eq!(r.status, 200);
    let empty = r.page();
    assert_eq!(
        (empty.results.len(), empty.count, empty.next_page),
        (0, 0, None)
    );
    let mut left = before.clone();
    left.remove(9);
    assert_eq!(s.chats(), left);
    // An unknown since_id: nothing to delete, the same empty listing.
    let unknown = uuid::Uuid::from_u128(5).to_string();
    assert_eq!(page(&s, &[("since_id", &unknown)]).count, 0);
    assert_eq!(s.chats(), left);
    assert_eq!(recorded_faults(&s), vec![Some(Fault::DeleteCursor); 3]);
}

#[test]
fn insert_spreads_new_chats_inside_the_range() {
    let plan = FaultPlan::new().on_request(0, Fault::Insert { chats: 6 });
    let s = server(plan.clone());
    let before = s.chats();
    let p1 = page(&s, &[("page_size", "10")]);
    assert_eq!(p1.results, before[..10]);
    assert_eq!(p1.count, 60);
    let after = s.chats();
    assert_eq!(after.len(), 66);
    let new: Vec<_> = after
        .iter()
        .filter(|c| !before.iter().any(|b| b.id == c.id))
        .collect();
    assert_eq!(new.len(), 6);
    let (first, last) = (before[0].start_time, before[59].start_time);
    assert!(new
        .iter()
        .all(|c| c.start_time > first && c.start_time < last));
    // Spread, not bunched: one in each sixth of the range.
    let sixth = (last.unwrap() - first.unwrap()) / 6;
    for (i, chat) in new.iter().enumerate() {
        let slot = (chat.start_time.unwrap() - first.unwrap()).num_milliseconds()
            / sixth.num_milliseconds();
        assert_eq!(slot, i as i64);
    }
    assert_eq!(page(&s, &[("page_size", "100")]).count, 66);
    assert_eq!(recorded_faults(&s)[0], Some(Fault::Insert { chats: 6 }));
    // Seeded: another server with the same data and plan inserts the same chats.
    let twin = server(plan);
    page(&twin, &[("page_size", "10")]);
    assert_eq!(twin.chats(), after);
}

#[test]
fn no_next_page_nulls_the_next_page_only() {
    let s = server(FaultPlan::new().on_requests(0..2, Fault::NoNextPage));
    let before = s.chats();
    let r = get(&s, &[("page_size", "10")]);
    let body = r.json();
    assert_eq!(body["next_page"], json!(null));
    assert_eq!(body["next_page_url"], json!(null));
    assert_eq!(
        (body["count"].clone(), body["num_pages"].clone()),
        (json!(60), json!(6))
    );
    assert_eq!(r.page().results, before[..10]);
    let p2 = page(&s, &[("page_size", "10"), ("page", "2")]);
    assert_eq!((p2.next_page, p2.previous_page), (None, Some(1)));
    assert_eq!(p2.results, before[10..20]);
    // The next request is served normally.
    assert_eq!(page(&s, &[("page_size", "10")]).next_page, Some(2));
    assert_eq!(recorded_faults(&s)[0], Some(Fault::NoNextPage));
}

#[test]
fn count_offset_shifts_the_count_only() {
    let s = server(
        FaultPlan::new()
            .on_request(0, Fault::CountOffset(-7))
            .on_request(1, Fault::CountOffset(5))
            .on_request(2, Fault::CountOffset(-1000)),
    );
    let normal = page(&s, &[("page_size", "10")]);
    assert_eq!(normal.count, 53);
    for (want, fault) in [(65, "CountOffset(5)"), (0, "CountOffset(-1000)")] {
        let p = page(&s, &[("page_size", "10")]);
        assert_eq!(p.count, want, "{fault}");
        assert_eq!(
            (p.num_pages, p.per_page, p.next_page, &p.results),
            (
                normal.num_pages,
                normal.per_page,
                normal.next_page,
                &normal.results
            ),
            "{fault}"
        );
    }
    assert_eq!(page(&s, &[("page_size", "10")]).count, 60);
    assert_eq!(recorded_faults(&s)[0], Some(Fault::CountOffset(-7)));
}

#[test]
fn short_page_serves_half_the_results() {
    let s = server(FaultPlan::new().on_requests(0..2, Fault::ShortPage));
    let before = s.chats();
    let p = page(&s, &[("page_size", "11")]);
    assert_eq!(p.results, before[..5]);
    assert_eq!(
        (p.count, p.per_page, p.num_pages, p.next_page),
        (60, 11, 6, Some(2))
    );
    // The last page, of 5 chats: 2.
    let last = page(&s, &[("page_size", "11"), ("page", "6")]);
    assert_eq!(last.results, before[55..57]);
    assert_eq!(page(&s, &[("page_size", "11")]).results, before[..11]);
    assert_eq!(recorded_faults(&s)[0], Some(Fault::ShortPage));
}

#[test]
fn ignore_since_id_serves_the_listing_from_its_start() {
    let s = server(FaultPlan::new().on_request(0, Fault::IgnoreSinceId));
    let before = s.chats();
    let since = before[20].id.to_string();
    let params = [("page_size", "10"), ("since_id", since.as_str())];
    let p = page(&s, &params);
    assert_eq!(p.results, before[..10]);
    assert_eq!(p.count, 60);
    let next = p.next_page_url.unwrap();
    assert!(next.contains(&format!("since_id={since}")), "{next}");
    // Honoured again on the next request.
    let p = page(&s, &params);
    assert_eq!(p.results, before[21..31]);
    assert_eq!(p.count, 39);
    assert_eq!(recorded_faults(&s)[0], Some(Fault::IgnoreSinceId));
}

#[test]
fn delete_chats_while_serving() {
    let s = server(FaultPlan::new());
    let before = s.chats();
    // Fill the listing cache first: deletions must show through it.
    assert_eq!(page(&s, &[("page_size", "100")]).count, 60);
    assert_eq!(page(&s, &[("ordering", "-end_time")]).count, 60);
    s.delete_chats(&[before[0].id, before[30].id, uuid::Uuid::from_u128(1)]);
    let left: Vec<_> = before
        .iter()
        .filter(|c| c.id != before[0].id && c.id != before[30].id)
        .cloned()
        .collect();
    assert_eq!(s.chats(), left);
    assert_eq!(page(&s, &[("page_size", "100")]).results, left);
    let by_end = page(&s, &[("ordering", "-end_time"), ("page_size", "100")]);
    assert_eq!(by_end.count, 58);
    assert!(by_end.results.iter().all(|c| left.contains(c)));
    let since = before[29].id.to_string();
    assert_eq!(
        page(&s, &[("since_id", &since), ("page_size", "2")]).results,
        [before[31].clone(), before[32].clone()]
    );
    let gone = before[30].id.to_string();
    assert_eq!(page(&s, &[("since_id", &gone)]).count, 0);
    s.delete_chats(&[]);
    assert_eq!(s.chats(), left);
}

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

    let statuses: Vec<(u16, Option<String>)> = s
        .requests()
        .into_iter()
        .map(|r| (r.status, r.fault))
        .collect();
    assert_eq!(
        statuses,
        [
            (404, None),
            (
                429,
                Some(r#"Status { status: 429, retry_after: Some("1") }"#.to_owned())
            ),
            (200, None),
            (
                503,
                Some("Status { status: 503, retry_after: None }".to_owned())
            ),
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
    assert_eq!(s.requests()[0].fault.as_deref(), Some("Latency(20ms)"));
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
    assert_eq!(recorded[0].fault.as_deref(), Some("Drop"));
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
    assert_eq!(s.requests()[0].fault.as_deref(), Some("Truncate"));
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
    assert_eq!(s.requests()[2].fault.as_deref(), Some("Stall(30ms)"));
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
        recorded[0].fault.as_deref(),
        Some(format!("Redirect {{ location: {location:?}, status: 307 }}").as_str())
    );
}

#[test]
fn random_faults_are_deterministic() {
    let plan = FaultPlan::new().on_request(3, Fault::status(502)).random(
        1234,
        0.5,
        vec![Fault::status(500), Fault::Latency(Duration::from_millis(1))],
    );
    let expected: Vec<Option<String>> = (0..24)
        .map(|n| plan.fault_for(n).map(|f| format!("{f:?}")))
        .collect();
    assert!(expected.iter().filter(|f| f.is_some()).count() > 3);
    assert!(expected.iter().filter(|f| f.is_none()).count() > 3);
    assert_eq!(
        expected[3].as_deref(),
        Some("Status { status: 502, retry_after: None }")
    );
    assert_eq!(plan.clone().fault_for(17), plan.fault_for(17));

    let s = server(plan);
    for _ in 0..24 {
        get(&s, &[("page_size", "1")]);
    }
    let got: Vec<Option<String>> = s.requests().into_iter().map(|r| r.fault).collect();
    assert_eq!(got, expected);
    for r in s.requests() {
        let want = match r.fault.as_deref() {
            Some(f) if f.starts_with("Status { status: 500") => 500,
            Some(f) if f.starts_with("Status { status: 502") => 502,
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

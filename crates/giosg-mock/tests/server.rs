//! Starting, stopping, configuring, and recording.

mod common;

use common::{get, get_url, raw_get_request};
use giosg_mock::{Fault, FaultPlan, MockServer, DEMO_ORG};
use giosg_model::{Chat, Page, Uuid};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

#[test]
fn defaults() {
    let s = MockServer::start();
    assert_eq!(s.org(), DEMO_ORG);
    assert_eq!(s.token(), "mock-token");
    assert_eq!(
        s.base_url(),
        format!("http://127.0.0.1:{}", s.addr().port())
    );
    assert_eq!(
        s.chats_url(),
        format!("{}/api/v5/orgs/{DEMO_ORG}/chats", s.base_url())
    );
    assert_eq!(s.chats(), giosg_mock::generate(1, 250));
    let p = common::page(&s, &[]);
    assert_eq!((p.count, p.num_pages, p.per_page), (250, 10, 25));
    assert_eq!(p.results, s.chats()[..25]);
}

#[test]
fn custom_org_token_and_port() {
    let org = Uuid::from_u128(0x1234_5678);
    let first = MockServer::builder().start().unwrap();
    let port = first.addr().port();
    drop(first);
    let s = MockServer::builder()
        .org(org)
        .token("t0k3n")
        .port(port)
        .chats(vec![Chat::new(Uuid::from_u128(5))])
        .start()
        .unwrap();
    assert_eq!(s.addr().port(), port);
    assert!(s.chats_url().contains(&org.to_string()));
    let r = get_url(&s.chats_url(), Some("Bearer t0k3n"));
    assert_eq!(r.page().results, [Chat::new(Uuid::from_u128(5))]);
    assert_eq!(
        get_url(&s.chats_url(), Some("Token mock-token")).status,
        401
    );
    // Binding a port in use fails instead of panicking.
    assert!(MockServer::builder().port(port).start().is_err());
}

#[test]
fn fixture_files() {
    let s = MockServer::builder()
        .fixture_file(fixtures().join("generated/page-25-first.json"))
        .start()
        .unwrap();
    assert_eq!(s.chats(), giosg_mock::generate(20_150_213, 25));

    let reference = MockServer::builder()
        .fixture_file(fixtures().join("reference-page.json"))
        .start()
        .unwrap();
    assert_eq!(reference.chats().len(), 1);

    // A bare array of chats.
    let path = std::env::temp_dir().join(format!("giosg-mock-array-{}.json", std::process::id()));
    let chats = giosg_mock::generate(2, 4);
    std::fs::write(&path, serde_json::to_vec(&chats).unwrap()).unwrap();
    let s = MockServer::builder().fixture_file(&path).start().unwrap();
    assert_eq!(s.chats(), chats);
    std::fs::write(&path, b"{\"results\": [{\"id\": 7}]}").unwrap();
    let err = MockServer::builder()
        .fixture_file(&path)
        .start()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    std::fs::remove_file(&path).unwrap();
    assert!(MockServer::builder()
        .fixture_file(fixtures().join("no-such-file.json"))
        .start()
        .is_err());
}

#[test]
fn records_requests_with_the_token_masked() {
    let s = MockServer::builder()
        .token("very-secret-token")
        .generated(1, 10)
        .start()
        .unwrap();
    let url = format!(
        "{}?tag={}&page_size=5&tag=a+b",
        s.chats_url(),
        "x%26page_size%3D1000"
    );
    assert_eq!(get_url(&url, Some("Token very-secret-token")).status, 200);
    assert_eq!(
        get_url(&s.chats_url(), Some("Bearer very-secret-token")).status,
        200
    );
    assert_eq!(
        get_url(&s.chats_url(), Some("Token wrong-guess")).status,
        401
    );
    assert_eq!(get_url(&s.chats_url(), None).status, 401);

    let recorded = s.requests();
    assert_eq!(recorded.len(), 4);
    let first = &recorded[0];
    assert_eq!(first.method, "GET");
    assert_eq!(first.path, format!("/api/v5/orgs/{DEMO_ORG}/chats"));
    assert_eq!(
        first.query,
        [
            ("tag".to_owned(), "x&page_size=1000".to_owned()),
            ("page_size".to_owned(), "5".to_owned()),
            ("tag".to_owned(), "a b".to_owned()),
        ]
    );
    assert_eq!(first.query_value("tag"), Some("a b"));
    assert_eq!(first.header("Authorization"), Some("Token ***"));
    assert_eq!(first.status, 200);
    assert_eq!(first.fault, None);
    assert_eq!(recorded[1].header("authorization"), Some("Bearer ***"));
    assert_eq!(recorded[2].header("authorization"), Some("Token ***"));
    assert_eq!(recorded[2].status, 401);
    assert_eq!(recorded[3].header("authorization"), None);
    assert!(recorded[0].header("host").is_some());
    let everything = format!("{recorded:?}");
    assert!(!everything.contains("very-secret-token"));
    assert!(!everything.contains("wrong-guess"));

    s.clear_requests();
    assert!(s.requests().is_empty());
    get(&s, &[]);
    assert_eq!(s.requests().len(), 1);
}

#[test]
fn works_inside_an_async_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let s = MockServer::builder().generated(1, 3).start().unwrap();
        let got = common::raw_exchange(s.addr(), &raw_get_request(&s, ""));
        let (status, _, body) = common::split_response(&got);
        assert_eq!(status, 200);
        let page = Page::<Chat>::from_slice(&body).unwrap();
        assert_eq!(page.count, 3);
        drop(s);
    });
}

#[test]
fn dropping_the_server_closes_stalled_connections() {
    let s = MockServer::builder()
        .generated(1, 30)
        .faults(FaultPlan::new().on_request(0, Fault::Stall(Duration::from_secs(3600))))
        .start()
        .unwrap();
    let mut stream = TcpStream::connect(s.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
        .write_all(raw_get_request(&s, "").as_bytes())
        .unwrap();
    // Read until the head has arrived: the body is now stalled for an hour.
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    // Returns promptly (the test would hang otherwise), and the connection is closed.
    drop(s);
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

#[test]
fn many_servers_side_by_side() {
    let servers: Vec<MockServer> = (0..8)
        .map(|i| MockServer::builder().generated(i, 5).start().unwrap())
        .collect();
    for (i, s) in servers.iter().enumerate() {
        let p = common::page(s, &[]);
        assert_eq!(p.results, giosg_mock::generate(i as u64, 5));
    }
}

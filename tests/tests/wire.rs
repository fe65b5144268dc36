//! On the wire, on both clients: responses come gzipped when the server offers it, each timeout
//! fires on what it is for and says which it was, and a refused connection is `Connect` with
//! the refusal reachable through `source()`. Timeouts are short and asserted by kind only.

use giosg_conformance::{scenario, Setup};
use giosg_mock::{Fault, FaultPlan, MockServer};
use giosg_model::ChatFilter;
use giosg_query::{ErrorKind, RetryPolicy, TimeoutKind};
use std::time::Duration;

fn ids(chats: &[giosg_model::Chat]) -> Vec<String> {
    chats.iter().map(|c| c.id.to_string()).collect()
}

scenario!(a_gzipped_listing_round_trips, |h| {
    let server = MockServer::builder()
        .generated(21, 140)
        .gzip(true)
        .start()
        .unwrap();
    let mut setup = Setup::for_mock(&server);
    // Every page goes out gzipped; the cap counts decoded bytes, so a cap over the largest
    // page's compressed size but under its decoded size would refuse it. One page of 100
    // chats decodes to far more than 16 KiB: it must still come through under the default.
    setup.max_body = giosg_query::DEFAULT_MAX_BODY;
    let got = h
        .list(&setup, server.org(), &ChatFilter::new().page_size(100))
        .unwrap();
    assert_eq!(ids(&got), ids(&server.chats()), "{}", h.name());
    let requests = server.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        let accept = r
            .headers
            .iter()
            .find(|(name, _)| name == "accept-encoding")
            .map(|(_, v)| v.as_str());
        assert!(
            accept.is_some_and(|v| v.contains("gzip")),
            "{}: Accept-Encoding {accept:?}",
            h.name()
        );
    }
});

scenario!(the_cap_counts_decoded_bytes, |h| {
    // A page of 100 chats is well over 20 KiB decoded and well under it gzipped.
    let server = MockServer::builder()
        .generated(22, 100)
        .gzip(true)
        .start()
        .unwrap();
    let mut setup = Setup::for_mock(&server);
    setup.max_body = 20 << 10;
    setup.retry = RetryPolicy::never();
    let err = h
        .first_page(&setup, server.org(), &ChatFilter::new().page_size(100))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadResponse, "{}: {err:?}", h.name());
    assert!(
        matches!(err, giosg_query::Error::BodyTooLarge { limit } if limit == 20 << 10),
        "{}: {err:?}",
        h.name()
    );
});

fn timeout_setup(server: &MockServer) -> Setup {
    let mut setup = Setup::for_mock(server);
    setup.retry = RetryPolicy::never();
    setup
}

fn faulty(fault: Fault) -> MockServer {
    MockServer::builder()
        .generated(23, 40)
        .faults(FaultPlan::new().on_requests(0..4, fault))
        .start()
        .unwrap()
}

scenario!(a_stalled_body_is_a_read_timeout, |h| {
    let server = faulty(Fault::Stall(Duration::from_secs(60)));
    let mut setup = timeout_setup(&server);
    setup.read_timeout = Duration::from_millis(300);
    let err = h
        .first_page(&setup, server.org(), &ChatFilter::new())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{}: {err:?}", h.name());
    assert_eq!(
        err.timeout(),
        Some(TimeoutKind::Read),
        "{}: {err:?}",
        h.name()
    );
    assert!(err.to_string().contains("read timeout"), "{err}");
});

scenario!(a_dribbling_body_is_a_read_timeout, |h| {
    // A byte every 20 ms: no single read waits long, but 1 KiB never arrives in time.
    let server = faulty(Fault::Dribble(Duration::from_millis(20)));
    let mut setup = timeout_setup(&server);
    setup.read_timeout = Duration::from_millis(400);
    let err = h
        .first_page(&setup, server.org(), &ChatFilter::new())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{}: {err:?}", h.name());
    assert_eq!(
        err.timeout(),
        Some(TimeoutKind::Read),
        "{}: {err:?}",
        h.name()
    );
});

scenario!(a_slow_request_is_an_overall_timeout, |h| {
    let server = faulty(Fault::Stall(Duration::from_secs(60)));
    let mut setup = timeout_setup(&server);
    setup.timeout = Duration::from_millis(400);
    let err = h
        .first_page(&setup, server.org(), &ChatFilter::new())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{}: {err:?}", h.name());
    assert_eq!(
        err.timeout(),
        Some(TimeoutKind::Overall),
        "{}: {err:?}",
        h.name()
    );
    assert!(err.to_string().contains("overall timeout"), "{err}");
});

scenario!(
    a_refused_connection_is_connect_with_the_cause_in_the_chain,
    |h| {
        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = MockServer::start();
        let mut setup = timeout_setup(&server);
        setup.base_url = format!("http://127.0.0.1:{port}");
        let err = h
            .first_page(&setup, server.org(), &ChatFilter::new())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connect, "{}: {err:?}", h.name());
        assert_eq!(err.to_string(), "connection failed", "{}", h.name());
        let mut refused = false;
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(e) = next {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
            }
            next = e.source();
        }
        assert!(
            refused,
            "{}: no ConnectionRefused in {}",
            h.name(),
            err.display_chain()
        );
    }
);

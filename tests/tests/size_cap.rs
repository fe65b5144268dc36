//! The response size cap holds on both clients: a 2 GiB body (announced by its
//! `Content-Length`, streamed lazily by the mock) is refused with `Error::BodyTooLarge`, not
//! retried, and never allocated. A counting allocator (its own test binary, so no other test
//! shares it) measures the heap each test thread holds at its peak; both clients run their
//! requests on the calling thread (ureq directly, reqwest on a current-thread runtime).

use giosg_conformance::{scenario, Setup};
use giosg_mock::{Fault, FaultPlan, MockServer};
use giosg_model::ChatFilter;
use giosg_query::Error;
#[path = "../support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::peak_heap;

const TWO_GIB: u64 = 2 << 30;

scenario!(a_2_gib_body_is_refused_without_allocating_it, |h| {
    let server = MockServer::builder()
        .generated(3, 20)
        .faults(FaultPlan::new().on_requests(0..2, Fault::Oversized { bytes: TWO_GIB }))
        .start()
        .unwrap();
    for cap in [1 << 20, giosg_query::DEFAULT_MAX_BODY] {
        let mut setup = Setup::for_mock(&server);
        setup.max_body = cap;
        server.clear_requests();
        let (result, peak) = peak_heap(|| h.list(&setup, server.org(), &ChatFilter::new()));
        let err = result.unwrap_err();
        assert!(
            matches!(err, Error::BodyTooLarge { limit } if limit == cap),
            "{}: {err:?}",
            h.name()
        );
        assert_eq!(server.requests().len(), 1, "{}: retried", h.name());
        println!(
            "{}: 2 GiB body, cap {cap}: peak heap {peak} bytes",
            h.name()
        );
        // A client, a connection, a request: well under a megabyte, not gigabytes.
        assert!(
            peak < 4 << 20,
            "{} held {peak} bytes at its peak refusing a 2 GiB body under a {cap}-byte cap",
            h.name()
        );
    }
    // The cap refuses; it does not break the client: the next listing is whole.
    let setup = Setup::for_mock(&server);
    let got = h.list(&setup, server.org(), &ChatFilter::new()).unwrap();
    assert_eq!(got.len(), 20);
});

scenario!(a_body_just_over_the_cap_is_refused, |h| {
    let server = MockServer::builder()
        .generated(3, 20)
        .faults(FaultPlan::new().on_request(0, Fault::Oversized { bytes: 100_001 }))
        .start()
        .unwrap();
    let mut setup = Setup::for_mock(&server);
    setup.max_body = 100_000;
    let (result, peak) = peak_heap(|| h.list(&setup, server.org(), &ChatFilter::new()));
    assert!(
        matches!(result, Err(Error::BodyTooLarge { limit: 100_000 })),
        "{result:?}"
    );
    assert!(peak < 4 << 20, "{}: {peak}", h.name());
    // The next response is an ordinary page, well under the cap.
    let page = h
        .first_page(&setup, server.org(), &ChatFilter::new())
        .unwrap();
    assert_eq!(page.results.len(), 20);
});

scenario!(a_gzip_bomb_is_refused_holding_little, |h| {
    // A few MiB on the wire that inflate to 2 GiB: the cap counts decoded bytes.
    let server = MockServer::builder()
        .generated(3, 20)
        .faults(FaultPlan::new().on_requests(0..2, Fault::GzipBomb { bytes: TWO_GIB }))
        .start()
        .unwrap();
    for cap in [1 << 20, 8 << 20] {
        let mut setup = Setup::for_mock(&server);
        setup.max_body = cap;
        server.clear_requests();
        let (result, peak) = peak_heap(|| h.list(&setup, server.org(), &ChatFilter::new()));
        let err = result.unwrap_err();
        assert!(
            matches!(err, Error::BodyTooLarge { limit } if limit == cap),
            "{}: {err:?}",
            h.name()
        );
        assert_eq!(server.requests().len(), 1, "{}: retried", h.name());
        println!(
            "{}: gzip bomb of 2 GiB, cap {cap}: peak heap {peak} bytes",
            h.name()
        );
        // What the cap lets in, and a little: not gigabytes.
        assert!(
            peak < cap + (4 << 20),
            "{} held {peak} bytes at its peak refusing a gzip bomb under a {cap}-byte cap",
            h.name()
        );
    }
});

//! Security properties, on both clients where both apply (see `giosg_conformance`):
//!
//! - the token is in no output: `Debug`, `Display`, any error down its `source()` chain, trace
//!   logs, panic messages (the CLI's output is checked by `giosg-cli`'s end-to-end tests);
//! - `Authorization` never leaves the base URL's origin: redirects are not followed at all (a
//!   3xx is a typed error), and a foreign `next_page_url` is not followed;
//! - plain `http://` to a host that is not loopback is refused unless opted in;
//! - no filter value can inject a query parameter.
//!
//! The size cap (a 2 GiB body refused without allocating it) is `size_cap.rs`, whose counting
//! allocator needs its own test binary.

use giosg_conformance::{assert_exactly, scenario, traced, Setup};
use giosg_mock::{Fault, FaultPlan, MockServer};
use giosg_model::{ChatFilter, Uuid};
use giosg_query::{
    ApiErrorKind, ConfigError, Credentials, Endpoint, Error, Pager, RetryPolicy, ValidationError,
};
use std::panic::{catch_unwind, AssertUnwindSafe};

const TOKEN: &str = "s3cur1ty-T0KEN-7a41f0c2";
/// A part of the token that is distinctive on its own: no fragment of it may show either.
const FRAGMENT: &str = "T0KEN-7a41";

fn assert_clean(text: &str, what: &str) {
    assert!(
        !text.contains(TOKEN) && !text.contains(FRAGMENT),
        "the token leaked into {what}: {text}"
    );
}

/// Every message an error chain can print: each link's `Display` and `Debug`.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    let mut link = Some(error);
    while let Some(e) = link {
        out.push_str(&format!("{e}\n{e:?}\n"));
        link = e.source();
    }
    out
}

fn mock(plan: FaultPlan) -> MockServer {
    MockServer::builder()
        .generated(31, 60)
        .token(TOKEN)
        .faults(plan)
        .start()
        .unwrap()
}

/// What a caller does with a result it expects to be fine.
fn unwrap(result: Result<(), Error>) {
    result.unwrap();
}

/// A client builder, reduced to whether it builds.
type Build<'a> = &'a dyn Fn(&str, bool) -> Result<(), Error>;

/// The message of a panic that `f` raises.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("it panics");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

scenario!(the_token_is_in_no_output_of_any_failure, |h| {
    let foreign = MockServer::start();
    let plan = FaultPlan::new()
        .on_request(0, Fault::too_many_requests(Some("0")))
        .on_request(1, Fault::Drop)
        .on_request(2, Fault::Truncate)
        .on_request(4, Fault::ForeignNextPageUrl(foreign.base_url()));
    let server = mock(plan);
    let setup = Setup::for_mock(&server);
    let mut wrong = setup.clone();
    wrong.token = format!("{TOKEN}-wrong");
    let mut tiny = setup.clone();
    tiny.max_body = 64;
    let org = server.org();
    let filter = ChatFilter::new().page_size(10);

    let (printed, log) = traced(|| {
        let mut printed = String::new();
        let chats = h.list(&setup, org, &filter).unwrap();
        printed.push_str(&format!("{chats:?}\n"));
        // 401, 403, a body over the cap, exhausted retries, a redirect, a refused connection.
        server.set_faults(
            FaultPlan::new()
                .on_requests(3..8, Fault::status(503))
                .on_request(
                    8,
                    Fault::Redirect {
                        location: foreign.chats_url(),
                        status: 302,
                    },
                ),
        );
        let mut errors = vec![
            h.list(&wrong, org, &filter).unwrap_err(),
            h.list(&setup, Uuid::from_u128(9), &filter).unwrap_err(),
            h.list(&tiny, org, &filter).unwrap_err(),
            h.list(&setup, org, &filter).unwrap_err(),
            h.list(&setup, org, &filter).unwrap_err(),
        ];
        assert!(
            matches!(errors[2], Error::BodyTooLarge { .. }),
            "{:?}",
            errors[2]
        );
        assert!(
            matches!(errors[3], Error::RetriesExhausted { .. }),
            "{:?}",
            errors[3]
        );
        assert_eq!(errors[4].api().map(|a| a.status), Some(302));
        let mut refused = setup.clone();
        refused.base_url = {
            let gone = MockServer::start();
            gone.base_url()
        };
        refused.retry = RetryPolicy::never();
        errors.push(h.list(&refused, org, &filter).unwrap_err());
        for e in &errors {
            printed.push_str(&chain(e));
        }
        printed.push_str(&h.debug_client(&setup));
        printed.push_str(&h.debug_client(&wrong));
        // Unwrapping any of these errors panics with its Debug text.
        for e in errors {
            printed.push_str(&panic_message(|| {
                unwrap(Err(e));
            }));
        }
        printed
    });
    assert!(log.contains("giosg.request"), "no trace was captured");
    assert!(printed.contains("401") && printed.contains("403") && printed.contains("302"));
    assert_clean(&printed, &format!("{} errors, Debug or panics", h.name()));
    assert_clean(&log, &format!("{} trace logs", h.name()));
    assert_clean(&format!("{:?}", server.requests()), "the mock's record");
    assert!(
        foreign.requests().is_empty(),
        "the foreign origin was contacted"
    );
});

#[test]
fn the_token_is_in_no_output_of_the_sans_io_core() {
    let endpoint = Endpoint::new("https://service.giosg.com", Credentials::token(TOKEN)).unwrap();
    let list = endpoint
        .chats(Uuid::from_u128(1), &ChatFilter::new().tag("t"))
        .unwrap();
    let pager = Pager::new(list.clone());
    let request = pager.next_request().unwrap();
    assert_eq!(
        request.request.headers()["authorization"],
        format!("Token {TOKEN}").as_str()
    );
    let printed = format!(
        "{endpoint:?}\n{list:?}\n{pager:?}\n{request:?}\n{:?}\n{}\n{:?}\n{}",
        Credentials::token(TOKEN),
        Credentials::bearer(TOKEN),
        giosg_query::Secret::new(TOKEN),
        giosg_query::Secret::new(TOKEN),
    );
    assert_clean(&printed, "Debug of the core's values");

    // A token that cannot be sent is refused without being echoed, in the error or a panic.
    for bad in [format!("{TOKEN}\r\nX-Injected: 1"), format!("{TOKEN}\0")] {
        let e = giosg_blocking::Client::builder()
            .token(bad.clone())
            .build()
            .unwrap_err();
        assert!(
            matches!(e, Error::Config(ConfigError::TokenNotHeaderSafe)),
            "{e:?}"
        );
        assert_clean(&chain(&e), "a refused token's error");
        let message = panic_message(|| {
            giosg_blocking::Client::builder()
                .token(bad)
                .build()
                .expect("a client");
        });
        assert_clean(&message, "a refused token's panic");
    }
}

scenario!(
    redirects_are_never_followed_and_never_carry_the_token,
    |h| {
        let target = MockServer::builder()
            .generated(31, 60)
            .token(TOKEN)
            .start()
            .unwrap();
        let server = mock(FaultPlan::new());
        let setup = Setup::for_mock(&server);
        let same_origin = format!("{}?page=1", server.chats_url());
        // Another origin on loopback: another port, and the same port under another host name.
        let elsewhere = target.chats_url();
        let by_name = target.chats_url().replace("127.0.0.1", "localhost");
        for location in [&elsewhere, &by_name, &same_origin] {
            for status in [301, 302, 303, 307, 308] {
                server.clear_requests();
                server.set_faults(FaultPlan::new().on_request(
                    0,
                    Fault::Redirect {
                        location: location.clone(),
                        status,
                    },
                ));
                let err = h
                    .list(&setup, server.org(), &ChatFilter::new())
                    .unwrap_err();
                let Error::Api(api) = &err else {
                    panic!("{} {status}: {err:?}", h.name())
                };
                assert_eq!((api.status, api.kind), (status, ApiErrorKind::Other));
                assert_eq!(server.requests().len(), 1, "a {status} was retried");
            }
        }
        assert!(
            target.requests().is_empty(),
            "{}: the redirect target got {:?}",
            h.name(),
            target.requests()
        );
    }
);

scenario!(a_foreign_next_page_url_is_never_followed, |h| {
    let target = MockServer::builder()
        .generated(31, 60)
        .token(TOKEN)
        .start()
        .unwrap();
    let by_name = target.base_url().replace("127.0.0.1", "localhost");
    for foreign in [target.base_url(), by_name, "https://127.0.0.1:9".to_owned()] {
        let server = mock(FaultPlan::new().on_requests(0..20, Fault::ForeignNextPageUrl(foreign)));
        let setup = Setup::for_mock(&server);
        let got = h
            .list(&setup, server.org(), &ChatFilter::new().page_size(20))
            .unwrap();
        assert_exactly(&got, &server.chats(), h.name());
        assert!(server
            .requests()
            .iter()
            .all(|r| r.header("authorization") == Some("Token ***")));
    }
    assert!(target.requests().is_empty(), "{}", h.name());
});

#[test]
fn plain_http_off_loopback_is_refused_unless_opted_in() {
    let _runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = _runtime.enter();
    let blocking = |url: &str, allow: bool| {
        giosg_blocking::Client::builder()
            .base_url(url)
            .token(TOKEN)
            .allow_insecure_http(allow)
            .build()
            .map(drop)
    };
    let nonblocking = |url: &str, allow: bool| {
        giosg_async::Client::builder()
            .base_url(url)
            .token(TOKEN)
            .allow_insecure_http(allow)
            .build()
            .map(drop)
    };
    let builders: [Build<'_>; 2] = [&blocking, &nonblocking];
    for build in builders {
        for url in [
            "http://service.giosg.com",
            "http://10.0.0.1:8080",
            "http://192.168.1.1",
            "http://[::2]:80",
            "http://localhost.example.com",
            "http://127.0.0.1.nip.io",
            "http://0.0.0.0:8080",
        ] {
            let err = build(url, false).unwrap_err();
            assert!(
                matches!(err, Error::Config(ConfigError::InsecureBaseUrl(_))),
                "{url}: {err:?}"
            );
            assert_clean(&chain(&err), "a refused base URL's error");
            build(url, true).unwrap_or_else(|e| panic!("{url} opted in: {e}"));
        }
        for url in [
            "http://127.0.0.1:1",
            "http://127.8.9.10",
            "http://[::1]:1",
            "http://localhost:1",
            "http://LOCALHOST",
            "https://service.giosg.com",
        ] {
            build(url, false).unwrap_or_else(|e| panic!("{url}: {e}"));
        }
        for url in [
            "ftp://service.giosg.com",
            "https://user:pw@service.giosg.com",
            "https://service.giosg.com?token=x",
            "file:///etc/passwd",
        ] {
            for allow in [false, true] {
                let err = build(url, allow).unwrap_err();
                assert!(matches!(err, Error::Config(_)), "{url}: {err:?}");
            }
        }
    }
}

scenario!(no_filter_value_injects_a_parameter, |h| {
    let server = mock(FaultPlan::new());
    let setup = Setup::for_mock(&server);
    for tag in [
        "x&page_size=1000",
        "x&page=7",
        "a=b",
        "%26page_size%3D1000",
        "x#fragment",
        "x;page_size=1000",
        "x\r\nX-Injected: 1",
        "x?y=z",
        "../../../admin",
        "päivä & 日本",
        "+plus+",
        " ",
    ] {
        server.clear_requests();
        let filter = ChatFilter::new().tag(tag);
        let result = h.first_page(&setup, server.org(), &filter);
        let requests = server.requests();
        assert_eq!(requests.len(), 1, "{}: {tag:?}: {result:?}", h.name());
        let r = &requests[0];
        assert_eq!(
            r.query,
            vec![
                ("page".to_owned(), "1".to_owned()),
                ("tag".to_owned(), tag.to_owned())
            ],
            "{}: {tag:?} arrived as other parameters",
            h.name()
        );
        assert_eq!(r.path, format!("/api/v5/orgs/{}/chats", server.org()));
        assert!(r.header("x-injected").is_none());
        result.unwrap();
    }
    // And the typed parameters cannot be overridden through an extra parameter.
    let endpoint = Endpoint::new(&server.base_url(), Credentials::token(TOKEN)).unwrap();
    for name in ["page_size", "page", "tag", "token"] {
        let err = endpoint
            .chats_with_extra(
                server.org(),
                &ChatFilter::new(),
                vec![(name.to_owned(), "1000".to_owned())],
            )
            .unwrap_err();
        assert_eq!(err, ValidationError::ReservedParameter(name.to_owned()));
    }
});

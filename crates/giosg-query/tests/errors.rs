//! What an error says: its kind, status, retryability, `Retry-After` and attempts, looking
//! through retries; `Display` says its own part and `source()` the cause, never both.

use giosg_query::{
    decode_page, ConfigError, Error, ErrorKind, Exchange, PagingError, RetryPolicy, TimeoutKind,
    TransportError, TransportErrorKind, ValidationError, Verdict,
};
use std::time::{Duration, SystemTime};

const NOW: SystemTime = SystemTime::UNIX_EPOCH;

fn answer(status: u16, retry_after: Option<&str>, body: &str) -> http::Response<Vec<u8>> {
    let mut b = http::Response::builder().status(status);
    if let Some(v) = retry_after {
        b = b.header("Retry-After", v);
    }
    b.body(body.as_bytes().to_vec()).unwrap()
}

fn api(status: u16, retry_after: Option<&str>) -> Error {
    let body = match status {
        400 => r#"{"page_size": ["Ensure this value is less than or equal to 100."]}"#,
        401 => r#"{"detail": "Invalid token."}"#,
        403 => r#"{"detail": "You do not have permission to perform this action."}"#,
        404 => r#"{"detail": "Not found."}"#,
        429 => r#"{"detail": "Request was throttled. Expected available in 86400 seconds."}"#,
        _ => "<html>oops</html>",
    };
    decode_page(&answer(status, retry_after, body), 1 << 20).unwrap_err()
}

fn io(kind: std::io::ErrorKind, message: &str) -> std::io::Error {
    std::io::Error::new(kind, message)
}

/// A transport error whose cause has a cause, as an HTTP stack's does.
fn nested(kind: TransportErrorKind, message: &str) -> TransportError {
    #[derive(Debug)]
    struct Stack(std::io::Error);
    impl std::fmt::Display for Stack {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("error sending request")
        }
    }
    impl std::error::Error for Stack {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    TransportError::new(
        kind,
        Stack(io(std::io::ErrorKind::ConnectionRefused, message)),
    )
}

/// Runs outcomes through an exchange until it fails.
fn exhaust(
    policy: &RetryPolicy,
    outcomes: Vec<Result<http::Response<Vec<u8>>, TransportError>>,
) -> Error {
    let mut ex = Exchange::new(policy, 1 << 20);
    for outcome in outcomes {
        if let Verdict::Fail(e) = ex.judge(outcome, NOW, 0.5) {
            return e;
        }
    }
    panic!("the exchange did not fail");
}

fn every_error() -> Vec<(&'static str, Error)> {
    let five = RetryPolicy::default().max_attempts(3);
    vec![
        ("config", ConfigError::MissingToken.into()),
        ("invalid", ValidationError::PageSize(0).into()),
        ("400", api(400, None)),
        ("401", api(401, None)),
        ("403", api(403, None)),
        ("404", api(404, None)),
        ("429", api(429, Some("7"))),
        ("503", api(503, None)),
        ("302", api(302, None)),
        (
            "decode",
            decode_page(&answer(200, None, r#"{"results": [{"id": 42}]}"#), 1 << 20).unwrap_err(),
        ),
        (
            "body too large",
            exhaust(
                &five,
                vec![Err(TransportError::body_too_large(
                    1024,
                    "said so by its Content-Length",
                ))],
            ),
        ),
        (
            "connect",
            nested(
                TransportErrorKind::Connect,
                "Connection refused (os error 111)",
            )
            .into(),
        ),
        (
            "connect timeout",
            TransportError::timed_out(TimeoutKind::Connect, "deadline has elapsed").into(),
        ),
        (
            "read timeout",
            TransportError::timed_out(
                TimeoutKind::Read,
                "the body brought less than 1024 bytes in 30s",
            )
            .into(),
        ),
        (
            "overall timeout",
            TransportError::timed_out(TimeoutKind::Overall, "deadline has elapsed").into(),
        ),
        (
            "broken",
            TransportError::new(
                TransportErrorKind::Io,
                io(
                    std::io::ErrorKind::ConnectionReset,
                    "connection reset by peer",
                ),
            )
            .into(),
        ),
        (
            "paging",
            PagingError::NotAdvancing {
                current: 2,
                next: 2,
            }
            .into(),
        ),
        (
            "503 retried",
            exhaust(
                &five,
                vec![
                    Ok(answer(503, None, "")),
                    Ok(answer(503, None, "")),
                    Ok(answer(503, None, "")),
                ],
            ),
        ),
        (
            "refused retried",
            exhaust(
                &five,
                (0..3)
                    .map(|_| Err(nested(TransportErrorKind::Connect, "Connection refused")))
                    .collect(),
            ),
        ),
        (
            "429 for a day",
            exhaust(&five, vec![Ok(answer(429, Some("86400"), "{}"))]),
        ),
    ]
}

#[test]
fn errors_answer_questions_through_retries() {
    let errors = every_error();
    let find = |name: &str| &errors.iter().find(|(n, _)| *n == name).unwrap().1;

    let e = find("503 retried");
    assert_eq!(e.kind(), ErrorKind::Server);
    assert_eq!(e.status(), Some(503));
    assert!(e.is_retryable());
    assert_eq!(e.attempts(), 3);
    assert!(matches!(e.root(), Error::Api(_)));

    let e = find("refused retried");
    assert_eq!(e.kind(), ErrorKind::Connect);
    assert_eq!(e.status(), None);
    assert_eq!(e.attempts(), 3);

    let e = find("429 for a day");
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(86400)));
    assert_eq!(e.attempts(), 1);
    assert!(matches!(e, Error::RetryAfterTooLong { .. }));

    assert_eq!(find("429").retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(find("read timeout").timeout(), Some(TimeoutKind::Read));
    assert!(!find("401").is_retryable());
}

#[test]
fn display_says_its_own_part_and_source_the_cause() {
    for (name, e) in every_error() {
        let mut current: &dyn std::error::Error = &e;
        while let Some(source) = current.source() {
            let (own, cause) = (current.to_string(), source.to_string());
            assert!(
                !own.contains(&cause),
                "{name}: {own:?} repeats its source {cause:?}"
            );
            current = source;
        }
    }
}

#[test]
fn every_error_kind_message_and_chain() {
    let mut out = String::new();
    for (name, e) in every_error() {
        out.push_str(&format!(
            "{name}\n  kind: {:?} ({})\n  status: {:?}, retryable: {}, attempts: {}, retry_after: {:?}\n  display: {}\n  chain: {}\n",
            e.kind(),
            e.kind(),
            e.status(),
            e.is_retryable(),
            e.attempts(),
            e.retry_after(),
            e,
            e.display_chain(),
        ));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn a_retry_after_too_long_names_the_status_that_carried_it() {
    let policy = RetryPolicy::default();
    for status in [429, 503] {
        let e = exhaust(&policy, vec![Ok(answer(status, Some("86400"), "{}"))]);
        assert!(matches!(e, Error::RetryAfterTooLong { .. }), "{e:?}");
        assert_eq!(e.status(), Some(status));
        let own = e.to_string();
        assert!(
            own.starts_with(&format!(
                "the API answered HTTP {status} and asked to wait 24h"
            )),
            "{own}"
        );
    }
}

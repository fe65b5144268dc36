//! Retry decisions: which outcomes retry, how long to wait, when to give up.

use giosg_query::{Error, Exchange, RetryPolicy, TransportError, TransportErrorKind, Verdict};
use std::time::{Duration, SystemTime};

fn response(status: u16, retry_after: Option<&str>) -> http::Response<Vec<u8>> {
    let mut b = http::Response::builder().status(status);
    if let Some(v) = retry_after {
        b = b.header("Retry-After", v);
    }
    b.body(br#"{"detail": "Request was throttled."}"#.to_vec())
        .unwrap()
}

fn ok_page() -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(200)
        .body(br#"{"count": 0, "num_pages": 1, "current_page": 1, "results": []}"#.to_vec())
        .unwrap()
}

fn transport(kind: TransportErrorKind) -> TransportError {
    TransportError::new(kind, "boom")
}

const NOW: SystemTime = SystemTime::UNIX_EPOCH;

#[test]
fn retryable_outcomes_retry_until_a_page() {
    let policy = RetryPolicy::default();
    let mut ex = Exchange::new(&policy, 1 << 20);
    for outcome in [
        Ok(response(429, None)),
        Ok(response(500, None)),
        Ok(response(502, None)),
        Err(transport(TransportErrorKind::Timeout)),
    ] {
        assert!(matches!(ex.judge(outcome, NOW, 0.5), Verdict::Retry(_)));
    }
    assert!(matches!(
        ex.judge(Ok(ok_page()), NOW, 0.5),
        Verdict::Page(_)
    ));
    assert_eq!(ex.attempts(), 5);
}

#[test]
fn client_errors_never_retry() {
    for status in [400, 401, 403, 404, 405, 301] {
        let mut ex = Exchange::new(&RetryPolicy::default(), 1 << 20);
        let Verdict::Fail(e) = ex.judge(Ok(response(status, Some("1"))), NOW, 0.5) else {
            panic!("{status} retried")
        };
        assert!(matches!(e, Error::Api(ref a) if a.status == status));
        assert_eq!(e.attempts(), 1);
    }
    let mut ex = Exchange::new(&RetryPolicy::default(), 1 << 20);
    assert!(matches!(
        ex.judge(Err(transport(TransportErrorKind::Other)), NOW, 0.5),
        Verdict::Fail(_)
    ));
}

#[test]
fn a_body_past_the_cap_is_body_too_large_and_never_retried() {
    let mut ex = Exchange::new(&RetryPolicy::default(), 1 << 20);
    let too_large = TransportError::body_too_large(9, "said so by its Content-Length");
    assert_eq!(too_large.to_string(), "body larger than 9 bytes");
    let Verdict::Fail(e) = ex.judge(Err(too_large), NOW, 0.5) else {
        panic!("retried")
    };
    assert!(matches!(e, Error::BodyTooLarge { limit: 9 }), "{e:?}");
    assert_eq!(e.kind(), giosg_query::ErrorKind::BadResponse);
    assert!(!e.is_retryable());
    // However it is made, it is the one variant.
    let e = Error::from(TransportError::body_too_large(
        9,
        "refused while reading it",
    ));
    assert!(matches!(e, Error::BodyTooLarge { limit: 9 }), "{e:?}");
}

#[test]
fn retry_after_seconds_and_dates_are_honoured() {
    let policy = RetryPolicy::default();
    let mut ex = Exchange::new(&policy, 1 << 20);
    let Verdict::Retry(d) = ex.judge(Ok(response(429, Some("7"))), NOW, 0.0) else {
        panic!()
    };
    assert_eq!(d, Duration::from_secs(7));
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_470);
    let Verdict::Retry(d) = ex.judge(
        Ok(response(503, Some("Wed, 21 Oct 2015 07:28:00 GMT"))),
        now,
        0.0,
    ) else {
        panic!()
    };
    assert_eq!(d, Duration::from_secs(10));
    // A date already past means no wait.
    let Verdict::Retry(d) = ex.judge(
        Ok(response(503, Some("Wed, 21 Oct 2015 07:27:00 GMT"))),
        now,
        0.9,
    ) else {
        panic!()
    };
    assert_eq!(d, Duration::ZERO);
}

#[test]
fn backoff_is_exponential_with_full_jitter_and_capped() {
    let policy = RetryPolicy::default()
        .max_attempts(20)
        .max_total_wait(Duration::from_secs(3600));
    let mut ex = Exchange::new(&policy, 1 << 20);
    let delays: Vec<Duration> = (0..8)
        .map(|_| match ex.judge(Ok(response(500, None)), NOW, 1.0) {
            Verdict::Retry(d) => d,
            other => panic!("{other:?}"),
        })
        .collect();
    let ms: Vec<u128> = delays.iter().map(Duration::as_millis).collect();
    assert_eq!(ms, vec![500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    assert_eq!(policy.backoff_delay(3, 0.25), Duration::from_millis(500));
    assert_eq!(
        policy.backoff_delay(3, f64::NAN),
        Duration::from_millis(2000)
    );
}

#[test]
fn gives_up_after_max_attempts_saying_how_many() {
    let policy = RetryPolicy::default().max_attempts(3);
    let mut ex = Exchange::new(&policy, 1 << 20);
    assert!(matches!(
        ex.judge(Ok(response(429, Some("0"))), NOW, 0.1),
        Verdict::Retry(_)
    ));
    assert!(matches!(
        ex.judge(Ok(response(429, Some("0"))), NOW, 0.1),
        Verdict::Retry(_)
    ));
    let Verdict::Fail(e) = ex.judge(Ok(response(429, Some("0"))), NOW, 0.1) else {
        panic!()
    };
    assert_eq!(e.attempts(), 3);
    assert_eq!(e.api().unwrap().status, 429);
    insta::assert_snapshot!(e.to_string(), @"gave up after 3 attempts (0ms waiting)");
    insta::assert_snapshot!(e.display_chain(), @"gave up after 3 attempts (0ms waiting): giosg API answered 429 Too Many Requests: Request was throttled.");
}

#[test]
fn gives_up_when_retry_after_exceeds_the_wait_budget() {
    let policy = RetryPolicy::default().max_total_wait(Duration::from_secs(60));
    let mut ex = Exchange::new(&policy, 1 << 20);
    assert!(matches!(
        ex.judge(Ok(response(429, Some("50"))), NOW, 0.0),
        Verdict::Retry(_)
    ));
    let Verdict::Fail(e) = ex.judge(Ok(response(429, Some("11"))), NOW, 0.0) else {
        panic!()
    };
    assert_eq!(e.attempts(), 2);
    // It fails at once, saying what the server asked for and what to do.
    assert!(matches!(e, Error::RetryAfterTooLong { .. }));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(11)));
    assert_eq!(e.kind(), giosg_query::ErrorKind::RateLimited);
    insta::assert_snapshot!(e.display_chain(), @"the API answered HTTP 429 and asked to wait 11s before retrying (Retry-After), longer than the retry policy allows (10s more): try again after that wait, or allow longer waits (RetryPolicy::max_total_wait): giosg API answered 429 Too Many Requests: Request was throttled.");
    let Verdict::Fail(_) = Exchange::new(&policy, 1 << 20).judge(
        Ok(response(429, Some("18446744073709551615"))),
        NOW,
        0.0,
    ) else {
        panic!()
    };
}

#[test]
fn truncated_bodies_retry_but_wrong_ones_do_not() {
    let mut ex = Exchange::new(&RetryPolicy::default(), 1 << 20);
    let truncated = http::Response::builder()
        .status(200)
        .body(br#"{"count": 1, "results": [{"id""#.to_vec())
        .unwrap();
    assert!(matches!(
        ex.judge(Ok(truncated), NOW, 0.5),
        Verdict::Retry(_)
    ));
    let html = http::Response::builder()
        .status(200)
        .body(b"<html>".to_vec())
        .unwrap();
    let Verdict::Fail(e) = ex.judge(Ok(html), NOW, 0.5) else {
        panic!()
    };
    assert!(
        matches!(e, Error::RetriesExhausted { ref last, .. } if matches!(**last, Error::Decode { .. }))
    );
}

//! Page decoding: `decode_page` on any status and body, then the retry decision on it; a body
//! that decodes must survive a round trip (encode, decode again, same page).
//!
//! Input: two bytes of status (mapped into 100..=999), one byte choosing the body cap, then
//! the body.
#![no_main]

use giosg_model::{Chat, Page};
use giosg_query::{decode_page, Error, Exchange, RetryPolicy, Verdict};
use libfuzzer_sys::fuzz_target;
use std::time::SystemTime;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let raw = u16::from_le_bytes([data[0], data[1]]);
    // Half of the inputs as 200, the rest spread over every status.
    let status = if raw & 1 == 0 {
        200
    } else {
        100 + (raw >> 1) % 900
    };
    let max_body = match data[2] % 4 {
        0 => giosg_query::DEFAULT_MAX_BODY,
        1 => 64,
        2 => 4096,
        _ => data.len() - 3,
    };
    let body = &data[3..];
    let mut builder = http::Response::builder().status(status);
    if data[2] & 0x80 != 0 {
        // A Retry-After from the body's first bytes (seconds, a date, or junk).
        let end = body
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(body.len())
            .min(40);
        if let Ok(v) = http::HeaderValue::from_bytes(&body[..end]) {
            builder = builder.header("retry-after", v);
        }
    }
    let response = builder.body(body.to_vec()).unwrap();

    match decode_page(&response, max_body) {
        Ok(page) => {
            assert!(response.status().is_success());
            assert!(body.len() <= max_body);
            // What decoded once decodes again to the same page from its own encoding.
            let json = serde_json::to_vec(&page).expect("a decoded page encodes");
            let again = Page::<Chat>::from_slice(&json).expect("an encoded page decodes");
            assert_eq!(page, again);
        }
        Err(e) => {
            match &e {
                Error::Decode { .. } => assert!(response.status().is_success()),
                Error::Api(api) => assert_eq!(api.status, status),
                Error::BodyTooLarge { limit } => assert_eq!(*limit, max_body),
                other => panic!("unexpected error kind: {other:?}"),
            }
            let _ = (e.to_string(), format!("{e:?}"));
        }
    }

    let verdict = Exchange::new(&RetryPolicy::default(), max_body).judge(
        Ok(response),
        SystemTime::UNIX_EPOCH,
        0.5,
    );
    if let Verdict::Retry(wait) = verdict {
        assert!(wait <= RetryPolicy::default().max_total_wait);
    }
});

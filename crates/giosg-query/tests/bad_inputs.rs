//! The catalog of bad responses (`fixtures/bad/`, outcomes in `fixtures/bad/expected.json`)
//! and larger ones generated here: each must give a typed error or a tolerant decode, never a
//! panic, and never use memory out of proportion to the body (bodies over the cap are refused
//! without decoding). A counting allocator measures each decode's peak heap on its thread.

use giosg_query::{decode_page, ApiErrorKind, Error, Exchange, RetryPolicy, Verdict};
#[path = "../../../tests/support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::peak_heap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::SystemTime;

// ---- Running one input.

const CAP: usize = giosg_query::DEFAULT_MAX_BODY;

/// What an input must turn into.
#[derive(Debug)]
enum Outcome {
    /// A 2xx body that is not a page: `Error::Decode`, maybe with the path and EOF-ness.
    DecodeError {
        path: Option<String>,
        eof: Option<bool>,
    },
    /// Decodes, with this many chats.
    Tolerant { results: Option<usize> },
    /// `Error::Api` of this kind.
    Api {
        kind: ApiErrorKind,
        detail: Option<String>,
    },
    /// `Error::BodyTooLarge`.
    TooLarge,
}

struct Input {
    name: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    max_body: usize,
    outcome: Outcome,
    /// What `Exchange::judge` says on a first attempt: `retry`, `fail` or `page`.
    retry: Option<String>,
}

impl Input {
    fn new(name: &str, status: u16, body: Vec<u8>, outcome: Outcome) -> Self {
        Input {
            name: name.to_owned(),
            status,
            headers: Vec::new(),
            body,
            max_body: CAP,
            outcome,
            retry: None,
        }
    }

    fn response(&self) -> http::Response<Vec<u8>> {
        let mut b = http::Response::builder().status(self.status);
        for (k, v) in &self.headers {
            b = b.header(k, v);
        }
        b.body(self.body.clone()).expect("a valid response")
    }
}

/// The longest `Display` or `Debug` any error may have, whatever the body: errors are read by
/// people and written to logs.
const MAX_MESSAGE: usize = 16 * 1024;

fn kind(name: &str) -> ApiErrorKind {
    match name {
        "BadRequest" => ApiErrorKind::BadRequest,
        "Unauthorized" => ApiErrorKind::Unauthorized,
        "Forbidden" => ApiErrorKind::Forbidden,
        "NotFound" => ApiErrorKind::NotFound,
        "RateLimited" => ApiErrorKind::RateLimited,
        "Server" => ApiErrorKind::Server,
        "Other" => ApiErrorKind::Other,
        other => panic!("unknown kind {other}"),
    }
}

/// Checks one input; returns a description of what went wrong, if anything.
fn check(input: &Input) -> Result<(), String> {
    let response = input.response();
    let ran = catch_unwind(AssertUnwindSafe(|| {
        peak_heap(|| decode_page(&response, input.max_body))
    }));
    let (result, peak) = ran.map_err(|_| "decode_page panicked".to_owned())?;

    // Memory: a refused body costs nothing; a decoded one a bounded multiple of its size.
    let budget = match input.outcome {
        Outcome::TooLarge => 64 << 10,
        _ => 16 * input.body.len() + (1 << 20),
    };
    if peak > budget {
        return Err(format!(
            "peak heap {peak} bytes for a {}-byte body (budget {budget})",
            input.body.len()
        ));
    }

    match (&input.outcome, &result) {
        (Outcome::DecodeError { path, eof }, Err(Error::Decode { status, source })) => {
            if *status != input.status {
                return Err(format!("status {status}"));
            }
            if let Some(path) = path {
                if source.path() != path {
                    return Err(format!("path {:?}, expected {path:?}", source.path()));
                }
            }
            if let Some(eof) = eof {
                if source.is_eof() != *eof {
                    return Err(format!("is_eof {} ({source})", source.is_eof()));
                }
            }
        }
        (Outcome::Tolerant { results }, Ok(page)) => {
            if let Some(n) = results {
                if page.results.len() != *n {
                    return Err(format!("{} results, expected {n}", page.results.len()));
                }
            }
        }
        (Outcome::Api { kind, detail }, Err(Error::Api(api))) => {
            if api.kind != *kind || api.status != input.status {
                return Err(format!("{:?} {}", api.kind, api.status));
            }
            if detail.is_some() && api.detail != *detail {
                return Err(format!("detail {:?}", api.detail));
            }
            if api.body.as_ref().is_some_and(|b| b.len() > 1024 * 4 + 4) {
                return Err("the kept body is not bounded".to_owned());
            }
        }
        (Outcome::TooLarge, Err(Error::BodyTooLarge { limit })) if *limit == input.max_body => {}
        (want, got) => return Err(format!("expected {want:?}, got {got:?}")),
    }

    // Every message, down the error chain, is bounded.
    if let Err(e) = &result {
        let mut source: Option<&dyn std::error::Error> = Some(e);
        while let Some(e) = source {
            let (display, debug) = (e.to_string(), format!("{e:?}"));
            if display.len() > MAX_MESSAGE || debug.len() > MAX_MESSAGE {
                return Err(format!(
                    "an error message of {} / {} bytes: {}…",
                    display.len(),
                    debug.len(),
                    display.chars().take(200).collect::<String>()
                ));
            }
            source = e.source();
        }
    }

    // The retry decision is made without panicking, and is the expected one.
    let verdict = catch_unwind(AssertUnwindSafe(|| {
        Exchange::new(&RetryPolicy::default(), input.max_body).judge(
            Ok(input.response()),
            SystemTime::now(),
            0.5,
        )
    }))
    .map_err(|_| "Exchange::judge panicked".to_owned())?;
    let said = match verdict {
        Verdict::Page(_) => "page",
        Verdict::Retry(_) => "retry",
        Verdict::Fail(_) => "fail",
    };
    if let Some(want) = &input.retry {
        if said != want {
            return Err(format!("Exchange said {said}, expected {want}"));
        }
    }
    Ok(())
}

fn run_all(inputs: &[Input]) {
    let failures: Vec<String> = inputs
        .iter()
        .filter_map(|i| check(i).err().map(|e| format!("{}: {e}", i.name)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- The catalog.

fn catalog() -> Vec<Input> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bad");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let str_of =
        |c: &serde_json::Value, k: &str| c.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let name = c["file"].as_str().unwrap();
            let body = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            let status = c["status"].as_u64().unwrap() as u16;
            let outcome = match c["outcome"].as_str().unwrap() {
                "decode-error" => Outcome::DecodeError {
                    path: str_of(c, "path"),
                    eof: c.get("eof").and_then(|v| v.as_bool()),
                },
                "tolerant-decode" => Outcome::Tolerant {
                    results: c
                        .get("results")
                        .and_then(|v| v.as_u64())
                        .map(|n| n as usize),
                },
                "api-error" => Outcome::Api {
                    kind: kind(c["kind"].as_str().unwrap()),
                    detail: str_of(c, "detail"),
                },
                "too-large" => Outcome::TooLarge,
                other => panic!("{name}: unknown outcome {other}"),
            };
            let mut input = Input::new(name, status, body, outcome);
            if let Some(headers) = c.get("headers").and_then(|h| h.as_object()) {
                for (k, v) in headers {
                    input
                        .headers
                        .push((k.clone(), v.as_str().unwrap().to_owned()));
                }
            }
            if let Some(n) = c.get("max_body").and_then(|v| v.as_u64()) {
                input.max_body = n as usize;
            }
            input.retry = str_of(c, "retry");
            input
        })
        .collect()
}

#[test]
fn the_catalog_has_every_file_and_at_least_forty() {
    let inputs = catalog();
    assert!(inputs.len() >= 40, "{} inputs", inputs.len());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bad");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "expected.json")
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = inputs.iter().map(|i| i.name.clone()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "every file in fixtures/bad has an expected outcome"
    );
}

#[test]
fn every_catalogued_input_gives_its_expected_outcome() {
    run_all(&catalog());
}

#[test]
fn every_catalogued_body_is_safe_under_every_status() {
    // The same bodies under other statuses: a typed error or a page, never a panic.
    let mut inputs = Vec::new();
    for c in catalog() {
        for status in [200, 201, 204, 301, 400, 401, 404, 429, 500, 502, 503, 599] {
            let mut i = Input::new(&c.name, status, c.body.clone(), Outcome::TooLarge);
            i.headers = c.headers.clone();
            inputs.push(i);
        }
    }
    for i in &inputs {
        let response = i.response();
        let result = catch_unwind(AssertUnwindSafe(|| decode_page(&response, CAP)))
            .unwrap_or_else(|_| panic!("{} at {}: panicked", i.name, i.status));
        match result {
            Ok(_) => assert!((200..300).contains(&i.status), "{}", i.name),
            Err(Error::Decode { .. }) => assert!((200..300).contains(&i.status)),
            Err(Error::Api(api)) => assert_eq!(api.status, i.status),
            Err(e) => panic!("{} at {}: {e:?}", i.name, i.status),
        }
    }
}

// ---- Generated inputs: too large to commit, or derived from the good fixtures.

const ID: &str = "58f5055c-56e0-11e5-9354-6c4008c08dfe";

fn page_with(chat_fields: &str) -> Vec<u8> {
    format!(r#"{{"count": 1, "num_pages": 1, "current_page": 1, "results": [{{"id": "{ID}", {chat_fields}}}]}}"#)
        .into_bytes()
}

fn decode_error() -> Outcome {
    Outcome::DecodeError {
        path: None,
        eof: Some(false),
    }
}

#[test]
fn generated_deep_large_and_enormous_inputs() {
    let deep =
        |open: &str, close: &str, n: usize| format!("{}1{}", open.repeat(n), close.repeat(n));
    let huge = "x".repeat(16 << 20);
    let many_chats = {
        let mut s =
            String::from(r#"{"count": 20000, "num_pages": 1, "current_page": 1, "results": ["#);
        for i in 0..20_000u32 {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&format!(r#"{{"id": "00000000-0000-4000-8000-{i:012}"}}"#));
        }
        s.push_str("]}");
        s
    };
    let filler_over_cap = {
        let unit = format!(r#"{{"id": "{ID}"}}, "#);
        let mut s = String::from(r#"{"results": ["#);
        while s.len() <= CAP + 1 {
            s.push_str(&unit);
        }
        s
    };
    let mut small_cap = Input::new(
        "reference page over a 1 KiB cap",
        200,
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/reference-page.json"),
        )
        .unwrap(),
        Outcome::TooLarge,
    );
    small_cap.max_body = 1024;
    let mut over_cap_error = Input::new(
        "a 503 page over the cap",
        503,
        vec![b'x'; 2 << 20],
        Outcome::TooLarge,
    );
    over_cap_error.max_body = 1 << 20;
    let inputs = vec![
        Input::new(
            "10k nested arrays",
            200,
            deep("[", "]", 10_000).into_bytes(),
            decode_error(),
        ),
        // An unknown member is kept (and written back), so one nested deeper than serde_json's
        // 128 levels cannot be: the page fails with a located error rather than losing it.
        Input::new(
            "100k nested objects in an unknown top-level field",
            200,
            deep(r#"{"a":"#, "}", 100_000).into_bytes(),
            Outcome::DecodeError {
                path: None,
                eof: Some(false),
            },
        ),
        Input::new(
            "10k nested objects as the results",
            200,
            format!(r#"{{"results": {}}}"#, deep(r#"{"a":"#, "}", 10_000)).into_bytes(),
            Outcome::DecodeError {
                path: Some("results".into()),
                eof: Some(false),
            },
        ),
        Input::new(
            "100k field errors in a 400",
            400,
            {
                let fields: Vec<String> = (0..100_000)
                    .map(|i| format!(r#""field{i}": ["bad {i}", "worse"]"#))
                    .collect();
                format!("{{{}}}", fields.join(", ")).into_bytes()
            },
            Outcome::Api {
                kind: ApiErrorKind::BadRequest,
                detail: None,
            },
        ),
        Input::new(
            "10k nested arrays in tags",
            200,
            page_with(&format!(r#""tags": {}"#, deep("[", "]", 10_000))),
            Outcome::DecodeError {
                path: None,
                eof: Some(false),
            },
        ),
        Input::new(
            "100k nested arrays in an unknown field",
            200,
            page_with(&format!(r#""future": {}"#, deep("[", "]", 100_000))),
            Outcome::DecodeError {
                path: None,
                eof: Some(false),
            },
        ),
        Input::new(
            "50k nested arrays in a 400 error",
            400,
            format!(r#"{{"detail": {}}}"#, deep("[", "]", 50_000)).into_bytes(),
            Outcome::Api {
                kind: ApiErrorKind::BadRequest,
                detail: None,
            },
        ),
        Input::new(
            "a 16 MiB token",
            200,
            page_with(&format!(r#""token": "{huge}""#)),
            Outcome::Tolerant { results: Some(1) },
        ),
        Input::new(
            "a 16 MiB string as the count",
            200,
            format!(r#"{{"count": "{huge}", "results": []}}"#).into_bytes(),
            Outcome::DecodeError {
                path: Some("count".into()),
                eof: Some(false),
            },
        ),
        Input::new(
            "a 16 MiB string as a time",
            200,
            page_with(&format!(r#""start_time": "{huge}""#)),
            Outcome::DecodeError {
                path: Some("results[0].start_time".into()),
                eof: Some(false),
            },
        ),
        Input::new(
            "a 16 MiB string as a price",
            200,
            page_with(&format!(
                r#""shopping_carts": [{{"total_price": "{huge}"}}]"#
            )),
            Outcome::DecodeError {
                path: Some("results[0].shopping_carts[0].total_price".into()),
                eof: Some(false),
            },
        ),
        Input::new(
            "a 16 MiB unterminated string",
            200,
            page_with(&format!(r#""token": "{huge}"#)),
            Outcome::DecodeError {
                path: None,
                eof: Some(true),
            },
        ),
        Input::new(
            "a 16 MiB detail in a 401",
            401,
            format!(r#"{{"detail": "{huge}"}}"#).into_bytes(),
            Outcome::Api {
                kind: ApiErrorKind::Unauthorized,
                detail: None,
            },
        ),
        Input::new(
            "a 16 MiB field error in a 400",
            400,
            format!(r#"{{"tag": ["{huge}"]}}"#).into_bytes(),
            Outcome::Api {
                kind: ApiErrorKind::BadRequest,
                detail: None,
            },
        ),
        Input::new(
            "a 16 MiB HTML 502",
            502,
            format!("<html>{huge}</html>").into_bytes(),
            Outcome::Api {
                kind: ApiErrorKind::Server,
                detail: None,
            },
        ),
        Input::new(
            "20k chats",
            200,
            many_chats.into_bytes(),
            Outcome::Tolerant {
                results: Some(20_000),
            },
        ),
        Input::new(
            "a 100k-digit count",
            200,
            format!(r#"{{"count": {}, "results": []}}"#, "9".repeat(100_000)).into_bytes(),
            Outcome::DecodeError {
                path: Some("count".into()),
                eof: Some(false),
            },
        ),
        Input::new(
            "an exponent past u64",
            200,
            br#"{"count": 1e99999999999999999999999, "results": []}"#.to_vec(),
            Outcome::DecodeError {
                path: Some("count".into()),
                eof: Some(false),
            },
        ),
        Input::new(
            "a body just over the default cap",
            200,
            filler_over_cap.into_bytes(),
            Outcome::TooLarge,
        ),
        small_cap,
        over_cap_error,
    ];
    run_all(&inputs);
}

#[test]
fn every_truncation_of_the_reference_page_is_a_retryable_eof() {
    let full = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/reference-page.json"),
    )
    .unwrap();
    let end = full.iter().rposition(|&b| b == b'}').unwrap();
    let inputs: Vec<Input> = (0..=end)
        .map(|cut| {
            let mut i = Input::new(
                &format!("reference page cut at {cut}"),
                200,
                full[..cut].to_vec(),
                Outcome::DecodeError {
                    path: None,
                    eof: Some(true),
                },
            );
            i.retry = Some("retry".into());
            i
        })
        .collect();
    run_all(&inputs);
}

#[test]
fn seeded_mutations_of_good_pages_never_panic() {
    // Byte flips, insertions and deletions in the good fixtures: whatever comes out is a page
    // or a typed error. (The fuzzers go much further; this keeps a fast, seeded floor in CI.)
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut seeds = vec![std::fs::read(root.join("reference-page.json")).unwrap()];
    for entry in std::fs::read_dir(root.join("edge")).unwrap() {
        seeds.push(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let interesting: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b":",
        b",",
        b"null",
        b"-1",
        b"1e400",
        b"\\u",
        b"\xff",
        b"18446744073709551616",
        b"\"\"",
        b"{}",
        b"[]",
        b"0",
    ];
    let mut state: u64 = 0x005e_ed0f_bad1;
    let mut rand = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut inputs = Vec::new();
    for round in 0..3000 {
        let mut body = seeds[round % seeds.len()].clone();
        for _ in 0..1 + rand(4) {
            let at = rand(body.len().max(1));
            match rand(3) {
                0 if !body.is_empty() => body[at] = rand(256) as u8,
                1 => {
                    let piece = interesting[rand(interesting.len())];
                    body.splice(at..at, piece.iter().copied());
                }
                _ => {
                    let to = (at + rand(16)).min(body.len());
                    body.drain(at..to);
                }
            }
        }
        inputs.push(body);
    }
    for (n, body) in inputs.into_iter().enumerate() {
        let response = http::Response::builder().status(200).body(body).unwrap();
        let (result, peak) = catch_unwind(AssertUnwindSafe(|| {
            peak_heap(|| decode_page(&response, CAP))
        }))
        .unwrap_or_else(|_| panic!("mutation {n} panicked"));
        assert!(
            peak <= 16 * response.body().len() + (1 << 20),
            "mutation {n}: {peak} bytes"
        );
        match result {
            Ok(_) | Err(Error::Decode { .. }) => {}
            Err(e) => panic!("mutation {n}: {e:?}"),
        }
    }
}

/// A page of about `bytes` bytes whose one chat has the member `name` holding `[item,item,...]`.
fn page_of(name: &str, item: &str, bytes: usize) -> Vec<u8> {
    let items = vec![item; bytes / (item.len() + 1)].join(",");
    format!(
        r#"{{"count": 1, "results": [{{"id": "58f5055c-56e0-11e5-9354-6c4008c08dfe", "{name}": [{items}]}}]}}"#
    )
    .into_bytes()
}

/// 30 MB (under the 32 MiB cap) of members that take ten to fifty times their text decoded: a
/// member the model does not know holding `[],[],...` (3 bytes of JSON, a 32-byte value each;
/// once 349 MB of RSS), and messages `{},{},...` (3 bytes, a 144-byte message each). Each is
/// refused by the page's memory budget, within a bounded multiple of the body (the budget,
/// 4 bytes per byte and 16 MiB, and a growing list's old buffer beside it).
#[test]
fn pages_of_tiny_members_are_refused_within_the_memory_budget() {
    for (name, item) in [("x", "[]"), ("logs", "{}"), ("x", "{}"), ("x", "0")] {
        let body = page_of(name, item, 30 << 20);
        let response = http::Response::builder().status(200).body(body).unwrap();
        let (result, peak) = peak_heap(|| decode_page(&response, CAP));
        let len = response.body().len();
        match result {
            Err(Error::Decode { source, .. }) => {
                assert!(source.is_over_budget(), "{name}: {item}: {source}");
            }
            other => panic!("{name}: {item}: {other:?}"),
        }
        let bound = 7 * len + (32 << 20);
        assert!(
            peak <= bound,
            "{name}: {item}: peak heap {peak} bytes for a {len}-byte body"
        );
    }
}

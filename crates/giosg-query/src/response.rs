//! Responses: a page, or the API's error, typed.

use crate::{retry::RetryAfter, ApiError, ApiErrorKind, Error};
use giosg_model::{Chat, Page};

/// How much of a non-JSON error body, or of a `detail`, an [`ApiError`] keeps (bytes).
const BODY_KEPT: usize = 1024;
/// How many Django REST framework field errors an [`ApiError`] keeps, and how many messages of
/// each, and how many bytes of each name and message: error text stays small whatever the body.
const FIELDS_KEPT: usize = 8;
const MESSAGES_KEPT: usize = 4;
const FIELD_TEXT_KEPT: usize = 256;

/// Decodes a response into a page of chats, or a typed error.
///
/// - a body longer than `max_body` is [`Error::BodyTooLarge`] (transports stop reading at the
///   cap; this check holds for any transport);
/// - 2xx decodes as a [`Page<Chat>`], or fails as [`Error::Decode`] with the JSON path;
/// - any other status is [`Error::Api`], with Django REST framework's `detail` and field
///   errors when the body has them, the body's first KiB otherwise, and `Retry-After`.
pub fn decode_page(
    response: &http::Response<Vec<u8>>,
    max_body: usize,
) -> Result<Page<Chat>, Error> {
    let body = response.body();
    if body.len() > max_body {
        return Err(Error::BodyTooLarge { limit: max_body });
    }
    let status = response.status();
    if status.is_success() {
        return Page::from_slice(body).map_err(|source| Error::Decode {
            status: status.as_u16(),
            source,
        });
    }
    Err(Error::Api(api_error(response)))
}

/// Decodes the answer to a cursor-paged request ([`CursorPager`](crate::CursorPager)): a page
/// on success, the API's error otherwise (a cursor that does not decode is giosg's `404
/// Invalid cursor`), as [`decode_page`] does for chats.
pub fn decode_cursor_page<T: serde::de::DeserializeOwned>(
    response: &http::Response<Vec<u8>>,
    max_body: usize,
) -> Result<giosg_model::CursorPage<T>, Error> {
    let body = response.body();
    if body.len() > max_body {
        return Err(Error::BodyTooLarge { limit: max_body });
    }
    let status = response.status();
    if status.is_success() {
        return giosg_model::CursorPage::from_slice(body).map_err(|source| Error::Decode {
            status: status.as_u16(),
            source,
        });
    }
    Err(Error::Api(api_error(response)))
}

/// Decodes the answer to a request for one resource (`users/me`, say): the resource on
/// success, the API's error otherwise.
pub fn decode_resource<T: serde::de::DeserializeOwned>(
    response: &http::Response<Vec<u8>>,
    max_body: usize,
) -> Result<T, Error> {
    let body = response.body();
    if body.len() > max_body {
        return Err(Error::BodyTooLarge { limit: max_body });
    }
    let status = response.status();
    if status.is_success() {
        return giosg_model::from_slice(body).map_err(|source| Error::Decode {
            status: status.as_u16(),
            source,
        });
    }
    Err(Error::Api(api_error(response)))
}

fn api_error(response: &http::Response<Vec<u8>>) -> ApiError {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(RetryAfter::parse);
    let mut error = ApiError {
        status,
        kind: ApiErrorKind::from_status(status),
        detail: None,
        field_errors: Vec::new(),
        body: None,
        retry_after,
    };
    let body = response.body();
    match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body) {
        Ok(map) if is_drf_error(&map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("detail", serde_json::Value::String(s)) => {
                        error.detail = Some(bounded_str(&s, BODY_KEPT));
                    }
                    _ if error.field_errors.len() >= FIELDS_KEPT => {}
                    (_, serde_json::Value::Array(items)) => {
                        let messages = items.into_iter().take(MESSAGES_KEPT).map(message).collect();
                        error.field_errors.push((field_text(&key), messages));
                    }
                    (_, other) => error
                        .field_errors
                        .push((field_text(&key), vec![message(other)])),
                }
            }
        }
        _ if body.is_empty() => {}
        _ => error.body = Some(bounded_text(body, BODY_KEPT)),
    }
    error
}

/// Django REST framework errors are an object of `detail` or of field -> messages.
fn is_drf_error(map: &serde_json::Map<String, serde_json::Value>) -> bool {
    !map.is_empty()
        && map.iter().all(|(k, v)| match v {
            serde_json::Value::String(_) => k == "detail",
            serde_json::Value::Array(items) => items.iter().all(|i| i.is_string()),
            _ => false,
        })
}

fn message(value: serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => field_text(&s),
        other => field_text(&other.to_string()),
    }
}

fn field_text(text: &str) -> String {
    bounded_str(text, FIELD_TEXT_KEPT)
}

/// At most the first `kept` bytes of `text`, cut at a character boundary, with `…` if cut.
fn bounded_str(text: &str, kept: usize) -> String {
    if text.len() <= kept {
        return text.to_owned();
    }
    let cut = (0..=kept)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}…", &text[..cut])
}

/// The first `kept` bytes of `text` (a cut character becomes U+FFFD), with `…` if cut.
fn bounded_text(text: &[u8], kept: usize) -> String {
    let cut = text.len().min(kept);
    let mut out = String::from_utf8_lossy(&text[..cut]).into_owned();
    if cut < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> http::Response<Vec<u8>> {
        http::Response::builder()
            .status(status)
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    #[test]
    fn drf_bodies_are_parsed() {
        let e = decode_page(&response(400, r#"{"page_size": ["Ensure this value is less than or equal to 100."], "non_field_errors": ["x"]}"#), 1 << 20).unwrap_err();
        let Error::Api(api) = e else { panic!("{e:?}") };
        assert_eq!(api.kind, ApiErrorKind::BadRequest);
        assert_eq!(api.field_errors[1].0, "page_size");
        assert_eq!(api.field_errors.len(), 2);
        assert_eq!(api.body, None);

        let e =
            decode_page(&response(401, r#"{"detail": "Invalid token."}"#), 1 << 20).unwrap_err();
        assert_eq!(e.api().unwrap().detail.as_deref(), Some("Invalid token."));
        assert_eq!(
            e.to_string(),
            "giosg API answered 401 Unauthorized: Invalid token."
        );
    }

    #[test]
    fn the_servers_text_is_kept_as_sent_and_shown_escaped() {
        let body = r#"{"detail": "\u001b]0;PWNED\u0007", "\u001b[2J": ["\u009b31m"]}"#;
        let e = decode_page(&response(400, body), 1 << 20).unwrap_err();
        let api = e.api().unwrap();
        assert_eq!(api.detail.as_deref(), Some("\u{1b}]0;PWNED\u{7}"));
        let shown = e.to_string();
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert_eq!(
            shown,
            r"giosg API answered 400 Bad Request: \u{1b}]0;PWNED\u{7}; \u{1b}[2J: \u{9b}31m"
        );
    }

    #[test]
    fn other_bodies_are_kept_bounded() {
        let html = format!("<html>{}</html>", "x".repeat(5000));
        let e = decode_page(&response(502, &html), 1 << 20).unwrap_err();
        let api = e.api().unwrap();
        assert_eq!(api.kind, ApiErrorKind::Server);
        assert_eq!(api.body.as_ref().unwrap().chars().count(), BODY_KEPT + 1);
        let e = decode_page(&response(503, ""), 1 << 20).unwrap_err();
        assert_eq!(e.api().unwrap().body, None);
    }

    #[test]
    fn the_cap_holds() {
        let e = decode_page(&response(200, "[1, 2, 3]"), 4).unwrap_err();
        assert!(matches!(e, Error::BodyTooLarge { limit: 4 }));
    }
}

//! Responses: a page, or the API's error, typed.

use crate::{retry::RetryAfter, ApiError, ApiErrorKind, Error};
use giosg_model::{Chat, Page};

/// How much of a non-JSON error body an [`ApiError`] keeps.
const BODY_KEPT: usize = 1024;

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
                    ("detail", serde_json::Value::String(s)) => error.detail = Some(s),
                    (_, serde_json::Value::Array(items)) => {
                        let messages = items.into_iter().map(message).collect();
                        error.field_errors.push((key, messages));
                    }
                    (_, other) => error.field_errors.push((key, vec![message(other)])),
                }
            }
        }
        _ if body.is_empty() => {}
        _ => error.body = Some(bounded_text(body)),
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
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

fn bounded_text(body: &[u8]) -> String {
    let cut = body.len().min(BODY_KEPT);
    let mut text = String::from_utf8_lossy(&body[..cut]).into_owned();
    if cut < body.len() {
        text.push('…');
    }
    text
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

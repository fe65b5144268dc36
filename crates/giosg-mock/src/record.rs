//! What the server saw.

use crate::fault::Fault;

/// One request the server received, as it saw it, with what it answered.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The path, still percent-encoded, without the query.
    pub path: String,
    /// The query's pairs, percent- and form-decoded, in the order sent.
    pub query: Vec<(String, String)>,
    /// Every header (lower-case names, in the order sent). The `Authorization` value is masked
    /// to its scheme: `Token ***`, `Bearer ***`, or `***` for anything else.
    pub headers: Vec<(String, String)>,
    /// The status answered; `0` when the connection was dropped without a response.
    pub status: u16,
    /// The fault injected into this request, if any.
    pub fault: Option<Fault>,
}

impl RecordedRequest {
    /// The decoded value of query parameter `name` (its last occurrence).
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of header `name` (case-insensitive; the first occurrence).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `Token abc` -> `Token ***`; anything without a recognised scheme -> `***`.
pub(crate) fn mask_authorization(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _))
            if scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer") =>
        {
            format!("{scheme} ***")
        }
        _ => "***".to_owned(),
    }
}

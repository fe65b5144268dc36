//! Credentials that cannot be printed.

use std::fmt;

/// A secret string: its `Debug` and `Display` print `[redacted]`, and the only way to read it
/// is [`Secret::expose`], which this crate calls in exactly one place (the `Authorization`
/// header, marked sensitive).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret itself. Never log or print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How requests authenticate: `Authorization: Token <api token>` or `Bearer <access token>`.
///
/// ```
/// let c = giosg_query::Credentials::token("s3cret");
/// assert_eq!(format!("{c:?}"), "Token([redacted])");
/// assert!(!format!("{c:?} {c}").contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// A giosg API token, sent as `Authorization: Token <token>`.
    Token(Secret),
    /// An OAuth2 access token, sent as `Authorization: Bearer <token>`.
    Bearer(Secret),
}

impl Credentials {
    /// An API token.
    pub fn token(token: impl Into<String>) -> Self {
        Credentials::Token(Secret::new(token))
    }

    /// An OAuth2 access token.
    pub fn bearer(token: impl Into<String>) -> Self {
        Credentials::Bearer(Secret::new(token))
    }

    /// The `Authorization` header value, marked sensitive so that `http`'s `Debug` hides it.
    /// `None` if the token holds characters a header cannot carry.
    pub(crate) fn header_value(&self) -> Option<http::HeaderValue> {
        let (scheme, secret) = match self {
            Credentials::Token(s) => ("Token", s),
            Credentials::Bearer(s) => ("Bearer", s),
        };
        let mut value =
            http::HeaderValue::from_str(&format!("{scheme} {}", secret.expose())).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Token(_) => f.write_str("Token([redacted])"),
            Credentials::Bearer(_) => f.write_str("Bearer([redacted])"),
        }
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

//! Credentials that cannot be printed.

use crate::ConfigError;
use std::fmt;

/// The environment variable a client reads the API token from when it is given none.
pub const TOKEN_ENV: &str = "GIOSG_API_TOKEN";

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
/// Whitespace around a token (the newline that ends a file, a space pasted with it) is not
/// part of it and is not sent; a token with nothing else, or with characters a header cannot
/// carry, is refused when the client is built ([`ConfigError::EmptyToken`],
/// [`ConfigError::TokenNotHeaderSafe`]).
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

    /// The `Authorization` header value, marked sensitive so that `http`'s `Debug` hides it:
    /// the token without the whitespace around it, which must be printable ASCII.
    pub(crate) fn header_value(&self) -> Result<http::HeaderValue, ConfigError> {
        let (scheme, secret) = match self {
            Credentials::Token(s) => ("Token", s),
            Credentials::Bearer(s) => ("Bearer", s),
        };
        let token = secret.expose().trim();
        if token.is_empty() {
            return Err(ConfigError::EmptyToken);
        }
        // Tokens are ASCII; a header would carry anything else as raw bytes.
        if !token.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(ConfigError::TokenNotHeaderSafe);
        }
        let mut value = http::HeaderValue::from_str(&format!("{scheme} {token}"))
            .map_err(|_| ConfigError::TokenNotHeaderSafe)?;
        value.set_sensitive(true);
        Ok(value)
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

//! Every way a listing can fail, in one enum.

use giosg_model::DecodeError;
use std::{fmt, time::Duration};

mod reasons;
mod transport;

pub use reasons::{ApiError, ApiErrorKind, ConfigError, PagingError, ValidationError};
pub use transport::{TimeoutKind, TransportError, TransportErrorKind};

/// Everything that can go wrong listing chats.
///
/// Each variant keeps its cause; none of them can contain the API token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client's configuration is unusable (a base URL that is not https, say).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A filter or parameter is out of range; nothing was sent.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The API answered with an error status.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The API answered 2xx with a body that is not a valid page.
    #[error("HTTP {status} with an undecodable body")]
    Decode {
        /// The response's status.
        status: u16,
        /// Where and why decoding failed.
        #[source]
        source: DecodeError,
    },
    /// The response body is larger than the configured cap; it was not read whole. A
    /// transport says so with [`TransportError::body_too_large`], which becomes this.
    #[error("response body larger than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The request did not complete: connection, timeout, or I/O failure.
    #[error(transparent)]
    Transport(TransportError),
    /// The pages do not add up (a page that does not advance, say).
    #[error(transparent)]
    Paging(#[from] PagingError),
    /// A retryable failure persisted: the last one (its [`source`](std::error::Error::source)),
    /// after this many attempts.
    #[error("gave up after {attempts} attempts ({} waiting)", Human(*.waited))]
    RetriesExhausted {
        /// How many requests were sent.
        attempts: u32,
        /// How long was spent waiting between them.
        waited: Duration,
        /// The last failure.
        #[source]
        last: Box<Error>,
    },
    /// The API asked (`Retry-After`) to wait longer than the retry policy allows
    /// ([`RetryPolicy::max_total_wait`](crate::RetryPolicy::max_total_wait) minus what was
    /// already waited), so the request failed at once instead of waiting. The failure that
    /// carried the header is the [`source`](std::error::Error::source).
    #[error("{} asked to wait {} before retrying (Retry-After), longer than the retry policy allows ({} more): try again after that wait, or allow longer waits (RetryPolicy::max_total_wait)", Answered(last), Human(*.asked), Human(*.allowed))]
    RetryAfterTooLong {
        /// The wait the server asked for.
        asked: Duration,
        /// The wait the retry policy still allowed.
        allowed: Duration,
        /// How many requests were sent.
        attempts: u32,
        /// The failure that carried the `Retry-After` header.
        #[source]
        last: Box<Error>,
    },
}

/// What kind of failure an [`Error`] is, looking through retries: the question a caller
/// asks of an error, answered without unwrapping it ([`Error::kind`]).
///
/// | kind | what failed | retried by the client |
/// | --- | --- | --- |
/// | `Config` | the client's configuration (base URL, token); nothing was sent | no |
/// | `InvalidRequest` | a filter or parameter out of range; nothing was sent | no |
/// | `BadRequest` | the API refused a parameter (400) | no |
/// | `Unauthorized` | missing or invalid token (401) | no |
/// | `Forbidden` | the token may not read this organisation (403) | no |
/// | `NotFound` | no such organisation, or a page past the last (404) | no |
/// | `RateLimited` | too many requests (429) | yes |
/// | `Server` | the server failed (5xx) | 500, 502, 503, 504 |
/// | `UnexpectedStatus` | any other status (a redirect, which is never followed) | no |
/// | `Connect` | no connection: DNS, refused, TLS handshake | yes |
/// | `Timeout` | a connect, read or overall timeout fired ([`Error::timeout`] says which) | yes |
/// | `Network` | the connection broke mid-request or mid-body | yes |
/// | `BadResponse` | a 2xx body that is not a page, or one larger than the cap | truncated bodies |
/// | `Paging` | the pages do not add up ([`PagingError`]) | no |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The client's configuration is unusable ([`ConfigError`]); nothing was sent.
    Config,
    /// A filter or parameter is out of range ([`ValidationError`]); nothing was sent.
    InvalidRequest,
    /// 400: the API refused a parameter.
    BadRequest,
    /// 401: missing or invalid token.
    Unauthorized,
    /// 403: the token may not read this organisation.
    Forbidden,
    /// 404: no such organisation, or a page past the last.
    NotFound,
    /// 429: rate limited; [`Error::retry_after`] says how long the server asked to wait.
    RateLimited,
    /// 5xx: the server failed.
    Server,
    /// Any other error status (a 3xx, which the client never follows, say).
    UnexpectedStatus,
    /// The connection could not be made: DNS, refused, TLS handshake.
    Connect,
    /// A timeout fired: connect, read (a stalled or dribbling response) or overall.
    Timeout,
    /// The connection broke mid-request or mid-body.
    Network,
    /// A 2xx answer that is not a valid page, or a body larger than the cap.
    BadResponse,
    /// The pages of a listing do not add up.
    Paging,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Config => "configuration",
            ErrorKind::InvalidRequest => "invalid request",
            ErrorKind::BadRequest => "bad request",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not found",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::Server => "server error",
            ErrorKind::UnexpectedStatus => "unexpected status",
            ErrorKind::Connect => "connection failed",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Network => "network",
            ErrorKind::BadResponse => "bad response",
            ErrorKind::Paging => "paging",
        })
    }
}

/// Who asked, naming the status it answered: `the API answered HTTP 503 and`.
struct Answered<'a>(&'a Error);

impl fmt::Display for Answered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.status() {
            Some(status) => write!(f, "the API answered HTTP {status} and"),
            None => f.write_str("the API"),
        }
    }
}

/// A duration as a person reads it: `24h`, `1h30m`, `90s` → `1m30s`, `250ms`.
pub(crate) struct Human(pub Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        let secs = d.as_secs();
        if secs == 0 {
            return write!(f, "{}ms", d.as_millis());
        }
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        let mut out = String::new();
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if m > 0 {
            out.push_str(&format!("{m}m"));
        }
        if s > 0 || out.is_empty() {
            out.push_str(&format!("{s}s"));
        }
        f.write_str(&out)
    }
}

impl Error {
    /// What kind of failure this is, looking through [`Error::RetriesExhausted`] and
    /// [`Error::RetryAfterTooLong`]: match on this rather than on the variants.
    ///
    /// ```
    /// use giosg_query::{ApiError, Error, ErrorKind};
    /// fn advice(e: &Error) -> &'static str {
    ///     match e.kind() {
    ///         ErrorKind::Unauthorized | ErrorKind::Forbidden => "check the token",
    ///         ErrorKind::RateLimited => "slow down",
    ///         ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Network => "check the network",
    ///         _ => "see the message",
    ///     }
    /// }
    /// # let _ = advice;
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self.root() {
            Error::Config(_) => ErrorKind::Config,
            Error::Invalid(_) => ErrorKind::InvalidRequest,
            Error::Api(e) => match e.kind {
                ApiErrorKind::BadRequest => ErrorKind::BadRequest,
                ApiErrorKind::Unauthorized => ErrorKind::Unauthorized,
                ApiErrorKind::Forbidden => ErrorKind::Forbidden,
                ApiErrorKind::NotFound => ErrorKind::NotFound,
                ApiErrorKind::RateLimited => ErrorKind::RateLimited,
                ApiErrorKind::Server => ErrorKind::Server,
                ApiErrorKind::Other => ErrorKind::UnexpectedStatus,
            },
            Error::Decode { .. } | Error::BodyTooLarge { .. } => ErrorKind::BadResponse,
            Error::Transport(e) => match e.kind {
                TransportErrorKind::Connect => ErrorKind::Connect,
                TransportErrorKind::Timeout => ErrorKind::Timeout,
                TransportErrorKind::Io | TransportErrorKind::Other => ErrorKind::Network,
            },
            Error::Paging(_) => ErrorKind::Paging,
            // `root` never returns these.
            Error::RetriesExhausted { .. } | Error::RetryAfterTooLong { .. } => ErrorKind::Network,
        }
    }

    /// The HTTP status of the answer behind this error, if one came (an API error status, or
    /// the 2xx of an undecodable body), looking through retries.
    pub fn status(&self) -> Option<u16> {
        match self.root() {
            Error::Api(e) => Some(e.status),
            Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether this kind of failure is transient (429, 500/502/503/504, connection failures,
    /// timeouts, broken connections, truncated bodies): worth trying again later. The client
    /// already retried it as its [`RetryPolicy`](crate::RetryPolicy) allows
    /// ([`Error::attempts`] says how often). Looks through retries.
    pub fn is_retryable(&self) -> bool {
        crate::RetryPolicy::is_retryable(self.root())
    }

    /// How long the server asked to wait before trying again (`Retry-After`), if it did;
    /// an HTTP date is measured from now. Looks through retries.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RetryAfterTooLong { asked, .. } => Some(*asked),
            other => other
                .api()
                .and_then(|e| e.retry_after)
                .map(|r| r.delay(std::time::SystemTime::now())),
        }
    }

    /// Which timeout fired, when this is a timeout. Looks through retries.
    pub fn timeout(&self) -> Option<TimeoutKind> {
        match self.root() {
            Error::Transport(e) => e.timeout,
            _ => None,
        }
    }

    /// The API error behind this error, looking through retries.
    pub fn api(&self) -> Option<&ApiError> {
        match self.root() {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// How many requests were sent before this error (1 unless retries happened).
    pub fn attempts(&self) -> u32 {
        match self {
            Error::RetriesExhausted { attempts, .. }
            | Error::RetryAfterTooLong { attempts, .. } => *attempts,
            _ => 1,
        }
    }

    /// The underlying error, looking through [`Error::RetriesExhausted`] and
    /// [`Error::RetryAfterTooLong`].
    pub fn root(&self) -> &Error {
        match self {
            Error::RetriesExhausted { last, .. } | Error::RetryAfterTooLong { last, .. } => {
                last.root()
            }
            other => other,
        }
    }

    /// This error's message and those of its causes ([`source`](std::error::Error::source)
    /// chain), joined with `": "`: one line for a log or a terminal. (`Display` says this
    /// error's own part only, as `anyhow` and `eyre` expect.)
    ///
    /// ```
    /// use giosg_query::{Error, TransportError, TransportErrorKind};
    /// let e = Error::from(TransportError::new(TransportErrorKind::Connect, "refused"));
    /// assert_eq!(e.to_string(), "connection failed");
    /// assert_eq!(e.display_chain(), "connection failed: refused");
    /// ```
    pub fn display_chain(&self) -> String {
        let mut out = self.to_string();
        let mut next = std::error::Error::source(self);
        while let Some(e) = next {
            out.push_str(": ");
            out.push_str(&e.to_string());
            next = e.source();
        }
        out
    }
}

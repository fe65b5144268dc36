//! Every way a listing can fail, in one enum.

use crate::retry::RetryAfter;
use giosg_model::DecodeError;
use std::{fmt, time::Duration};

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
    #[error("the API asked to wait {} before retrying (Retry-After), longer than the retry policy allows ({} more): try again after that wait, or allow longer waits (RetryPolicy::max_total_wait)", Human(*.asked), Human(*.allowed))]
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

/// A configuration the client refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL does not parse.
    #[error("invalid base URL: {0}")]
    BaseUrl(String),
    /// The base URL is plain http to a host that is not loopback.
    #[error("base URL must be https (plain http is allowed only for loopback hosts or when explicitly opted in): {0}")]
    InsecureBaseUrl(String),
    /// The base URL carries a user name or password.
    #[error("base URL must not contain a user name or password")]
    BaseUrlUserInfo,
    /// The base URL has a query or fragment.
    #[error("base URL must not have a query or fragment: {0}")]
    BaseUrlQuery(String),
    /// The token cannot be sent in a header (control characters or non-ASCII).
    #[error("the API token contains characters that cannot be sent in a header")]
    TokenNotHeaderSafe,
    /// The token is empty.
    #[error("the API token is empty")]
    EmptyToken,
    /// No token was given and [`TOKEN_ENV`](crate::TOKEN_ENV) is not set.
    #[error("no API token: set {env} or give one to the client builder", env = crate::TOKEN_ENV)]
    MissingToken,
    /// The `User-Agent` cannot be sent in a header (control characters or non-ASCII).
    #[error("the User-Agent {0:?} cannot be sent in a header")]
    UserAgent(String),
}

/// A parameter out of range, named, with the reason. Nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// `page` is 0.
    #[error("page must be at least 1, got {0}")]
    Page(u32),
    /// `page_size` is not within 1 to [`MAX_PAGE_SIZE`](crate::MAX_PAGE_SIZE).
    #[error("page_size must be between 1 and {max}, got {0}", max = crate::MAX_PAGE_SIZE)]
    PageSize(u32),
    /// `start_time` is not before `end_time`.
    #[error("start_time ({start}) must be before end_time ({end})")]
    TimeRange {
        /// The start, as sent.
        start: String,
        /// The end, as sent.
        end: String,
    },
    /// `tag` is empty.
    #[error("tag must not be empty")]
    EmptyTag,
    /// An extra parameter would override a typed one (or is the discouraged `token`).
    #[error("extra parameter {0:?} is reserved: set it through the typed filter")]
    ReservedParameter(String),
    /// The request URL would be longer than a request can carry (64 KiB): a huge tag or extra
    /// parameter.
    #[error("the request URL would be longer than 64 KiB: shorten the tag or extra parameters")]
    UrlTooLong,
    /// An extra parameter has an empty name.
    #[error("extra parameter names must not be empty")]
    EmptyParameterName,
    /// `since_id` with a descending ordering: chats added later sort before the cursor and
    /// would never be seen.
    #[error("since_id needs an ascending ordering: with -{0}, chats added later come before the cursor and would be missed")]
    DescendingKeyset(&'static str),
    /// A query string did not decode (see [`crate::query::decode`]).
    #[error("parameter {name}: {reason}")]
    Malformed {
        /// The parameter.
        name: String,
        /// What is wrong with its value.
        reason: String,
    },
}

/// The API's answer when it is not a page.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The kind of failure the status means.
    pub kind: ApiErrorKind,
    /// Django REST framework's `detail` message, if the body had one (at most 1 KiB of it).
    pub detail: Option<String>,
    /// Django REST framework's field errors (`{"page_size": ["..."]}`), sorted by field name:
    /// the first 8 fields, 4 messages each, 256 bytes of each name and message.
    pub field_errors: Vec<(String, Vec<String>)>,
    /// The body as text (at most 1 KiB), when it was not a Django REST framework error.
    pub body: Option<String>,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<RetryAfter>,
}

/// What an error status means for the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// 400: a parameter the API refused.
    BadRequest,
    /// 401: missing or invalid token.
    Unauthorized,
    /// 403: the token may not read this organisation.
    Forbidden,
    /// 404: no such organisation, or a page past the last.
    NotFound,
    /// 429: rate limited.
    RateLimited,
    /// 5xx: the server failed.
    Server,
    /// Any other status (a redirect that was not followed, say).
    Other,
}

impl ApiErrorKind {
    /// The kind an HTTP status means.
    pub fn from_status(status: u16) -> Self {
        match status {
            400 => ApiErrorKind::BadRequest,
            401 => ApiErrorKind::Unauthorized,
            403 => ApiErrorKind::Forbidden,
            404 => ApiErrorKind::NotFound,
            429 => ApiErrorKind::RateLimited,
            500..=599 => ApiErrorKind::Server,
            _ => ApiErrorKind::Other,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = http::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        write!(f, "giosg API answered {} {reason}", self.status)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        for (field, messages) in &self.field_errors {
            write!(f, "; {field}: {}", messages.join(" "))?;
        }
        if let Some(body) = &self.body {
            write!(f, ": {body:?}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// The pages of a listing do not add up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PagingError {
    /// The API answered another page than the one asked for.
    #[error("asked for page {requested}, got page {got}")]
    WrongPage {
        /// The page asked for.
        requested: u64,
        /// The page the envelope says it is.
        got: u64,
    },
    /// The API's next page is not after the current one.
    #[error("page {current} says the next page is {next}: the listing does not advance")]
    NotAdvancing {
        /// The current page.
        current: u64,
        /// The next page it names.
        next: u64,
    },
    /// In keyset mode, answers kept bringing no chat after the cursor.
    #[error("the page after chat {cursor} brought no newer chat: the listing does not advance")]
    CursorStuck {
        /// The cursor.
        cursor: giosg_model::Uuid,
    },
    /// The chat paging continued after vanished (the server answered as if nothing followed
    /// it, though the previous page promised more), and the listing's order gives no way to
    /// find the place again (only the default order can re-anchor on a start time).
    #[error("chat {cursor} vanished while listing after it, and this ordering cannot find the place again: list with the default ordering, or retry")]
    CursorVanished {
        /// The cursor.
        cursor: giosg_model::Uuid,
    },
    /// Answers kept coming back empty while saying more chats follow.
    #[error("the API kept sending empty pages while counting {count} more chats")]
    EmptyButMore {
        /// The `count` of the last such answer.
        count: u64,
    },
    /// A page's chats are not in the listing's order.
    #[error("chat {id} is out of the listing's order")]
    OutOfOrder {
        /// The first chat out of order.
        id: giosg_model::Uuid,
    },
    /// Nothing is left to ask, yet the listing is not complete (a bug: please report it).
    #[error("the listing stalled: nothing left to ask, yet not complete")]
    Stalled,
    /// An answer was handed back for a request the planner did not make (a caller's bug).
    #[error("an answer for a request that is not pending")]
    UnknownTicket,
}

/// A request that did not complete. Transports construct these; [`Exchange`](crate::Exchange)
/// decides which are retried.
///
/// `Display` says what failed (the kind, and which timeout fired); the HTTP stack's error is
/// the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub struct TransportError {
    /// What failed.
    pub kind: TransportErrorKind,
    /// Which timeout fired, when `kind` is [`TransportErrorKind::Timeout`] and the transport
    /// knows.
    pub timeout: Option<TimeoutKind>,
    /// The HTTP stack's own error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
    /// The cap a body passed ([`TransportError::body_too_large`]): such an error becomes
    /// [`Error::BodyTooLarge`], never an [`Error::Transport`].
    body_limit: Option<usize>,
}

impl From<TransportError> for Error {
    /// [`Error::BodyTooLarge`] for a body past the cap, [`Error::Transport`] otherwise.
    fn from(e: TransportError) -> Self {
        match e.body_limit {
            Some(limit) => Error::BodyTooLarge { limit },
            None => Error::Transport(e),
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(limit) = self.body_limit {
            return write!(f, "body larger than {limit} bytes");
        }
        match (self.kind, self.timeout) {
            (TransportErrorKind::Timeout, Some(TimeoutKind::Connect)) => {
                f.write_str("timed out connecting (connect timeout)")
            }
            (TransportErrorKind::Timeout, Some(TimeoutKind::Read)) => f.write_str(
                "timed out reading: the response stalled or came too slowly (read timeout)",
            ),
            (TransportErrorKind::Timeout, Some(TimeoutKind::Overall)) => {
                f.write_str("timed out: the request took longer than the overall timeout")
            }
            (kind, _) => write!(f, "{kind}"),
        }
    }
}

impl TransportError {
    /// A transport error of this kind with this cause.
    pub fn new(
        kind: TransportErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        TransportError {
            kind,
            timeout: None,
            source: source.into(),
            body_limit: None,
        }
    }

    /// The body passed the cap of `limit` bytes, found out `how` (by its `Content-Length`, or
    /// while reading it): what a transport returns instead of reading on. The client reports
    /// it as [`Error::BodyTooLarge`] (not retried); its `kind` is
    /// [`TransportErrorKind::Other`].
    pub fn body_too_large(limit: usize, how: &str) -> Self {
        TransportError {
            body_limit: Some(limit),
            ..TransportError::new(
                TransportErrorKind::Other,
                format!("refused a body larger than {limit} bytes ({how})"),
            )
        }
    }

    /// A [`TransportErrorKind::Timeout`] that says which timeout fired.
    pub fn timed_out(
        which: TimeoutKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        TransportError {
            kind: TransportErrorKind::Timeout,
            timeout: Some(which),
            source: source.into(),
            body_limit: None,
        }
    }
}

/// Which of a transport's timeouts fired (see `TransportSettings` in `giosg-transport`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// No connection (DNS, TCP and TLS) within the connect timeout.
    Connect,
    /// The response did not start, or its body stalled or arrived too slowly, within the read
    /// timeout.
    Read,
    /// The whole request, body included, took longer than the overall timeout.
    Overall,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "connect timeout",
            TimeoutKind::Read => "read timeout",
            TimeoutKind::Overall => "overall timeout",
        })
    }
}

/// What kind of failure a [`TransportError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (refused, DNS, TLS handshake).
    Connect,
    /// A timeout expired (connect, read or overall).
    Timeout,
    /// The connection failed mid-request or mid-body (reset, closed early, truncated).
    Io,
    /// Anything else the HTTP stack reports (not retried).
    Other,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportErrorKind::Connect => f.write_str("connection failed"),
            TransportErrorKind::Timeout => f.write_str("timed out"),
            TransportErrorKind::Io => f.write_str("connection broken"),
            TransportErrorKind::Other => f.write_str("request failed"),
        }
    }
}

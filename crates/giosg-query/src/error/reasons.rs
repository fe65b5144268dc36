//! Why a request is refused before it is sent, or a listing cannot go on: configuration,
//! validation, the API's own error bodies, and paging that does not add up.

use crate::retry::RetryAfter;
use crate::text::printable;
use std::fmt;

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
    /// A [`Checkpoint`](crate::Checkpoint) was taken of another listing than the one it is
    /// asked to resume.
    #[error("the checkpoint belongs to {checkpoint}, not to {listing}")]
    OtherListing {
        /// The checkpoint's listing.
        checkpoint: String,
        /// The listing to resume.
        listing: String,
    },
    /// A [`Checkpoint`](crate::Checkpoint) of another format version.
    #[error("the checkpoint has format version {found}; this version resumes version {supported}")]
    CheckpointVersion {
        /// Its version.
        found: u32,
        /// The version this crate writes.
        supported: u32,
    },
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
///
/// Its fields hold the server's text as sent; `Display` escapes their control characters
/// ([`printable`](crate::printable)), so that printing the error cannot drive a terminal.
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
        // The server's text, with its control characters escaped: it reaches terminals.
        if let Some(detail) = &self.detail {
            write!(f, ": {}", printable(detail))?;
        }
        for (field, messages) in &self.field_errors {
            write!(
                f,
                "; {}: {}",
                printable(field),
                printable(&messages.join(" "))
            )?;
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
    /// The API's `next_page_url` is on the listing's origin and path but asks for other
    /// parameters than the listing's own URL for that page (a filter added or changed, another
    /// page size, another page): it is not followed.
    #[error("the API's next_page_url changes the listing's parameters ({}): refused", printable(&.parameters.join(", ")))]
    NextPageUrlChanged {
        /// The names of the parameters that differ (at most 8, each cut to 64 characters).
        parameters: Vec<String>,
    },
    /// Nothing is left to ask, yet the listing is not complete (a bug: please report it).
    #[error("the listing stalled: nothing left to ask, yet not complete")]
    Stalled,
    /// An answer was handed back for a request the planner did not make (a caller's bug).
    #[error("an answer for a request that is not pending")]
    UnknownTicket,
    /// A cursor page's `next` is not a URL.
    #[error("the API's next page URL does not parse: {url}")]
    BadCursorUrl {
        /// The URL, redacted.
        url: String,
    },
    /// A cursor page's `next` is on another origin than the base URL's: not followed, so the
    /// token goes nowhere else.
    #[error("the API's next page URL is on another origin ({url}): not followed")]
    ForeignCursorUrl {
        /// The URL, redacted.
        url: String,
    },
    /// A cursor page's `next` was asked for already: the listing would loop.
    #[error(
        "the API's next page URL repeats one asked for already ({url}): the listing would loop"
    )]
    CursorLoop {
        /// The URL, redacted.
        url: String,
    },
    /// Too many empty cursor pages in a row, each with a `next`.
    #[error("the API sent {pages} empty pages in a row, each saying more follows")]
    EmptyCursorPages {
        /// How many.
        pages: u32,
    },
}

//! A blocking giosg Chat API client over [ureq](https://docs.rs/ureq) 3.
//!
//! ```no_run
//! use giosg_blocking::{ChatFilter, Client, Uuid};
//!
//! // The token comes from GIOSG_API_TOKEN unless given with `.token(..)`.
//! let client = Client::builder().build()?;
//! let org = Uuid::parse_str("7f9e9580-095b-42c7-838c-c04e667b26f7")?;
//! for chat in client.chats(org).filter(ChatFilter::new().tag("Premium")).iter() {
//!     let chat = chat?;
//!     println!("{} {:?}", chat.id, chat.start_time);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Handling errors
//!
//! Ask the [`Error`] ([`Error::kind`], [`Error::status`], [`Error::retry_after`],
//! [`Error::attempts`], ...) rather than matching its variants: 429s, 5xx and network failures
//! arrive after the retries, wrapped, and these look through that.
//!
//! ```no_run
//! use giosg_blocking::{Client, ErrorKind, Uuid};
//!
//! let client = Client::builder().build()?;
//! let org = Uuid::parse_str("7f9e9580-095b-42c7-838c-c04e667b26f7")?;
//! match client.chats(org).first_page() {
//!     Ok(page) => println!("{} chats", page.count),
//!     Err(e) => match e.kind() {
//!         ErrorKind::Unauthorized => eprintln!("check the token: {e}"),
//!         ErrorKind::Forbidden => eprintln!("check the organisation id and the token's rights to it: {e}"),
//!         ErrorKind::RateLimited => eprintln!("slow down; the server asked to wait {:?}", e.retry_after()),
//!         ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Network => {
//!             eprintln!("network ({} attempts): {}", e.attempts(), e.display_chain())
//!         }
//!         _ => eprintln!("HTTP {:?}: {}", e.status(), e.display_chain()),
//!     },
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! TLS is rustls (no OpenSSL); redirects are not followed (a 3xx surfaces as an API error),
//! so `Authorization` never reaches another origin; 4xx/5xx responses are read like any other
//! so that `Retry-After` and error bodies are seen; bodies are read whole up to the cap and
//! decoded with `serde_json::from_slice`. No async runtime is pulled in.

use std::io::Read;
use std::time::Duration;

// Errors: one `Error`, the kinds to match on, and every cause it can carry.
#[doc(no_inline)]
pub use giosg_model::DecodeError;
/// The former name of [`Error`].
#[doc(hidden)]
pub use giosg_query::Error as GiosgError;
pub use giosg_query::{
    ApiError, ApiErrorKind, ConfigError, Error, ErrorKind, PagingError, RetryAfter, TimeoutKind,
    TransportError, TransportErrorKind, ValidationError,
};

// The model: chats, their parts, pages, filters and orderings.
/// The API's date-time forms: [`time::format`] writes one, [`time::parse`] reads any.
#[doc(no_inline)]
pub use giosg_model::time;
#[doc(no_inline)]
pub use giosg_model::{
    ApiData, Avatar, CartProduct, Chat, ChatFilter, ChatLog, CursorPage, Extra, MessageType,
    OrderBy, Organization, Page, ParseOrderByError, Room, SalesOverflow, SenderType, ShoppingCart,
    SortField, SortKey, Tag, User,
};
// The types the model is made of.
#[doc(no_inline)]
///
/// Times need no other crate: "the last 7 days" is
///
/// ```
/// use giosg_blocking::{ChatFilter, TimeDelta, Utc};
/// let last_week = ChatFilter::new().start_time(Utc::now() - TimeDelta::days(7));
/// assert!(last_week.start_time.is_some());
/// ```
pub use giosg_model::{DateTime, Decimal, TimeDelta, Utc, Uuid};
// What the transport traits and the builder mention.
/// A [`ChatFilter`] as the query string the API is sent, and back (`encode` / `decode`).
#[doc(no_inline)]
pub use giosg_query::query;
pub use giosg_query::{printable, Secret, DEFAULT_BASE_URL, DEFAULT_MAX_BODY, MAX_PAGE_SIZE};
#[doc(no_inline)]
pub use http;

// The client, its listings and its configuration.
pub use giosg_transport::{
    token_from_env, Anomaly, BuildClient, ChatIter, Chats, Checkpoint, ClientBuilder, Completeness,
    Credentials, FromSettings, Pages, RetryPolicy, TailIter, Transport, TransportSettings,
    TOKEN_ENV,
};
// What `Chats`, `ChatIter` and `TailIter` are, shared with the async client.
pub use giosg_transport::{EachChat, Listing, Tail};
// The organisation's rooms and users (cursor-paged).
pub use giosg_transport::{CursorIter, Rooms, Users};

/// The blocking client over ureq: `Client::builder().token(..).build()?`.
pub type Client = giosg_transport::Client<UreqTransport>;

/// The result of every client call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A [`Transport`] over a ureq 3 agent.
#[derive(Debug, Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    max_body: usize,
    read_timeout: Duration,
}

impl FromSettings for UreqTransport {
    fn from_settings(settings: &TransportSettings) -> Result<Self, Error> {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_resolve(Some(settings.connect_timeout))
            .timeout_connect(Some(settings.connect_timeout))
            .timeout_recv_response(Some(settings.read_timeout))
            .timeout_per_read(Some(settings.read_timeout))
            .timeout_global(Some(settings.timeout))
            // ureq reads a proxy from the environment by default; not for a loopback API.
            .proxy(if settings.proxy_from_env {
                ureq::Proxy::try_from_env()
            } else {
                None
            })
            .build();
        Ok(UreqTransport {
            agent: config.into(),
            max_body: settings.max_body,
            read_timeout: settings.read_timeout,
        })
    }
}

impl Transport for UreqTransport {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let (parts, _) = request.into_parts();
        let response = self
            .agent
            .run(http::Request::from_parts(parts, ()))
            .map_err(classify_before_body)?;
        let (parts, body) = response.into_parts();
        let limit = self.max_body;
        if body.content_length().is_some_and(|n| n > limit as u64) {
            return Err(TransportError::body_too_large(
                limit,
                "said so by its Content-Length",
            ));
        }
        let expected = body.content_length().unwrap_or(0).min(limit as u64) as usize;
        let mut bytes = Vec::with_capacity(expected);
        // The cap counts decoded bytes: ureq's limit sits after gzip decoding, so a small
        // body that inflates past the cap is refused having read no more than the cap.
        let mut reader = body.into_with_config().limit(limit as u64).reader();
        let mut progress = giosg_transport::ReadProgress::new(self.read_timeout);
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = reader.read(&mut chunk).map_err(|e| classify(e.into()))?;
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(&chunk[..n]);
            progress.advance(n)?;
        }
        Ok(http::Response::from_parts(parts, bytes))
    }
}

/// Classifies an error of `Agent::run`: nothing of the response was read yet, so an I/O error
/// that is not a broken connection happened while connecting (std reports a DNS failure as an
/// uncategorised I/O error, "failed to lookup address information").
fn classify_before_body(e: ureq::Error) -> TransportError {
    if let ureq::Error::Io(io) = &e {
        if io.to_string().contains("failed to lookup address") {
            let ureq::Error::Io(io) = e else {
                unreachable!()
            };
            return TransportError::new(TransportErrorKind::Connect, io);
        }
    }
    classify(e)
}

fn classify(e: ureq::Error) -> TransportError {
    use std::io::ErrorKind;
    let kind = match &e {
        ureq::Error::Timeout(which) => {
            let which = match which {
                ureq::Timeout::Resolve | ureq::Timeout::Connect => TimeoutKind::Connect,
                ureq::Timeout::Global | ureq::Timeout::PerCall => TimeoutKind::Overall,
                _ => TimeoutKind::Read,
            };
            return TransportError::timed_out(which, e);
        }
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => TransportErrorKind::Connect,
        ureq::Error::BodyExceedsLimit(limit) => {
            return TransportError::body_too_large(*limit as usize, "refused while reading it")
        }
        ureq::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused
            | ErrorKind::AddrNotAvailable
            | ErrorKind::NetworkUnreachable
            | ErrorKind::HostUnreachable => TransportErrorKind::Connect,
            ErrorKind::TimedOut | ErrorKind::WouldBlock => {
                return TransportError::timed_out(TimeoutKind::Read, e)
            }
            _ => TransportErrorKind::Io,
        },
        // The server broke HTTP mid-response (a truncated or garbled message).
        ureq::Error::Protocol(_) => TransportErrorKind::Io,
        _ => TransportErrorKind::Other,
    };
    match e {
        // ureq's errors have no `source()`: hand the I/O error itself on, so that a caller
        // can find its `io::ErrorKind` (refused, reset) in the chain.
        ureq::Error::Io(io) => TransportError::new(kind, io),
        other => TransportError::new(kind, other),
    }
}

//! An async giosg Chat API client over [reqwest](https://docs.rs/reqwest), on tokio.
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//! use giosg_async::{ChatFilter, Client, Uuid};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // The token comes from GIOSG_API_TOKEN unless given with `.token(..)`.
//! let client = Client::builder().build()?;
//! let org = Uuid::parse_str("7f9e9580-095b-42c7-838c-c04e667b26f7")?;
//! let mut chats = client.chats(org).filter(ChatFilter::new().only_ended(true)).concurrency(8).stream();
//! while let Some(chat) = chats.try_next().await? {
//!     println!("{} {:?}", chat.id, chat.end_time);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! TLS is rustls (no OpenSSL); redirects are not followed (a 3xx surfaces as an API error), so
//! `Authorization` never reaches another origin; bodies are read in chunks up to the cap and
//! decoded with `serde_json::from_slice`. No ureq is pulled in.

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
pub use giosg_model::{DateTime, Decimal, TimeDelta, Utc, Uuid};
// What the transport traits and the builder mention.
/// The attribute an [`AsyncTransport`] implementation goes under.
#[doc(no_inline)]
pub use async_trait::async_trait;
/// A [`ChatFilter`] as the query string the API is sent, and back (`encode` / `decode`).
#[doc(no_inline)]
pub use giosg_query::query;
pub use giosg_query::{printable, Secret, DEFAULT_BASE_URL, DEFAULT_MAX_BODY, MAX_PAGE_SIZE};
#[doc(no_inline)]
pub use http;

// The client, its listings and its configuration.
pub use giosg_transport::{
    token_from_env, Anomaly, AsyncChats, AsyncTransport, BuildClient, ChatStream, Checkpoint,
    ClientBuilder, Completeness, Credentials, FromSettings, PageStream, RetryPolicy, TailStream,
    TransportSettings, TOKEN_ENV,
};
// What `AsyncChats`, `ChatStream` and `TailStream` are, shared with the blocking client.
pub use giosg_transport::{EachChat, Listing, Tail};
// The organisation's rooms and users (cursor-paged).
pub use giosg_transport::{CursorStream, Rooms, Users};

/// The async client over reqwest: `Client::builder().token(..).build()?`.
pub type Client = giosg_transport::AsyncClient<ReqwestTransport>;

/// The result of every client call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An [`AsyncTransport`] over a reqwest client.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_body: usize,
    read_timeout: Duration,
    timeout: Duration,
}

impl FromSettings for ReqwestTransport {
    fn from_settings(settings: &TransportSettings) -> Result<Self, Error> {
        // The overall timeout is ours (`tokio::time::timeout` around the whole exchange), so
        // that its error says which timeout fired; reqwest's read timeout is per read.
        let mut client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout);
        // reqwest reads a proxy from the environment by default; not for a loopback API.
        if !settings.proxy_from_env {
            client = client.no_proxy();
        }
        let client = client
            .build()
            .map_err(|e| TransportError::new(TransportErrorKind::Other, e))?;
        Ok(ReqwestTransport {
            client,
            max_body: settings.max_body,
            read_timeout: settings.read_timeout,
            timeout: settings.timeout,
        })
    }
}

#[async_trait::async_trait]
impl AsyncTransport for ReqwestTransport {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        match tokio::time::timeout(self.timeout, self.exchange(request)).await {
            Ok(outcome) => outcome,
            Err(elapsed) => Err(TransportError::timed_out(TimeoutKind::Overall, elapsed)),
        }
    }
}

impl ReqwestTransport {
    async fn exchange(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let request = reqwest::Request::try_from(request).map_err(classify)?;
        let mut response = self.client.execute(request).await.map_err(classify)?;
        let limit = self.max_body;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(TransportError::body_too_large(
                limit,
                "said so by its Content-Length",
            ));
        }
        let expected = response.content_length().unwrap_or(0).min(limit as u64) as usize;
        let mut body = Vec::with_capacity(expected);
        let mut progress = giosg_transport::ReadProgress::new(self.read_timeout);
        // Chunks come decoded (gzip), so the cap counts decoded bytes: a small body that
        // inflates past it is refused holding no more than the cap.
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > limit {
                return Err(TransportError::body_too_large(
                    limit,
                    "refused while reading it",
                ));
            }
            body.extend_from_slice(&chunk);
            progress.advance(chunk.len())?;
        }
        let mut out = http::Response::new(body);
        *out.status_mut() = response.status();
        *out.version_mut() = response.version();
        *out.headers_mut() = std::mem::take(response.headers_mut());
        Ok(out)
    }
}

fn classify(e: reqwest::Error) -> TransportError {
    let e = e.without_url();
    if e.is_timeout() {
        // reqwest has no overall timeout here (ours is around it): a connect timeout, or
        // the per-read one.
        let which = if e.is_connect() {
            TimeoutKind::Connect
        } else {
            TimeoutKind::Read
        };
        return TransportError::timed_out(which, e);
    }
    let kind = if e.is_connect() {
        TransportErrorKind::Connect
    } else if e.is_body() || e.is_request() || e.is_decode() {
        TransportErrorKind::Io
    } else {
        TransportErrorKind::Other
    };
    TransportError::new(kind, e)
}

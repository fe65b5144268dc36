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
#![deny(missing_docs)]

use giosg_query::{Error, TransportError, TransportErrorKind};
use giosg_transport::{FromSettings, TransportSettings};

pub use giosg_model::{Chat, ChatFilter, OrderBy, Page, SortField, Uuid};
pub use giosg_query::Error as GiosgError;
pub use giosg_transport::{
    Anomaly, ApiError, ApiErrorKind, AsyncChats, AsyncTransport, ChatStream, Checkpoint,
    ClientBuilder, Completeness, Credentials, PageStream, RetryPolicy, SyncStream,
};

/// The async client over reqwest: `Client::builder().token(..).build()?`.
pub type Client = giosg_transport::AsyncClient<ReqwestTransport>;

/// The result of every client call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An [`AsyncTransport`] over a reqwest client.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_body: usize,
}

impl FromSettings for ReqwestTransport {
    fn from_settings(settings: &TransportSettings) -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .timeout(settings.timeout)
            .build()
            .map_err(|e| TransportError::new(TransportErrorKind::Other, e))?;
        Ok(ReqwestTransport {
            client,
            max_body: settings.max_body,
        })
    }
}

#[async_trait::async_trait]
impl AsyncTransport for ReqwestTransport {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let request = reqwest::Request::try_from(request).map_err(classify)?;
        let mut response = self.client.execute(request).await.map_err(classify)?;
        let limit = self.max_body;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large(limit));
        }
        let expected = response.content_length().unwrap_or(0).min(limit as u64) as usize;
        let mut body = Vec::with_capacity(expected);
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            body.extend_from_slice(&chunk);
        }
        let mut out = http::Response::new(body);
        *out.status_mut() = response.status();
        *out.version_mut() = response.version();
        *out.headers_mut() = std::mem::take(response.headers_mut());
        Ok(out)
    }
}

fn too_large(limit: usize) -> TransportError {
    TransportError::new(
        TransportErrorKind::BodyTooLarge { limit },
        format!("body larger than {limit} bytes"),
    )
}

fn classify(e: reqwest::Error) -> TransportError {
    let kind = if e.is_timeout() {
        TransportErrorKind::Timeout
    } else if e.is_connect() {
        TransportErrorKind::Connect
    } else if e.is_body() || e.is_request() || e.is_decode() {
        TransportErrorKind::Io
    } else {
        TransportErrorKind::Other
    };
    TransportError::new(kind, e.without_url())
}

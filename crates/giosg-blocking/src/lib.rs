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
//! TLS is rustls (no OpenSSL); redirects are not followed (a 3xx surfaces as an API error),
//! so `Authorization` never reaches another origin; 4xx/5xx responses are read like any other
//! so that `Retry-After` and error bodies are seen; bodies are read whole up to the cap and
//! decoded with `serde_json::from_slice`. No async runtime is pulled in.
#![deny(missing_docs)]

use giosg_query::{Error, TransportError, TransportErrorKind};
use giosg_transport::{FromSettings, TransportSettings};
use std::io::Read;

pub use giosg_model::{Chat, ChatFilter, OrderBy, Page, SortField, Uuid};
pub use giosg_query::Error as GiosgError;
pub use giosg_transport::{
    Anomaly, ApiError, ApiErrorKind, ChatIter, Chats, Checkpoint, ClientBuilder, Completeness,
    Credentials, Pages, RetryPolicy, SyncIter, Transport,
};

/// The blocking client over ureq: `Client::builder().token(..).build()?`.
pub type Client = giosg_transport::Client<UreqTransport>;

/// The result of every client call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A [`Transport`] over a ureq 3 agent.
#[derive(Debug, Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    max_body: usize,
}

impl FromSettings for UreqTransport {
    fn from_settings(settings: &TransportSettings) -> Result<Self, Error> {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_connect(Some(settings.connect_timeout))
            .timeout_recv_response(Some(settings.read_timeout))
            .timeout_per_read(Some(settings.read_timeout))
            .timeout_global(Some(settings.timeout))
            .build();
        Ok(UreqTransport {
            agent: config.into(),
            max_body: settings.max_body,
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
            .map_err(classify)?;
        let (parts, body) = response.into_parts();
        let limit = self.max_body;
        if body.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large(limit));
        }
        let expected = body.content_length().unwrap_or(0).min(limit as u64) as usize;
        let mut bytes = Vec::with_capacity(expected);
        body.into_with_config()
            .limit(limit as u64)
            .reader()
            .read_to_end(&mut bytes)
            .map_err(|e| classify(e.into()))?;
        Ok(http::Response::from_parts(parts, bytes))
    }
}

fn too_large(limit: usize) -> TransportError {
    TransportError::new(
        TransportErrorKind::BodyTooLarge { limit },
        format!("body larger than {limit} bytes"),
    )
}

fn classify(e: ureq::Error) -> TransportError {
    use std::io::ErrorKind;
    let kind = match &e {
        ureq::Error::Timeout(_) => TransportErrorKind::Timeout,
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => TransportErrorKind::Connect,
        ureq::Error::BodyExceedsLimit(limit) => return too_large(*limit as usize),
        ureq::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused | ErrorKind::AddrNotAvailable => {
                TransportErrorKind::Connect
            }
            ErrorKind::TimedOut | ErrorKind::WouldBlock => TransportErrorKind::Timeout,
            _ => TransportErrorKind::Io,
        },
        // The server broke HTTP mid-response (a truncated or garbled message).
        ureq::Error::Protocol(_) => TransportErrorKind::Io,
        _ => TransportErrorKind::Other,
    };
    TransportError::new(kind, e)
}

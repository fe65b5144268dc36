//! The transport traits of the giosg Chat API client, and the clients generic over them.
//!
//! A transport sends one `http::Request<Vec<u8>>` and returns an `http::Response<Vec<u8>>`
//! (body read whole, within the size cap) or a [`TransportError`]. Everything else (building
//! requests, decoding, paging, retry decisions) is `giosg-query`'s, driven here the same way on
//! both sides; sleeping between retries is the only thing the blocking and async clients do
//! differently.
//!
//! Users normally depend on `giosg-blocking` (ureq) or `giosg-async` (reqwest), which
//! implement these traits and re-export a ready `Client`. A closure is a transport too, which
//! makes test doubles and custom HTTP stacks a few lines:
//!
//! ```
//! use giosg_transport::{Client, TransportError};
//! use giosg_model::{ChatFilter, Uuid};
//!
//! let transport = |req: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
//!     assert_eq!(req.headers()["authorization"], "Token t0ken");
//!     let body = br#"{"count": 1, "num_pages": 1, "current_page": 1,
//!                     "results": [{"id": "58f5055c-56e0-11e5-9354-6c4008c08dfe"}]}"#;
//!     Ok(http::Response::new(body.to_vec()))
//! };
//! // The builder's type parameter is any client of the kind: `build_with` picks the transport.
//! let client = Client::<()>::builder().token("t0ken").build_with(transport)?;
//! let org = Uuid::parse_str("7f9e9580-095b-42c7-838c-c04e667b26f7")?;
//! let chats: Vec<_> = client.chats(org).filter(ChatFilter::new()).iter().collect::<Result<_, _>>()?;
//! assert_eq!(chats.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "blocking")]
mod blocking;
mod builder;
mod directory;
mod fetch;
mod listing;
#[cfg(feature = "async")]
mod nonblocking;
mod progress;

#[cfg(feature = "blocking")]
pub use blocking::{ChatIter, Chats, Client, CursorIter, Pages, TailIter, Transport};
pub use builder::{token_from_env, BuildClient, ClientBuilder, FromSettings, TransportSettings};
pub use directory::{Rooms, Users};
pub use listing::{EachChat, Listing, Tail};
#[cfg(feature = "async")]
pub use nonblocking::{
    AsyncChats, AsyncClient, AsyncTransport, ChatStream, CursorStream, PageStream, TailStream,
};
pub use progress::{ReadProgress, MIN_PROGRESS};

pub use giosg_query::{
    Anomaly, ApiError, ApiErrorKind, Checkpoint, Completeness, Credentials, Error, ErrorKind,
    RetryPolicy, TimeoutKind, TransportError, TransportErrorKind, TOKEN_ENV,
};

/// The result of every client call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

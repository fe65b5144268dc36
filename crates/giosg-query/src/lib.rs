//! The giosg Chat API's rules in one sans-I/O core: no sockets, no clocks, no sleeping.
//!
//! Both transports (`giosg-blocking` over ureq, `giosg-async` over reqwest) drive these values,
//! so they behave identically by construction:
//!
//! - [`Endpoint`] holds a validated [`BaseUrl`], [`Credentials`] and limits; with an organisation
//!   id and a [`ChatFilter`] it makes a validated [`ChatList`], which builds the
//!   `http::Request` for any page ([`query`] encodes the parameters).
//! - [`decode_page`] turns an `http::Response<Vec<u8>>` into a [`Page<Chat>`] or a typed
//!   [`Error`].
//! - [`Planner`] plans every listing by keyset (`since_id`): which requests to make next
//!   (start-time windows fetched concurrently, for the default order), how answers arriving in
//!   any order become chats (each once), when the listing is complete, and how complete it is
//!   ([`Completeness`]); [`Pager`] pages by number when a page is asked for.
//! - [`RetryPolicy`] and [`Exchange`] decide, for each outcome of a request, whether to retry and
//!   after how long; the caller supplies the time and the randomness.
//!
//! Where each rule lives: `endpoint.rs` (base URL, credentials, a listing's requests),
//! `query.rs` (the 12 parameters encoded, decoded and validated, the page size cap; the
//! keyset order rule),
//! `response.rs` (answers and error bodies), `plan/` (the listing planner: `mod.rs` requests
//! and hand-out, `answer.rs` how answers become chats, `split.rs` windows, `window.rs` the
//! order, `report.rs` completeness and checkpoints), `paging.rs` (page numbers), `retry.rs`,
//! `error/`, `secret.rs` (the token: its variable, what of it is sent, never printed), `text.rs`
//! (text from the API made safe to print: [`printable`]).
//!
//! ```
//! use giosg_query::{Credentials, Endpoint, Exchange, Pager, RetryPolicy, Verdict};
//! use giosg_model::{ChatFilter, Uuid};
//!
//! let endpoint = Endpoint::new("https://service.giosg.com", Credentials::token("t0ken"))?;
//! let org = Uuid::parse_str("7f9e9580-095b-42c7-838c-c04e667b26f7")?;
//! let list = endpoint.chats(org, &ChatFilter::new().tag("Premium").page_size(50))?;
//! let mut pager = Pager::new(list);
//!
//! let next = pager.next_request().expect("a first page");
//! assert_eq!(
//!     next.request.uri(),
//!     "https://service.giosg.com/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/chats?page=1&page_size=50&tag=Premium"
//! );
//! // ... send it with any HTTP stack, then:
//! let response = http::Response::builder()
//!     .status(200)
//!     .body(br#"{"count": 0, "num_pages": 1, "current_page": 1, "results": []}"#.to_vec())?;
//! let mut exchange = Exchange::new(&RetryPolicy::default(), endpoint.max_body());
//! let Verdict::Page(page) = exchange.judge(Ok(response), std::time::SystemTime::now(), 0.5) else {
//!     unreachable!()
//! };
//! assert!(pager.accept(next.page, page)?.results.is_empty());
//! assert!(pager.next_request().is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod cursor;
mod endpoint;
mod error;
mod identity;
mod paging;
mod plan;
pub mod query;
mod response;
mod retry;
mod secret;
mod text;

pub use cursor::{CursorPager, RoomQuery, UserQuery, MAX_EMPTY_PAGES};
pub use endpoint::{
    redact_url, BaseUrl, ChatList, Endpoint, PageRequest, DEFAULT_BASE_URL, DEFAULT_MAX_BODY,
};
pub use error::{
    ApiError, ApiErrorKind, ConfigError, Error, ErrorKind, PagingError, TimeoutKind,
    TransportError, TransportErrorKind, ValidationError,
};
pub use identity::ListingIdentity;
pub use paging::Pager;
pub use plan::{
    Anomaly, Checkpoint, Completeness, Delivery, PlanOptions, PlannedRequest, Planner, Ticket,
    CHECKPOINT_VERSION,
};
pub use query::MAX_PAGE_SIZE;
pub use response::{decode_cursor_page, decode_page, decode_resource};
pub use retry::{Exchange, RetryAfter, RetryPolicy, Verdict};
pub use secret::{Credentials, Secret, TOKEN_ENV};
pub use text::printable;

pub use giosg_model::{Chat, ChatFilter, Page};

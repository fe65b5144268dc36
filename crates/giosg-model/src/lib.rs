//! Serde types for the giosg Chat API v5 (`GET /api/v5/orgs/<organization_id>/chats`).
//!
//! Everything here is plain data: no I/O and no HTTP. A program that only reads exported chats
//! depends on this crate alone.
//!
//! - [`Chat`] and its nested [`ChatLog`], [`ApiData`], [`Tag`], [`ShoppingCart`] and [`CartProduct`]
//!   cover every attribute of the API reference.
//! - [`Page`] is the pagination envelope; [`Page::from_slice`] decodes one with errors that name
//!   the JSON path, line, column and byte offset of the offending value, within a memory budget
//!   proportional to the body ([`BUDGET_PER_BODY_BYTE`], [`BUDGET_BASE`]).
//! - [`ChatFilter`] and [`OrderBy`] are the vocabulary of the endpoint's 12 query parameters.
//!   Turning them into a URL is `giosg-query`'s job.
//!
//! Decoding follows the API's conventions: date-times with or without a zone (no zone is UTC)
//! and with 0 to 9 fraction digits; `null` or missing non-identifying fields never fail a page
//! (collections become empty); members the model does not know are kept, at every level, in
//! each value's `extra` and written back when it is encoded; unknown `sender_type` / `type`
//! integers are kept. Money is [`rust_decimal::Decimal`], which keeps its scale (`"83.00"`)
//! and is written back as a string.
//!
//! ```
//! let json = br#"{"count": 1, "num_pages": 1, "per_page": 25, "current_page": 1,
//!     "results": [{"id": "58f5055c-56e0-11e5-9354-6c4008c08dfe",
//!                  "start_time": "2015-02-13T11:31:36.042", "tags": [{"name": "Premium"}]}]}"#;
//! let page = giosg_model::Page::<giosg_model::Chat>::from_slice(json).unwrap();
//! assert_eq!(page.results[0].tags[0].name.as_deref(), Some("Premium"));
//! assert_eq!(page.results[0].start_time.unwrap().to_rfc3339(), "2015-02-13T11:31:36.042+00:00");
//! ```

mod chat;
mod decode;
mod directory;
mod filter;
mod object;
mod page;
mod sales;
pub mod time;

pub use chat::{ApiData, CartProduct, Chat, ChatLog, MessageType, SenderType, ShoppingCart, Tag};
pub use decode::{DecodeError, BUDGET_BASE, BUDGET_PER_BODY_BYTE};

/// Decodes any resource of the API (a user, a room) from a body, saying where it failed, within
/// the same memory budget per body byte as a page ([`Page::from_slice`]).
///
/// ```
/// let user: giosg_model::User = giosg_model::from_slice(br#"{"id": "58f5055c-56e0-11e5-9354-6c4008c08dfe"}"#)?;
/// assert!(giosg_model::from_slice::<giosg_model::User>(b"{}").is_err());
/// # Ok::<(), giosg_model::DecodeError>(())
/// ```
pub fn from_slice<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    decode::from_slice(body)
}
pub use directory::{Avatar, CursorPage, Organization, Room, User};
pub use filter::{ChatFilter, OrderBy, ParseOrderByError, SortField, SortKey};
pub use object::Extra;
pub use page::Page;
pub use sales::SalesOverflow;

pub use chrono::{DateTime, TimeDelta, Utc};
pub use rust_decimal::Decimal;
pub use uuid::Uuid;

//! The organisation's rooms and users, and the token's own user, over either client: the
//! cursor-paged collections next to the chats ([`CursorPager`]'s rules, the chats' retries).
//!
//! ```
//! use giosg_transport::{Client, TransportError};
//! use giosg_model::Uuid;
//!
//! let transport = |req: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
//!     let body: &[u8] = match req.uri().query() {
//!         None => br#"{"next": "https://service.giosg.com/api/v5/orgs/00000000-0000-0000-0000-000000000007/rooms?cursor=cD0x",
//!                      "previous": null, "results": [{"id": "9926bdfa-56e0-11e5-b98c-6c4008c08dfe", "name": "Shop"}]}"#,
//!         Some(_) => br#"{"next": null, "previous": null, "results": [{"id": "5c0e8f21-1a2b-4c3d-8e4f-5a6b7c8d9e0f"}]}"#,
//!     };
//!     Ok(http::Response::new(body.to_vec()))
//! };
//! let client = Client::<()>::builder().token("t0ken").build_with(transport)?;
//! let rooms: Vec<_> = client.rooms(Uuid::from_u128(7)).iter().collect::<Result<_, _>>()?;
//! assert_eq!(rooms.len(), 2);
//! assert_eq!(rooms[0].shown_name(), Some("Shop"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use giosg_model::{User, Uuid};
use giosg_query::{CursorPager, Endpoint, Error, RoomQuery, UserQuery, ValidationError};
use std::collections::VecDeque;

/// An organisation's rooms, to refine and then list: `client.rooms(org)`.
#[derive(Debug, Clone)]
#[must_use]
pub struct Rooms<C> {
    pub(crate) client: C,
    org: Uuid,
    query: RoomQuery,
}

impl<C> Rooms<C> {
    pub(crate) fn new(client: C, org: Uuid) -> Self {
        Rooms {
            client,
            org,
            query: RoomQuery::default(),
        }
    }

    /// Lists deleted rooms too (chats in rooms deleted since still name them).
    pub fn include_deleted(mut self, yes: bool) -> Self {
        self.query.include_deleted = yes;
        self
    }

    /// Only rooms shared to the organisation (`Some(true)`), or only its own (`Some(false)`).
    pub fn shared(mut self, shared: Option<bool>) -> Self {
        self.query.is_shared = shared;
        self
    }

    /// Newest first, instead of oldest first.
    pub fn newest_first(mut self) -> Self {
        self.query.newest_first = true;
        self
    }

    pub(crate) fn pager(&self, endpoint: &Endpoint) -> CursorPager {
        CursorPager::new(endpoint, endpoint.rooms_url(self.org, &self.query))
    }
}

/// An organisation's users (operators and bots), to refine and then list:
/// `client.users(org)`. A token that may not read them gets an API error of kind
/// `Forbidden` (HTTP 403): listing chats needs no such permission.
#[derive(Debug, Clone)]
#[must_use]
pub struct Users<C> {
    pub(crate) client: C,
    org: Uuid,
    query: UserQuery,
}

impl<C> Users<C> {
    pub(crate) fn new(client: C, org: Uuid) -> Self {
        Users {
            client,
            org,
            query: UserQuery::default(),
        }
    }

    /// Lists deleted users too: operators who have left wrote old chats.
    pub fn include_deleted(mut self, yes: bool) -> Self {
        self.query.include_deleted = yes;
        self
    }

    /// Newest first, instead of oldest first.
    pub fn newest_first(mut self) -> Self {
        self.query.newest_first = true;
        self
    }

    pub(crate) fn pager(&self, endpoint: &Endpoint) -> CursorPager {
        CursorPager::new(endpoint, endpoint.users_url(self.org, &self.query))
    }
}

/// What a cursor listing holds between pages: the pager, the resources of the last page not
/// handed out yet, and whether an error ended it.
#[derive(Debug)]
pub(crate) struct CursorRun<R> {
    pub(crate) pager: CursorPager,
    pub(crate) buffer: VecDeque<R>,
    pub(crate) over: bool,
}

impl<R> CursorRun<R> {
    pub(crate) fn new(pager: CursorPager) -> Self {
        CursorRun {
            pager,
            buffer: VecDeque::new(),
            over: false,
        }
    }

    /// The next request to send, or the end: `None` when the listing is over, an error when
    /// the next page's URL cannot be sent (longer than a request can carry).
    pub(crate) fn next_request(&mut self) -> Option<Result<http::Request<Vec<u8>>, Error>> {
        if self.over || self.pager.is_finished() {
            return None;
        }
        match self.pager.next_request() {
            Some(request) => Some(Ok(request)),
            None => {
                self.over = true;
                Some(Err(ValidationError::UrlTooLong.into()))
            }
        }
    }

    /// Takes a page's outcome; an error ends the listing (handed out once).
    pub(crate) fn take(
        &mut self,
        outcome: Result<giosg_model::CursorPage<R>, Error>,
    ) -> Result<(), Error> {
        let accepted = outcome.and_then(|page| self.pager.accept(page).map_err(Error::from));
        match accepted {
            Ok(resources) => {
                self.buffer.extend(resources);
                Ok(())
            }
            Err(e) => {
                self.over = true;
                Err(e)
            }
        }
    }
}

/// The token's own user: `GET /api/v5/users/me`.
pub(crate) fn decode_me(
    response: &http::Response<Vec<u8>>,
    max_body: usize,
) -> Result<User, Error> {
    giosg_query::decode_resource(response, max_body)
}

//! Cursor paging, the second paging scheme of giosg's API (rooms, users, and every collection
//! but the legacy chats listing): `{"next": <absolute URL or null>, "previous": …, "results":
//! […]}`, no count, no page size, the page length the server's.
//!
//! The rules, each in one place here:
//! - `next` is opaque and followed as it is, never built nor edited;
//! - it is followed only on the base URL's origin (scheme, host and port), so the token never
//!   goes elsewhere; its path may differ (giosg's own examples drop a segment);
//! - the listing ends on `next: null`;
//! - a `next` asked for before (a repeat, or a loop through several) is
//!   [`PagingError::CursorLoop`];
//! - an empty page with a non-null `next` is followed, at most [`MAX_EMPTY_PAGES`] in a row
//!   ([`PagingError::EmptyCursorPages`] beyond).
//!
//! Sans I/O: the caller sends [`CursorPager::next_request`] and hands the decoded page to
//! [`CursorPager::accept`]; retries are the same as for chats (the caller's [`Exchange`]).
//!
//! ```
//! use giosg_model::{CursorPage, Room, Uuid};
//! use giosg_query::{Credentials, CursorPager, Endpoint};
//!
//! let endpoint = Endpoint::new("https://service.giosg.com", Credentials::token("t0ken"))?;
//! let org = Uuid::from_u128(7);
//! let mut pager = CursorPager::new(&endpoint, endpoint.rooms_url(org, &Default::default()));
//! let first = pager.next_request().expect("a first request");
//! assert!(first.uri().path().ends_with("/rooms"));
//! let mut page: CursorPage<Room> = CursorPage::last(vec![Room::new(Uuid::from_u128(1))]);
//! page.next = Some(format!("{}?cursor=cD0x", first.uri()));
//! assert_eq!(pager.accept(page)?.len(), 1);
//! assert!(pager.next_request().unwrap().uri().query().unwrap().contains("cursor=cD0x"));
//! assert_eq!(pager.accept(CursorPage::<Room>::last(Vec::new()))?.len(), 0);
//! assert!(pager.is_finished());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Exchange`]: crate::Exchange

use crate::{Endpoint, PagingError};
use giosg_model::CursorPage;
use std::collections::HashSet;
use url::Url;

/// How many empty pages with a `next` are followed in a row before the listing is given up.
pub const MAX_EMPTY_PAGES: u32 = 8;

/// Which rooms to list (`GET /api/v5/orgs/<org>/rooms`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoomQuery {
    /// Deleted rooms too (`include_deleted=true`): chats in rooms deleted since name them.
    pub include_deleted: bool,
    /// Only rooms shared to the organisation (`true`) or only its own (`false`).
    pub is_shared: Option<bool>,
    /// Newest first (`ordering=-created_at`) instead of oldest first.
    pub newest_first: bool,
}

/// Which users to list (`GET /api/v5/orgs/<org>/users`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserQuery {
    /// Deleted users too (`include_deleted=true`): operators who have left wrote old chats.
    pub include_deleted: bool,
    /// Newest first (`ordering=-created_at`) instead of oldest first.
    pub newest_first: bool,
}

impl Endpoint {
    /// The first page of an organisation's rooms.
    pub fn rooms_url(&self, org: giosg_model::Uuid, query: &RoomQuery) -> Url {
        let mut url = self.api_url(&format!("orgs/{org}/rooms"));
        {
            let mut q = url.query_pairs_mut();
            if query.newest_first {
                q.append_pair("ordering", "-created_at");
            }
            if query.include_deleted {
                q.append_pair("include_deleted", "true");
            }
            if let Some(shared) = query.is_shared {
                q.append_pair("is_shared", if shared { "true" } else { "false" });
            }
        }
        tidy(url)
    }

    /// The first page of an organisation's users.
    pub fn users_url(&self, org: giosg_model::Uuid, query: &UserQuery) -> Url {
        let mut url = self.api_url(&format!("orgs/{org}/users"));
        {
            let mut q = url.query_pairs_mut();
            if query.newest_first {
                q.append_pair("ordering", "-created_at");
            }
            if query.include_deleted {
                q.append_pair("include_deleted", "true");
            }
        }
        tidy(url)
    }

    /// The token's own user (`GET /api/v5/users/me`), whose `organization_id` is the
    /// organisation it reads.
    pub fn me_url(&self) -> Url {
        self.api_url("users/me")
    }
}

/// A URL without an empty `?`.
fn tidy(mut url: Url) -> Url {
    if url.query() == Some("") {
        url.set_query(None);
    }
    url
}

/// Pages through a cursor-paged collection; see the module's documentation.
#[derive(Debug)]
pub struct CursorPager {
    endpoint: Endpoint,
    origin: url::Origin,
    next: Option<Url>,
    asked: HashSet<String>,
    empty: u32,
    pages: u64,
}

impl CursorPager {
    /// Pages from `first` (a URL of this endpoint's: [`Endpoint::rooms_url`], say).
    pub fn new(endpoint: &Endpoint, first: Url) -> Self {
        let mut asked = HashSet::new();
        asked.insert(first.as_str().to_owned());
        CursorPager {
            endpoint: endpoint.clone(),
            origin: endpoint.base_url().as_url().origin(),
            next: Some(first),
            asked,
            empty: 0,
            pages: 0,
        }
    }

    /// The request for the next page; `None` once the listing is over.
    pub fn next_request(&self) -> Option<http::Request<Vec<u8>>> {
        self.next.as_ref().and_then(|url| self.endpoint.get(url))
    }

    /// Pages accepted so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// Whether the listing is over (`next: null` came).
    pub fn is_finished(&self) -> bool {
        self.next.is_none()
    }

    /// Takes the answer to [`CursorPager::next_request`]: its resources, and where to go on.
    pub fn accept<T>(&mut self, page: CursorPage<T>) -> Result<Vec<T>, PagingError> {
        self.pages += 1;
        let Some(next) = page.next else {
            self.next = None;
            return Ok(page.results);
        };
        let url = Url::parse(&next).map_err(|_| PagingError::BadCursorUrl {
            url: crate::redact_url(&next),
        })?;
        if url.origin() != self.origin || !url.username().is_empty() || url.password().is_some() {
            self.next = None;
            return Err(PagingError::ForeignCursorUrl {
                url: crate::redact_url(&next),
            });
        }
        if !self.asked.insert(url.as_str().to_owned()) {
            self.next = None;
            return Err(PagingError::CursorLoop {
                url: crate::redact_url(&next),
            });
        }
        if page.results.is_empty() {
            self.empty += 1;
            if self.empty > MAX_EMPTY_PAGES {
                self.next = None;
                return Err(PagingError::EmptyCursorPages { pages: self.empty });
            }
        } else {
            self.empty = 0;
        }
        self.next = Some(url);
        Ok(page.results)
    }
}

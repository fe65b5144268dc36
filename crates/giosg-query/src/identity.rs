//! Which listing something belongs to: the one definition that a local copy, an export's state
//! and a [`Checkpoint`](crate::Checkpoint) are checked against.
//!
//! Two listings are the same when they list the same chats in the same order: the same
//! organisation, and every parameter that selects or orders chats exactly as it is sent
//! (`has_sales=false` included, `only_ended` as `only_ended=true` or not at all, `ordering`,
//! `since_id`, extra parameters). What only pages (`page`, `page_size`) is left out.
//!
//! ```
//! use giosg_model::{ChatFilter, Uuid};
//! use giosg_query::ListingIdentity;
//! let org = Uuid::from_u128(7);
//! let all = ListingIdentity::new(org, &ChatFilter::new());
//! let unsold = ListingIdentity::new(org, &ChatFilter::new().has_sales(false));
//! assert_ne!(all, unsold, "false is a filter too");
//! assert_eq!(unsold.query(), "has_sales=false");
//! assert_eq!(all, ListingIdentity::new(org, &ChatFilter::new().page_size(10)));
//! assert_eq!(all.to_string(), format!("organisation {org} with no filters"));
//! ```

use crate::ChatList;
use giosg_model::{ChatFilter, Uuid};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A listing's identity: its organisation and its query as sent, paging parameters aside.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ListingIdentity {
    org: Uuid,
    /// The query string (form-encoded, in [`query::PARAMETERS`](crate::query::PARAMETERS)
    /// order, extra parameters last), without `page` and `page_size`.
    query: String,
}

impl ListingIdentity {
    /// The identity of the listing of `org`'s chats with `filter`.
    pub fn new(org: Uuid, filter: &ChatFilter) -> Self {
        Self::with_extra(org, filter, &[])
    }

    /// The identity of a listing with extra raw parameters (they select chats too).
    pub fn with_extra(org: Uuid, filter: &ChatFilter, extra: &[(String, String)]) -> Self {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in crate::query::pairs(&filter.selection(), None) {
            query.append_pair(name, &value);
        }
        for (name, value) in extra {
            query.append_pair(name, value);
        }
        ListingIdentity {
            org,
            query: query.finish(),
        }
    }

    /// The identity of a validated listing.
    pub fn of(list: &ChatList) -> Self {
        Self::with_extra(list.org(), list.filter(), list.extra())
    }

    /// The organisation.
    pub fn org(&self) -> Uuid {
        self.org
    }

    /// The query that selects and orders the chats, as sent (empty: no filters).
    pub fn query(&self) -> &str {
        &self.query
    }
}

impl fmt::Display for ListingIdentity {
    /// `organisation <id> with has_sales=false&tag=Premium` (or `with no filters`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let query = if self.query.is_empty() {
            "no filters"
        } else {
            &self.query
        };
        write!(f, "organisation {} with {query}", self.org)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use giosg_model::{time, OrderBy, SortField};

    /// Each filter with each of its values gives an identity of its own, `false` included;
    /// paging parameters give none.
    #[test]
    fn every_filter_value_is_its_own_listing() {
        let org = Uuid::from_u128(1);
        let t = time::parse("2025-01-02T03:04:05.678Z").unwrap();
        let filters = [
            ChatFilter::new(),
            ChatFilter::new().has_sales(true),
            ChatFilter::new().has_sales(false),
            ChatFilter::new().is_real_conversation(true),
            ChatFilter::new().is_real_conversation(false),
            ChatFilter::new().only_ended(true),
            ChatFilter::new().tag("Premium"),
            ChatFilter::new().room_id(Uuid::from_u128(2)),
            ChatFilter::new().min_message_count(0),
            ChatFilter::new().min_message_count(3),
            ChatFilter::new().start_time(t),
            ChatFilter::new().end_time(t),
            ChatFilter::new().since_id(Uuid::from_u128(3)),
            ChatFilter::new().ordering(OrderBy::asc(SortField::EndTime)),
            ChatFilter::new().ordering(OrderBy::asc(SortField::StartTime)),
        ];
        let ids: Vec<ListingIdentity> = filters
            .iter()
            .map(|f| ListingIdentity::new(org, f))
            .collect();
        for (i, a) in ids.iter().enumerate() {
            for (j, b) in ids.iter().enumerate() {
                assert_eq!(i == j, a == b, "{a} vs {b}");
            }
        }
        assert_eq!(ids[2].query(), "has_sales=false");
        assert_eq!(ids[4].query(), "is_real_conversation=false");
        assert_eq!(ids[5].query(), "only_ended=true");
        // `only_ended(false)` is the API's default: it is not sent, so it is no filter.
        assert_eq!(
            ListingIdentity::new(org, &ChatFilter::new().only_ended(false)),
            ids[0]
        );
        assert_eq!(
            ListingIdentity::new(org, &ChatFilter::new().page(3).page_size(7)),
            ids[0]
        );
        assert_ne!(
            ListingIdentity::new(Uuid::from_u128(9), &filters[0]),
            ids[0]
        );
        let extra = [("x_new".to_owned(), "1".to_owned())];
        assert_ne!(
            ListingIdentity::with_extra(org, &filters[0], &extra),
            ids[0]
        );
    }
}

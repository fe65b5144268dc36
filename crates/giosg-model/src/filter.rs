//! The query vocabulary of the chats endpoint: what to list and in which order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};
use uuid::Uuid;

/// Which chats to list: the endpoint's 12 query parameters as typed, optional values.
///
/// `None` (or `false` for `only_ended`) leaves a parameter out, so the API's default applies.
/// Build one with the setters:
///
/// ```
/// use giosg_model::{ChatFilter, OrderBy, SortField};
/// let filter = ChatFilter::new()
///     .tag("Premium")
///     .has_sales(true)
///     .ordering(OrderBy::desc(SortField::StartTime))
///     .page_size(100)
///     .only_ended(true);
/// assert_eq!(filter.tag.as_deref(), Some("Premium"));
/// ```
///
/// Range checks (`page` >= 1, `page_size` 1 to 100, `start_time` before `end_time`) are made
/// by `giosg-query` before a request is built.
/// It serializes with the API's parameter names and time format, so a filter can be saved
/// with what it produced (an export's settings, say).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ChatFilter {
    /// `ordering`: sort keys (API default: `start_time` ascending).
    pub ordering: Option<OrderBy>,
    /// `page`: the page to start from (API default 1).
    pub page: Option<u32>,
    /// `page_size`: chats per page, at most 100 (API default 25).
    pub page_size: Option<u32>,
    /// `since_id`: only chats after this chat in the listing's order (exclusive).
    pub since_id: Option<Uuid>,
    /// `start_time`: only chats started at or after this moment (inclusive).
    #[serde(with = "crate::time::option")]
    pub start_time: Option<DateTime<Utc>>,
    /// `end_time`: only chats that *ended* before this moment (exclusive), whenever they
    /// started; chats still going on are left out. It filters on the chat's end, not on its
    /// start: for "chats started before T", there is no API parameter.
    #[serde(with = "crate::time::option")]
    pub end_time: Option<DateTime<Utc>>,
    /// `has_sales`: only chats with (`true`) or without (`false`) a purchased cart.
    pub has_sales: Option<bool>,
    /// `is_real_conversation`: only real (`true`) or non-real (`false`) chats.
    pub is_real_conversation: Option<bool>,
    /// `room_id`: only chats in this room.
    pub room_id: Option<Uuid>,
    /// `tag`: only chats an operator tagged with this text.
    pub tag: Option<String>,
    /// `min_message_count`: only chats with at least this many messages.
    pub min_message_count: Option<u32>,
    /// `only_ended`: only chats that have ended (sent as `only_ended=true`, or left out).
    pub only_ended: bool,
}

impl ChatFilter {
    /// A filter that leaves every parameter at the API's default.
    pub fn new() -> Self {
        Self::default()
    }

    /// The filter without its paging parameters (`page`, `page_size`): what decides which
    /// chats a listing holds, and in which order. Two filters with the same selection list the
    /// same chats.
    ///
    /// ```
    /// use giosg_model::ChatFilter;
    /// let a = ChatFilter::new().tag("Premium").page_size(10).page(3);
    /// assert_eq!(a.selection(), ChatFilter::new().tag("Premium"));
    /// ```
    pub fn selection(&self) -> ChatFilter {
        ChatFilter {
            page: None,
            page_size: None,
            ..self.clone()
        }
    }

    /// Sets `ordering`.
    pub fn ordering(mut self, ordering: OrderBy) -> Self {
        self.ordering = Some(ordering);
        self
    }

    /// Sets `page`, the page to start from.
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// Sets `page_size`.
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = Some(page_size);
        self
    }

    /// Sets `since_id`.
    pub fn since_id(mut self, id: Uuid) -> Self {
        self.since_id = Some(id);
        self
    }

    /// Sets `start_time` (inclusive).
    pub fn start_time(mut self, t: DateTime<Utc>) -> Self {
        self.start_time = Some(t);
        self
    }

    /// Sets `end_time`: only chats that ended before `t` (exclusive); chats still going on
    /// are left out. It filters on when a chat ended, not on when it started.
    pub fn end_time(mut self, t: DateTime<Utc>) -> Self {
        self.end_time = Some(t);
        self
    }

    /// Sets `has_sales`.
    pub fn has_sales(mut self, v: bool) -> Self {
        self.has_sales = Some(v);
        self
    }

    /// Sets `is_real_conversation`.
    pub fn is_real_conversation(mut self, v: bool) -> Self {
        self.is_real_conversation = Some(v);
        self
    }

    /// Sets `room_id`.
    pub fn room_id(mut self, id: Uuid) -> Self {
        self.room_id = Some(id);
        self
    }

    /// Sets `tag`.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = Some(tag.into());
        self
    }

    /// Sets `min_message_count`.
    pub fn min_message_count(mut self, n: u32) -> Self {
        self.min_message_count = Some(n);
        self
    }

    /// Sets `only_ended`.
    pub fn only_ended(mut self, v: bool) -> Self {
        self.only_ended = v;
        self
    }
}

/// A field chats can be ordered by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SortField {
    /// `start_time`.
    StartTime,
    /// `end_time`.
    EndTime,
}

impl SortField {
    /// Every documented field.
    pub const ALL: [SortField; 2] = [SortField::StartTime, SortField::EndTime];

    /// The field's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            SortField::StartTime => "start_time",
            SortField::EndTime => "end_time",
        }
    }
}

/// One sort key: a field, ascending or descending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SortKey {
    /// The field.
    pub field: SortField,
    /// Descending (written with a leading `-`) instead of ascending.
    pub descending: bool,
}

/// An `ordering` value: one or more sort keys, the first the most significant. It serializes
/// as its query-string form.
///
/// ```
/// use giosg_model::{OrderBy, SortField};
/// let o: OrderBy = "-start_time,end_time".parse().unwrap();
/// assert_eq!(o, OrderBy::desc(SortField::StartTime).then_asc(SortField::EndTime));
/// assert_eq!(o.to_string(), "-start_time,end_time");
/// assert!("start_time,-start_time".parse::<OrderBy>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderBy {
    keys: Vec<SortKey>,
}

impl OrderBy {
    /// Ordered by `field`, ascending.
    pub fn asc(field: SortField) -> Self {
        OrderBy {
            keys: vec![SortKey {
                field,
                descending: false,
            }],
        }
    }

    /// Ordered by `field`, descending.
    pub fn desc(field: SortField) -> Self {
        OrderBy {
            keys: vec![SortKey {
                field,
                descending: true,
            }],
        }
    }

    /// Adds `field`, ascending, as the next key. A field already present is left as it was.
    pub fn then_asc(self, field: SortField) -> Self {
        self.then(field, false)
    }

    /// Adds `field`, descending, as the next key. A field already present is left as it was.
    pub fn then_desc(self, field: SortField) -> Self {
        self.then(field, true)
    }

    fn then(mut self, field: SortField, descending: bool) -> Self {
        if !self.keys.iter().any(|k| k.field == field) {
            self.keys.push(SortKey { field, descending });
        }
        self
    }

    /// The keys, the most significant first. Never empty, never a field twice.
    pub fn keys(&self) -> &[SortKey] {
        &self.keys
    }
}

impl fmt::Display for OrderBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, key) in self.keys.iter().enumerate() {
            let comma = if i > 0 { "," } else { "" };
            let minus = if key.descending { "-" } else { "" };
            write!(f, "{comma}{minus}{}", key.field.as_str())?;
        }
        Ok(())
    }
}

/// Why a string is not an `ordering` value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseOrderByError {
    /// The string, or a key between commas, is empty.
    Empty,
    /// A key names no documented field.
    UnknownField(String),
    /// A field appears twice.
    Repeated(SortField),
}

impl fmt::Display for ParseOrderByError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseOrderByError::Empty => f.write_str("an ordering key is empty"),
            ParseOrderByError::UnknownField(s) => write!(
                f,
                "unknown ordering key {s:?} (expected start_time or end_time, optionally with a leading -)"
            ),
            ParseOrderByError::Repeated(field) => {
                write!(f, "ordering key {} appears twice", field.as_str())
            }
        }
    }
}

impl std::error::Error for ParseOrderByError {}

impl From<OrderBy> for String {
    fn from(o: OrderBy) -> String {
        o.to_string()
    }
}

impl TryFrom<String> for OrderBy {
    type Error = ParseOrderByError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl FromStr for OrderBy {
    type Err = ParseOrderByError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut keys: Vec<SortKey> = Vec::new();
        for part in s.split(',') {
            let (descending, name) = match part.strip_prefix('-') {
                Some(name) => (true, name),
                None => (false, part),
            };
            if name.is_empty() {
                return Err(ParseOrderByError::Empty);
            }
            let field = SortField::ALL
                .into_iter()
                .find(|f| f.as_str() == name)
                .ok_or_else(|| ParseOrderByError::UnknownField(part.to_owned()))?;
            if keys.iter().any(|k| k.field == field) {
                return Err(ParseOrderByError::Repeated(field));
            }
            keys.push(SortKey { field, descending });
        }
        Ok(OrderBy { keys })
    }
}

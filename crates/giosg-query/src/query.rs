//! The query string: the filter's 12 parameters, encoded and decoded.
//!
//! Values are form-encoded with the `url` crate, so any tag text survives (`&`, `=`, `+`,
//! spaces, unicode), times go out as UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`, booleans as `true` /
//! `false`, and `only_ended` as `only_ended=true` or not at all.
//!
//! ```
//! use giosg_model::ChatFilter;
//! use giosg_query::query;
//! let filter = ChatFilter::new().tag("VIP & friends").has_sales(false).only_ended(true);
//! let q = query::encode(&filter);
//! assert_eq!(q, "has_sales=false&tag=VIP+%26+friends&only_ended=true");
//! assert_eq!(query::decode(&q).unwrap(), filter);
//! ```

use crate::ValidationError;
use giosg_model::{time, ChatFilter, DateTime, OrderBy, Utc, Uuid};
use url::Url;

/// The names of the typed parameters, in the order they are written.
pub const PARAMETERS: [&str; 12] = [
    "ordering",
    "page",
    "page_size",
    "since_id",
    "start_time",
    "end_time",
    "has_sales",
    "is_real_conversation",
    "room_id",
    "tag",
    "min_message_count",
    "only_ended",
];

/// The most chats one request may ask for: the API's cap on `page_size`.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Checks the ranges the API enforces, so that a bad filter fails before anything is sent:
/// `page` from 1, `page_size` from 1 to [`MAX_PAGE_SIZE`], `start_time` before `end_time` as
/// sent (to the millisecond), a non-empty `tag`.
///
/// ```
/// use giosg_model::{time, ChatFilter};
/// use giosg_query::{query, ValidationError};
/// let t = |s| time::parse(s).unwrap();
/// // Both ends go out as 00:00:00.001: an empty range, though the first is before the second.
/// let filter = ChatFilter::new()
///     .start_time(t("2025-01-01T00:00:00.0001Z"))
///     .end_time(t("2025-01-01T00:00:00.0009Z"));
/// assert!(matches!(query::validate(&filter), Err(ValidationError::TimeRange { .. })));
/// ```
pub fn validate(filter: &ChatFilter) -> Result<(), ValidationError> {
    if let Some(page) = filter.page {
        if page == 0 {
            return Err(ValidationError::Page(page));
        }
    }
    if let Some(size) = filter.page_size {
        if !(1..=MAX_PAGE_SIZE).contains(&size) {
            return Err(ValidationError::PageSize(size));
        }
    }
    for (name, t) in [
        ("start_time", filter.start_time),
        ("end_time", filter.end_time),
    ] {
        if let Some(t) = t {
            if !(1..=9999).contains(&chrono::Datelike::year(&t)) {
                return Err(ValidationError::Malformed {
                    name: name.to_owned(),
                    reason: format!(
                        "{} is outside the years 1 to 9999 the API's time format holds",
                        t.to_rfc3339()
                    ),
                });
            }
        }
    }
    if let (Some(start), Some(end)) = (filter.start_time, filter.end_time) {
        if to_millis(start) >= to_millis(end) {
            return Err(ValidationError::TimeRange {
                start: format_time(start),
                end: format_time(end),
            });
        }
    }
    if filter.tag.as_deref() == Some("") {
        return Err(ValidationError::EmptyTag);
    }
    Ok(())
}

/// Checks that a listing may be continued from a cursor (`since_id`, or a checkpoint) in this
/// ordering: every key ascending. With a descending key, chats added later sort before the
/// cursor and would never be seen.
///
/// ```
/// use giosg_model::{OrderBy, SortField};
/// use giosg_query::query;
/// assert!(query::validate_keyset(None).is_ok());
/// assert!(query::validate_keyset(Some(&OrderBy::desc(SortField::StartTime))).is_err());
/// ```
pub fn validate_keyset(ordering: Option<&OrderBy>) -> Result<(), ValidationError> {
    match ordering.and_then(|o| o.keys().iter().find(|k| k.descending)) {
        Some(key) => Err(ValidationError::DescendingKeyset(key.field.as_str())),
        None => Ok(()),
    }
}

/// Whether the API lists `chat` for `filter`'s selecting parameters, as documented: `start_time`
/// inclusive on when it started, `end_time` exclusive on when it ended (a chat still going on
/// is left out), `has_sales` (a purchased cart), `is_real_conversation`, `room_id`, `tag` (an
/// operator's tag of exactly that name), `min_message_count`, `only_ended`. Times compare as
/// sent, to the millisecond. Paging and order (`page`, `page_size`, `since_id`, `ordering`)
/// select nothing here: a local copy is filtered with it (`giosg chats summary --db`).
///
/// ```
/// use giosg_model::{time, Chat, ChatFilter, Uuid};
/// use giosg_query::query;
/// let mut chat = Chat::new(Uuid::from_u128(1));
/// chat.start_time = Some(time::parse("2025-01-02T10:00:00Z").unwrap());
/// let from = |s| ChatFilter::new().start_time(time::parse(s).unwrap());
/// assert!(query::matches(&from("2025-01-02T10:00:00Z"), &chat));
/// assert!(!query::matches(&from("2025-01-02T10:00:00.001Z"), &chat));
/// assert!(!query::matches(&ChatFilter::new().only_ended(true), &chat), "still going on");
/// ```
pub fn matches(filter: &ChatFilter, chat: &giosg_model::Chat) -> bool {
    let at_or_after = |t: Option<DateTime<Utc>>, bound: DateTime<Utc>| {
        t.is_some_and(|t| to_millis(t) >= to_millis(bound))
    };
    filter
        .start_time
        .is_none_or(|s| at_or_after(chat.start_time, s))
        && filter
            .end_time
            .is_none_or(|e| chat.end_time.is_some_and(|t| to_millis(t) < to_millis(e)))
        && filter.has_sales.is_none_or(|v| chat.has_sales() == v)
        && filter
            .is_real_conversation
            .is_none_or(|v| chat.is_real_conversation == Some(v))
        && filter.room_id.is_none_or(|r| chat.room_id == Some(r))
        && filter.tag.as_deref().is_none_or(|t| chat.has_tag(t))
        && filter
            .min_message_count
            .is_none_or(|n| chat.message_count.is_some_and(|m| m >= u64::from(n)))
        && (!filter.only_ended || chat.end_time.is_some())
}

/// A time as the query carries it: UTC, milliseconds, rounded up.
///
/// The API keeps milliseconds. Rounding up keeps both bounds right for millisecond data:
/// `start_time` (inclusive) never admits a chat before the moment asked for, and `end_time`
/// (exclusive) never drops one before it.
fn to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    let sub_ms = t.timestamp_subsec_nanos() % 1_000_000;
    if sub_ms == 0 {
        return t;
    }
    // At the very end of chrono's range there is no next millisecond: round down instead.
    t.checked_add_signed(chrono_ns(1_000_000 - sub_ms))
        .unwrap_or(t - chrono_ns(sub_ms))
}

fn chrono_ns(ns: u32) -> chrono::TimeDelta {
    chrono::TimeDelta::nanoseconds(i64::from(ns))
}

fn format_time(t: DateTime<Utc>) -> String {
    time::format(&to_millis(t))
}

/// The filter's parameters as name/value pairs, in [`PARAMETERS`] order, `page` as given.
pub fn pairs(filter: &ChatFilter, page: Option<u64>) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::with_capacity(12);
    let bool_str = |b: bool| if b { "true" } else { "false" }.to_owned();
    if let Some(o) = &filter.ordering {
        out.push(("ordering", o.to_string()));
    }
    if let Some(p) = page.or(filter.page.map(u64::from)) {
        out.push(("page", p.to_string()));
    }
    if let Some(n) = filter.page_size {
        out.push(("page_size", n.to_string()));
    }
    if let Some(id) = filter.since_id {
        out.push(("since_id", id.to_string()));
    }
    if let Some(t) = filter.start_time {
        out.push(("start_time", format_time(t)));
    }
    if let Some(t) = filter.end_time {
        out.push(("end_time", format_time(t)));
    }
    if let Some(b) = filter.has_sales {
        out.push(("has_sales", bool_str(b)));
    }
    if let Some(b) = filter.is_real_conversation {
        out.push(("is_real_conversation", bool_str(b)));
    }
    if let Some(id) = filter.room_id {
        out.push(("room_id", id.to_string()));
    }
    if let Some(tag) = &filter.tag {
        out.push(("tag", tag.clone()));
    }
    if let Some(n) = filter.min_message_count {
        out.push(("min_message_count", n.to_string()));
    }
    if filter.only_ended {
        out.push(("only_ended", "true".to_owned()));
    }
    out
}

/// The filter as a query string (without `?`), `page` as the filter has it.
pub fn encode(filter: &ChatFilter) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs(filter, None) {
        s.append_pair(name, &value);
    }
    s.finish()
}

/// Sets a URL's query to the filter's parameters, with `page` and extra parameters.
pub(crate) fn write(
    url: &mut Url,
    filter: &ChatFilter,
    page: Option<u64>,
    extra: &[(String, String)],
) {
    let mut q = url.query_pairs_mut();
    q.clear();
    for (name, value) in pairs(filter, page) {
        q.append_pair(name, &value);
    }
    for (name, value) in extra {
        q.append_pair(name, value);
    }
}

/// Decodes a query string (without `?`) into a filter: the inverse of [`encode`]. Unknown
/// parameters are ignored; a repeated or malformed one is an error naming it.
pub fn decode(query: &str) -> Result<ChatFilter, ValidationError> {
    let mut filter = ChatFilter::new();
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if !PARAMETERS.contains(&name.as_ref()) {
            continue;
        }
        if seen.iter().any(|s| *s == name) {
            return Err(malformed(&name, "given more than once"));
        }
        seen.push(name.to_string());
        let v = value.as_ref();
        match name.as_ref() {
            "ordering" => {
                filter.ordering = Some(v.parse::<OrderBy>().map_err(|e| malformed("ordering", e))?)
            }
            "page" => filter.page = Some(int("page", v)?),
            "page_size" => filter.page_size = Some(int("page_size", v)?),
            "since_id" => filter.since_id = Some(uuid("since_id", v)?),
            "start_time" => filter.start_time = Some(when("start_time", v)?),
            "end_time" => filter.end_time = Some(when("end_time", v)?),
            "has_sales" => filter.has_sales = Some(boolean("has_sales", v)?),
            "is_real_conversation" => {
                filter.is_real_conversation = Some(boolean("is_real_conversation", v)?)
            }
            "room_id" => filter.room_id = Some(uuid("room_id", v)?),
            "tag" => filter.tag = Some(v.to_owned()),
            "min_message_count" => filter.min_message_count = Some(int("min_message_count", v)?),
            "only_ended" => match v {
                "true" => filter.only_ended = true,
                _ => return Err(malformed("only_ended", "must be `true` or left out")),
            },
            _ => unreachable!("every name in PARAMETERS is handled"),
        }
    }
    validate(&filter)?;
    Ok(filter)
}

fn malformed(name: &str, reason: impl std::fmt::Display) -> ValidationError {
    ValidationError::Malformed {
        name: name.to_owned(),
        reason: reason.to_string(),
    }
}

fn int(name: &str, v: &str) -> Result<u32, ValidationError> {
    v.parse()
        .map_err(|_| malformed(name, format_args!("{v:?} is not a non-negative integer")))
}

fn uuid(name: &str, v: &str) -> Result<Uuid, ValidationError> {
    Uuid::parse_str(v).map_err(|_| malformed(name, format_args!("{v:?} is not a UUID")))
}

fn when(name: &str, v: &str) -> Result<DateTime<Utc>, ValidationError> {
    time::parse(v).map_err(|e| malformed(name, format_args!("{v:?}: {e}")))
}

fn boolean(name: &str, v: &str) -> Result<bool, ValidationError> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(malformed(
            name,
            format_args!("{v:?} is not `true` or `false`"),
        )),
    }
}

//! A window of the listing: its bounds, its cursor and what its next request is; and the
//! listing's order, by which chats and cursors compare.

use chrono::{DateTime, TimeDelta, Utc};
use giosg_model::{Chat, Page, SortField, SortKey, Uuid};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::VecDeque;
/// Where a window stands in the listing: the last chat taken and the values it sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Cursor {
    /// The chat's id (sent as `since_id`).
    pub(super) id: Uuid,
    /// Its `start_time` and `end_time`, when known (a cursor given by id alone has none).
    pub(super) sort: Option<SortValues>,
}

/// The values a chat sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct SortValues {
    /// `start_time`.
    #[serde(with = "giosg_model::time::option")]
    pub(super) start_time: Option<DateTime<Utc>>,
    /// `end_time`.
    #[serde(with = "giosg_model::time::option")]
    pub(super) end_time: Option<DateTime<Utc>>,
}

impl Cursor {
    /// The cursor at a chat.
    pub(super) fn at(chat: &Chat) -> Self {
        Cursor {
            id: chat.id,
            sort: Some(SortValues {
                start_time: chat.start_time,
                end_time: chat.end_time,
            }),
        }
    }

    /// A cursor known by its id only (a user's `since_id`).
    pub(super) fn id(id: Uuid) -> Self {
        Cursor { id, sort: None }
    }

    pub(super) fn start_time(&self) -> Option<DateTime<Utc>> {
        self.sort.and_then(|s| s.start_time)
    }
}

/// What the next request of a window is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// After the cursor (`since_id`), or from `lo` without one.
    Keyset,
    /// From the cursor's start time, skipping what is not after the cursor; `probe` is the
    /// last chat seen at or before the cursor, when the chats sharing its start time fill
    /// pages.
    Reanchor { probe: Option<Uuid> },
}

/// Why a window is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum End {
    /// It reached `hi`: the next window goes on from there.
    Bound,
    /// Nothing follows its cursor (now).
    Exhausted,
}

/// What a request asked, to judge its answer.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ask {
    pub(super) ticket: u64,
    pub(super) since: Option<Uuid>,
    /// Re-anchored with a `start_time` filter, which leaves out chats without a start time.
    pub(super) by_time: bool,
    pub(super) nulls_first: bool,
    pub(super) size: u32,
}

#[derive(Debug)]
pub(super) struct Window {
    /// Stable across splits (indexes are not).
    pub(super) id: u64,
    /// `start_time >= lo` (`None`: no bound beyond the filter's).
    pub(super) lo: Option<DateTime<Utc>>,
    /// Chats starting at or after `hi` belong to the next window (`None`: no bound).
    pub(super) hi: Option<DateTime<Utc>>,
    /// The chats without a start time, asked for in `-start_time` order.
    pub(super) nulls: bool,
    /// The last chat taken from answers.
    pub(super) cursor: Option<Cursor>,
    /// The last chat handed out.
    pub(super) delivered: Option<Cursor>,
    pub(super) mode: Mode,
    pub(super) pending: Option<Ask>,
    pub(super) end: Option<End>,
    /// How many chats the last answer said follow it, when it said.
    pub(super) after: Option<u64>,
    /// Before its first answer, how many chats a window split off an open-ended one is
    /// estimated to hold (the density seen so far times its span).
    pub(super) estimate: Option<f64>,
    /// Pages taken but not yet handed out.
    pub(super) held: VecDeque<(Page<Chat>, Cursor)>,
    /// Chats per millisecond of start time, from this window's last page.
    pub(super) density: Option<f64>,
    /// Whether an answer came for this window yet.
    pub(super) answered: bool,
    /// The cursor, while re-anchoring after an answer that looked as if it had vanished; noted
    /// as lost unless an answer shows it.
    pub(super) lost: Option<Uuid>,
    pub(super) stuck: u32,
    /// A narrow window around chats to read again ([`Checkpoint::revisiting`]).
    ///
    /// [`Checkpoint::revisiting`]: super::Checkpoint::revisiting
    pub(super) revisit: bool,
    /// The page size of its first request, when smaller than the listing's.
    pub(super) size: Option<u32>,
}

impl Window {
    pub(super) fn new(
        id: u64,
        lo: Option<DateTime<Utc>>,
        hi: Option<DateTime<Utc>>,
        nulls: bool,
        cursor: Option<Cursor>,
    ) -> Self {
        Window {
            id,
            lo,
            hi,
            nulls,
            cursor,
            delivered: cursor,
            mode: Mode::Keyset,
            pending: None,
            end: None,
            after: None,
            estimate: None,
            held: VecDeque::new(),
            density: None,
            answered: false,
            lost: None,
            stuck: 0,
            revisit: false,
            size: None,
        }
    }

    /// Whether a chat's start time is within the window (ignoring its cursor).
    pub(super) fn contains(&self, chat: &Chat) -> bool {
        if self.nulls {
            return chat.start_time.is_none();
        }
        match chat.start_time {
            None => self.hi.is_none() && self.lo.is_none(),
            Some(t) => self.hi.is_none_or(|hi| t < hi),
        }
    }
}

/// The default order: `start_time` ascending (ties by `id`).
pub(super) fn is_default_order(keys: &[SortKey]) -> bool {
    keys == [SortKey {
        field: SortField::StartTime,
        descending: false,
    }]
}

/// A time rounded down to the millisecond: the API's resolution, so a bound sent in a query
/// is exactly the bound the planner checks.
pub(super) fn floor_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    let sub = t.timestamp_subsec_nanos() % 1_000_000;
    t - TimeDelta::nanoseconds(i64::from(sub))
}

/// The canonical order of a listing: the keys in turn (a missing time last ascending, first
/// descending), then `id` ascending. Compares a chat with a position.
pub(super) fn compare(chat: &Chat, id: Uuid, at: &SortValues, keys: &[SortKey]) -> Ordering {
    for key in keys {
        let (a, b) = match key.field {
            SortField::EndTime => (chat.end_time, at.end_time),
            _ => (chat.start_time, at.start_time),
        };
        let ord = match (a, b) {
            (Some(x), Some(y)) => x.cmp(&y),
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
        };
        let ord = if key.descending { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    chat.id.cmp(&id)
}

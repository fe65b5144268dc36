//! The listing planner: which requests a listing makes next, how answers arriving in any order
//! become chats, and when the listing is complete. Sans I/O: the caller sends the requests.
//!
//! Every listing pages by keyset (`since_id` = the last chat taken), so chats inserted or
//! deleted elsewhere in the listing shift nothing. With the default order (`start_time`
//! ascending, ties by `id`) the listing is also split into start-time windows
//! `[lo, hi)` that are fetched concurrently: each window asks for `start_time >= lo` after its
//! own cursor and ends at the first chat at or after `hi`, where the next window begins, so
//! each chat belongs to exactly one window. Chats without a start time sort after every other
//! and cannot be reached with a `start_time` filter; once the first window is split they are
//! fetched by a window of their own, ordered `-start_time` (they come first there).
//!
//! A window ends only when the evidence agrees: a page shorter than asked, no `next_page`, and
//! a `count` that says nothing follows. A page that says more than it holds is followed up; an
//! empty answer after a page that promised more (the cursor chat was deleted, or the server
//! ignored the cursor) is re-anchored on the cursor's start time, skipping what was already
//! taken. What could not be made to agree is a [`PagingError`]; what was resolved is noted as an
//! [`Anomaly`] in the [`Completeness`] report.
//!
//! ```
//! use giosg_query::{Credentials, Delivery, Endpoint, PlanOptions, Planner};
//! use giosg_model::{Chat, ChatFilter, Page, Uuid};
//!
//! let endpoint = Endpoint::new("https://service.giosg.com", Credentials::token("t0ken"))?;
//! let org = Uuid::parse_str("7f9e9580-095b-42c7-838c-c04e667b26f7")?;
//! let list = endpoint.chats(org, &ChatFilter::new())?;
//! let mut planner = Planner::new(&list, PlanOptions::new().concurrency(4))?;
//!
//! let first = planner.poll_request().expect("a first request");
//! assert!(first.request.request.uri().query().unwrap().contains("page_size=100"));
//! assert!(planner.poll_request().is_none(), "nothing to split before the first answer");
//! // ... send it with any HTTP stack, decode it, then hand the answer back:
//! let page: Page<Chat> = serde_json::from_str(r#"{"count": 1, "num_pages": 1, "current_page": 1,
//!     "results": [{"id": "58f5055c-56e0-11e5-9354-6c4008c08dfe", "start_time": "2025-01-01T00:00:00.000Z"}]}"#)?;
//! planner.accept(first.ticket, page)?;
//! assert_eq!(planner.poll_page().unwrap().results.len(), 1);
//! assert!(planner.is_finished());
//! assert_eq!(planner.completeness().shortfall(), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::paging::SeenWindow;
use crate::{ChatList, PageRequest, PagingError, ValidationError};
use chrono::{DateTime, TimeDelta, Utc};
use giosg_model::{Chat, OrderBy, Page, SortField, SortKey, Uuid};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::fmt;

/// The most chats one request asks for: the API's cap on `page_size`.
pub const MAX_PAGE_SIZE: u32 = 100;

/// How many answers in a row may bring no progress before a window is given up.
const MAX_STUCK: u32 = 4;

/// How chats are handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// In the listing's order. Windows ahead of the one being handed out hold at most
    /// [`PlanOptions::pages_ahead`] pages each, so memory is bounded by
    /// `concurrency × pages_ahead` pages.
    Ordered,
    /// As answers arrive, in no particular order; an idle request slot splits the window with
    /// the most chats left.
    Unordered,
}

/// How a listing is planned.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanOptions {
    /// Requests in flight at most (default 1).
    pub concurrency: usize,
    /// Ordered (default) or as they come.
    pub delivery: Delivery,
    /// Hand out at most this many chats, and never ask for a page that cannot be needed for
    /// them: a limited listing asks for one page at a time, no larger than what is left.
    pub limit: Option<u64>,
    /// With [`Delivery::Ordered`], how many pages a window ahead may hold (default 8).
    pub pages_ahead: usize,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            concurrency: 1,
            delivery: Delivery::Ordered,
            limit: None,
            pages_ahead: 8,
        }
    }
}

impl PlanOptions {
    /// One request at a time, in order, no limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the most requests in flight (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Sets how chats are handed out.
    pub fn delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// Sets the most chats handed out.
    pub fn limit(mut self, limit: Option<u64>) -> Self {
        self.limit = limit;
        self
    }

    /// Sets how many pages a window ahead may hold (at least 1).
    pub fn pages_ahead(mut self, pages: usize) -> Self {
        self.pages_ahead = pages.max(1);
        self
    }
}

/// Identifies a request handed out by [`Planner::poll_request`], to match its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ticket(u64);

/// A request to send, and the ticket to hand its answer back with.
#[derive(Debug)]
pub struct PlannedRequest {
    /// Give this to [`Planner::accept`] (or [`Planner::fail`]) with the answer.
    pub ticket: Ticket,
    /// The request.
    pub request: PageRequest,
}

/// Where a window stands in the listing: the last chat taken and the values it sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    /// The chat's id (sent as `since_id`).
    pub id: Uuid,
    /// Its `start_time` and `end_time`, when known (a cursor given by id alone has none).
    pub sort: Option<SortValues>,
}

/// The values a chat sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SortValues {
    /// `start_time`.
    #[serde(with = "giosg_model::time::option")]
    pub start_time: Option<DateTime<Utc>>,
    /// `end_time`.
    #[serde(with = "giosg_model::time::option")]
    pub end_time: Option<DateTime<Utc>>,
}

impl Cursor {
    /// The cursor at a chat.
    pub fn at(chat: &Chat) -> Self {
        Cursor {
            id: chat.id,
            sort: Some(SortValues {
                start_time: chat.start_time,
                end_time: chat.end_time,
            }),
        }
    }

    /// A cursor known by its id only (a user's `since_id`).
    pub fn id(id: Uuid) -> Self {
        Cursor { id, sort: None }
    }

    fn start_time(&self) -> Option<DateTime<Utc>> {
        self.sort.and_then(|s| s.start_time)
    }
}

/// Something the server's answers said that did not add up, and that the planner resolved
/// (by fetching more, or by re-anchoring); the chats handed out are still complete.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Anomaly {
    /// An answer's envelope contradicted itself (no `next_page` while `count` said more, or a
    /// page shorter than asked while more was said to follow); paging went on until the
    /// evidence agreed.
    EnvelopeConflict {
        /// The answer's `count`.
        count: u64,
        /// How many chats it carried.
        received: u64,
        /// Its `next_page`.
        next_page: Option<u64>,
    },
    /// The number of chats after the cursor changed between two answers: chats were added or
    /// deleted while listing (harmless with keyset paging, noted for the record).
    CountChanged {
        /// What the earlier answer implied.
        expected: u64,
        /// What the later one said.
        got: u64,
    },
    /// An answer after a cursor was empty although the previous one promised more, or it
    /// ignored the cursor: the cursor chat was probably deleted. Paging went on from the
    /// cursor's start time.
    CursorLost {
        /// The cursor.
        cursor: Uuid,
    },
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anomaly::EnvelopeConflict {
                count,
                received,
                next_page,
            } => {
                let next = next_page.map_or_else(|| "none".to_owned(), |n| n.to_string());
                write!(
                    f,
                    "a page of {received} chats said count {count} and next page {next}; paging continued until the answers agreed"
                )
            }
            Anomaly::CountChanged { expected, got } => write!(
                f,
                "the server's count changed while listing ({expected} chats expected after the cursor, {got} reported): chats were added or deleted"
            ),
            Anomaly::CursorLost { cursor } => write!(
                f,
                "chat {cursor} vanished while listing after it (deleted?); continued from its start time"
            ),
        }
    }
}

/// How complete a listing is: what was handed out against what the server counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Completeness {
    /// Chats handed out.
    pub delivered: u64,
    /// How many chats the server counted for the whole listing when it started (`None` when
    /// the listing resumed from a checkpoint, or has not had an answer yet).
    pub expected: Option<u64>,
    /// Whether a limit ended the listing early.
    pub limited: bool,
    /// Whether the listing is complete: every window ended with agreeing evidence.
    pub finished: bool,
    /// Chats dropped because they were already handed out (a server that ignored the
    /// cursor, or re-anchoring after a lost one).
    pub repeats: u64,
    /// Contradictions that were resolved.
    pub anomalies: Vec<Anomaly>,
}

impl Completeness {
    /// How many fewer chats were handed out than the server counted at the start (0 when a
    /// limit ended the listing): chats deleted while listing, or a server that lost some.
    pub fn shortfall(&self) -> u64 {
        if self.limited || !self.finished {
            return 0;
        }
        self.expected
            .map_or(0, |e| e.saturating_sub(self.delivered))
    }
}

/// The remaining work of a listing, to resume it later (in another process, say): each
/// unfinished window with the last chat handed out from it.
///
/// A finished listing's checkpoint keeps the open-ended windows, so that resuming it fetches
/// only what was added since.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    windows: Vec<SavedWindow>,
}

impl Checkpoint {
    /// The listing after a chat known by its id (`None`: the whole listing), as if it had
    /// been handed out last: how a file written before checkpoints existed resumes.
    pub fn after(id: Option<Uuid>) -> Self {
        Checkpoint {
            windows: vec![SavedWindow {
                lo: None,
                hi: None,
                nulls: false,
                cursor: id.map(Cursor::id),
            }],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct SavedWindow {
    #[serde(with = "giosg_model::time::option")]
    lo: Option<DateTime<Utc>>,
    #[serde(with = "giosg_model::time::option")]
    hi: Option<DateTime<Utc>>,
    #[serde(default)]
    nulls: bool,
    cursor: Option<Cursor>,
}

/// What the next request of a window is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// After the cursor (`since_id`), or from `lo` without one.
    Keyset,
    /// From the cursor's start time, skipping what is not after the cursor; `probe` is the
    /// last chat seen at or before the cursor, when the chats sharing its start time fill
    /// pages.
    Reanchor { probe: Option<Uuid> },
}

/// Why a window is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// It reached `hi`: the next window goes on from there.
    Bound,
    /// Nothing follows its cursor (now).
    Exhausted,
}

/// What a request asked, to judge its answer.
#[derive(Clone, Copy, Debug)]
struct Ask {
    ticket: u64,
    since: Option<Uuid>,
    /// Re-anchored with a `start_time` filter, which leaves out chats without a start time.
    by_time: bool,
    nulls_first: bool,
    size: u32,
}

#[derive(Debug)]
struct Window {
    /// Stable across splits (indexes are not).
    id: u64,
    /// `start_time >= lo` (`None`: no bound beyond the filter's).
    lo: Option<DateTime<Utc>>,
    /// Chats starting at or after `hi` belong to the next window (`None`: no bound).
    hi: Option<DateTime<Utc>>,
    /// The chats without a start time, asked for in `-start_time` order.
    nulls: bool,
    /// The last chat taken from answers.
    cursor: Option<Cursor>,
    /// The last chat handed out.
    delivered: Option<Cursor>,
    mode: Mode,
    pending: Option<Ask>,
    end: Option<End>,
    /// How many chats the last answer said follow it, when it said.
    after: Option<u64>,
    /// Before its first answer, how many chats a window split off an open-ended one is
    /// estimated to hold (the density seen so far times its span).
    estimate: Option<f64>,
    /// Pages taken but not yet handed out.
    held: VecDeque<(Page<Chat>, Cursor)>,
    /// Chats per millisecond of start time, from this window's last page.
    density: Option<f64>,
    /// Whether an answer came for this window yet.
    answered: bool,
    /// The cursor, while re-anchoring after an answer that looked as if it had vanished; noted
    /// as lost unless an answer shows it.
    lost: Option<Uuid>,
    stuck: u32,
}

impl Window {
    fn new(
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
        }
    }

    /// Whether a chat's start time is within the window (ignoring its cursor).
    fn contains(&self, chat: &Chat) -> bool {
        if self.nulls {
            return chat.start_time.is_none();
        }
        match chat.start_time {
            None => self.hi.is_none() && self.lo.is_none(),
            Some(t) => self.hi.is_none_or(|hi| t < hi),
        }
    }
}

/// Plans a listing by keyset, in start-time windows when the order allows: which requests to
/// make, how their answers (in any order) become chats, and when the listing is complete.
/// See the crate documentation and [`PlanOptions`].
#[derive(Debug)]
pub struct Planner {
    list: ChatList,
    keys: Vec<SortKey>,
    /// Whether the order is the default one, which start-time windows can split.
    windowed: bool,
    options: PlanOptions,
    page_size: u32,
    windows: Vec<Window>,
    /// Pages taken, in arrival order (unordered delivery), with their window's id.
    ready: VecDeque<(Page<Chat>, Cursor, u64)>,
    next_ticket: u64,
    next_window: u64,
    delivered: u64,
    expected: Option<u64>,
    resumed: bool,
    /// The ids handed out most recently: a server that sends a chat again under another
    /// start time (a chat that moved) does not get it handed out twice.
    seen: SeenWindow,
    repeats: u64,
    anomalies: Vec<Anomaly>,
    /// The first answer's envelope, handed out if the listing turns out empty.
    first: Option<Page<()>>,
    handed_any: bool,
    failed: bool,
    limited: bool,
    density: Option<f64>,
}

/// The default order: `start_time` ascending (ties by `id`).
fn is_default_order(keys: &[SortKey]) -> bool {
    keys == [SortKey {
        field: SortField::StartTime,
        descending: false,
    }]
}

impl Planner {
    /// Plans the whole listing (its `since_id`, if any, is where it starts; its `page` is
    /// ignored: page numbers are [`Pager`](crate::Pager)'s).
    pub fn new(list: &ChatList, options: PlanOptions) -> Result<Self, ValidationError> {
        let filter = list.filter();
        if filter.since_id.is_some() {
            crate::query::validate_keyset(filter.ordering.as_ref())?;
        }
        let first = (
            filter.start_time,
            None,
            false,
            filter.since_id.map(Cursor::id),
        );
        Self::with_windows(list, options, vec![first], false)
    }

    /// Resumes a listing from a [`Checkpoint`] taken of the same listing; its ordering must be
    /// ascending (see [`query::validate_keyset`](crate::query::validate_keyset)).
    pub fn resume(
        list: &ChatList,
        options: PlanOptions,
        checkpoint: &Checkpoint,
    ) -> Result<Self, ValidationError> {
        crate::query::validate_keyset(list.filter().ordering.as_ref())?;
        let windows = checkpoint
            .windows
            .iter()
            .map(|w| (w.lo, w.hi, w.nulls, w.cursor))
            .collect();
        Self::with_windows(list, options, windows, true)
    }

    #[allow(clippy::type_complexity)]
    fn with_windows(
        list: &ChatList,
        options: PlanOptions,
        windows: Vec<(
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            bool,
            Option<Cursor>,
        )>,
        resumed: bool,
    ) -> Result<Self, ValidationError> {
        let next_window = windows.len() as u64;
        let windows = windows
            .into_iter()
            .enumerate()
            .map(|(i, (lo, hi, nulls, cursor))| Window::new(i as u64, lo, hi, nulls, cursor))
            .collect();
        let mut filter = list.filter().clone();
        filter.page = None;
        filter.since_id = None;
        let page_size = *filter.page_size.get_or_insert(MAX_PAGE_SIZE);
        let keys = filter.ordering.as_ref().map_or_else(
            || OrderBy::asc(SortField::StartTime).keys().to_vec(),
            |o| o.keys().to_vec(),
        );
        Ok(Planner {
            list: list.with_filter(filter)?,
            windowed: is_default_order(&keys),
            keys,
            options,
            page_size,
            windows,
            ready: VecDeque::new(),
            next_ticket: 0,
            next_window,
            delivered: 0,
            expected: None,
            resumed,
            seen: SeenWindow::default(),
            repeats: 0,
            anomalies: Vec::new(),
            first: None,
            handed_any: false,
            failed: false,
            limited: false,
            density: None,
        })
    }

    /// The next request to send, if one may be sent now: a window's next page, or the first
    /// page of a window split off one with many chats left. `None` when every request slot is
    /// taken, when what remains waits on answers, or when the listing is finished.
    pub fn poll_request(&mut self) -> Option<PlannedRequest> {
        if self.failed || self.limit_reached() {
            return None;
        }
        let in_flight = self.windows.iter().filter(|w| w.pending.is_some()).count();
        let slots = if self.options.limit.is_some() {
            1
        } else {
            self.options.concurrency
        };
        if in_flight >= slots {
            return None;
        }
        if self.options.limit.is_some() && self.undelivered() > 0 {
            // A limited listing asks for more only once what it holds is handed out.
            return None;
        }
        let index = match self.idle_window() {
            Some(i) => i,
            None => self.split()?,
        };
        Some(self.request_for(index))
    }

    /// The first window that may send its next request.
    fn idle_window(&self) -> Option<usize> {
        let front = self.front();
        self.windows.iter().enumerate().position(|(i, w)| {
            w.end.is_none()
                && w.pending.is_none()
                && (self.options.delivery == Delivery::Unordered
                    || (Some(i) == front && w.held.is_empty())
                    || w.held.len() < self.options.pages_ahead)
        })
    }

    /// The window being handed out (ordered delivery): the first with anything left.
    fn front(&self) -> Option<usize> {
        self.windows
            .iter()
            .position(|w| w.end.is_none() || !w.held.is_empty())
    }

    fn request_for(&mut self, index: usize) -> PlannedRequest {
        let size = match self.options.limit {
            Some(limit) => {
                let left = limit.saturating_sub(self.delivered).max(1);
                self.page_size.min(u32::try_from(left).unwrap_or(u32::MAX))
            }
            None => self.page_size,
        };
        let w = &self.windows[index];
        let (lo, since, nulls_first) = match (w.mode, w.cursor) {
            (Mode::Reanchor { probe }, Some(c)) => match c.start_time() {
                Some(t) if !w.nulls => (Some(floor_ms(t)), probe, false),
                _ => (None, probe, true),
            },
            (_, cursor) => (w.lo, cursor.map(|c| c.id), w.nulls),
        };
        let by_time = matches!(w.mode, Mode::Reanchor { .. }) && !nulls_first;
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let ask = Ask {
            ticket,
            since,
            by_time,
            nulls_first,
            size,
        };
        self.windows[index].pending = Some(ask);
        let mut filter = self.list.filter().clone();
        filter.page_size = Some(size);
        filter.since_id = since;
        filter.start_time = lo.or(filter.start_time);
        if nulls_first {
            filter.ordering = Some(OrderBy::desc(SortField::StartTime));
        }
        let request = self
            .list
            .with_filter(filter)
            .map(|list| list.page_request(1))
            // Windows only narrow a valid filter; should one not validate, the whole listing's
            // first page is a safe request whose answer `accept` judges like any other.
            .unwrap_or_else(|_| self.list.page_request(1));
        PlannedRequest {
            ticket: Ticket(ticket),
            request,
        }
    }

    /// Takes the answer to a request. Chats become available from [`Planner::poll_page`].
    ///
    /// An error means the listing cannot be completed; it is over.
    pub fn accept(&mut self, ticket: Ticket, page: Page<Chat>) -> Result<(), PagingError> {
        let Some(index) = self
            .windows
            .iter()
            .position(|w| w.pending.is_some_and(|a| a.ticket == ticket.0))
        else {
            return Err(PagingError::UnknownTicket);
        };
        let result = self.take(index, page);
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    /// A request failed for good: the listing is over.
    pub fn fail(&mut self, ticket: Ticket) {
        for w in &mut self.windows {
            if w.pending.is_some_and(|a| a.ticket == ticket.0) {
                w.pending = None;
            }
        }
        self.failed = true;
    }

    fn take(&mut self, index: usize, page: Page<Chat>) -> Result<(), PagingError> {
        let ask = self.windows[index]
            .pending
            .take()
            .expect("found by its ask");
        if page.current_page > 1 {
            return Err(PagingError::WrongPage {
                requested: 1,
                got: page.current_page,
            });
        }
        let (envelope, chats) = page.into_parts();
        if self.first.is_none() {
            if !self.resumed {
                self.expected = Some(envelope.count);
            }
            self.first = Some(envelope.clone());
        }
        let received = chats.len() as u64;
        let size = u64::from(ask.size);
        let full_size = match envelope.per_page {
            0 => size,
            served => served.min(size),
        };
        // `count` decodes as 0 when missing: only trust it when it is consistent with the
        // results it came with.
        let count_known = envelope.count >= received && !(envelope.count == 0 && received > 0);
        let more_by_count = count_known && envelope.count > received;
        let more_by_next = envelope.next_page.is_some();
        let full = received >= full_size;
        let says_more = more_by_next || more_by_count || (full && !count_known);
        let conflict = (count_known && more_by_count != more_by_next) || (!full && says_more);
        if conflict {
            self.note(Anomaly::EnvelopeConflict {
                count: envelope.count,
                received,
                next_page: envelope.next_page,
            });
        }
        let keys = self.keys.clone();
        let w = &mut self.windows[index];
        // Noted only if this answer makes progress: an empty one is judged below.
        let count_changed = match (w.after, ask.since, w.mode, count_known && !conflict) {
            (Some(expected), Some(_), Mode::Keyset, true) if expected != envelope.count => {
                Some(Anomaly::CountChanged {
                    expected,
                    got: envelope.count,
                })
            }
            _ => None,
        };
        let saw_cursor = w
            .cursor
            .is_some_and(|c| chats.iter().any(|chat| chat.id == c.id));
        if saw_cursor {
            // The cursor chat is there: whatever this is, it did not vanish.
            w.lost = None;
        }

        // Split the answer: chats already taken (at or before the cursor), the window's new
        // chats, and whether it ran past the window's end.
        let mut skip = 0usize;
        if let Some(c) = w.cursor.filter(|c| c.sort.is_none()) {
            // A cursor known by id only: what precedes it in this answer is a repeat.
            if let Some(i) = chats.iter().position(|chat| chat.id == c.id) {
                skip = i + 1;
            }
        }
        let mut taken: Vec<Chat> = Vec::with_capacity(chats.len());
        let mut repeats = 0usize;
        let mut last_repeat: Option<Uuid> = None;
        let mut past = false;
        for (i, chat) in chats.into_iter().enumerate() {
            if ask.nulls_first && chat.start_time.is_some() {
                // In `-start_time` order the chats without a start time come first: done.
                past = true;
                break;
            }
            // Before the window's start (a server that ignored `start_time`): another
            // window's chat.
            let before_lo =
                w.lo.is_some_and(|lo| chat.start_time.is_some_and(|t| t < lo));
            let behind = i < skip
                || before_lo
                || w.cursor.is_some_and(|c| c.id == chat.id)
                || w.cursor
                    .and_then(|c| c.sort.map(|s| (c.id, s)))
                    .is_some_and(|(id, s)| compare(&chat, id, &s, &keys) != Ordering::Greater);
            if behind {
                repeats += 1;
                last_repeat = Some(chat.id);
                continue;
            }
            if !w.contains(&chat) {
                past = true;
                break;
            }
            if let Some(prev) = taken.last() {
                let s = SortValues {
                    start_time: prev.start_time,
                    end_time: prev.end_time,
                };
                if compare(&chat, prev.id, &s, &keys) != Ordering::Greater {
                    return Err(PagingError::OutOfOrder { id: chat.id });
                }
            }
            if !self.seen.insert(chat.id) {
                repeats += 1;
                continue;
            }
            taken.push(chat);
        }
        self.repeats += repeats as u64;
        let w = &mut self.windows[index];
        w.after = count_known.then(|| envelope.count.saturating_sub(received));
        let answered_before = std::mem::replace(&mut w.answered, true);

        if let Some(last) = taken.last() {
            let cursor = Cursor::at(last);
            if !w.nulls {
                if let (Some(a), Some(b)) =
                    (taken.first().and_then(|c| c.start_time), last.start_time)
                {
                    if taken.len() >= 2 {
                        let span = (b - a).num_milliseconds().max(1) as f64;
                        let d = (taken.len() - 1) as f64 / span;
                        w.density = Some(d);
                        self.density = Some(d);
                    }
                }
            }
            w.cursor = Some(cursor);
            w.mode = Mode::Keyset;
            w.stuck = 0;
            let lost = w.lost.take();
            if let Some(cursor) = lost {
                self.note(Anomaly::CursorLost { cursor });
            }
            if let Some(a) = count_changed {
                self.note(a);
            }
            let w = &mut self.windows[index];
            let page = envelope.with_results(taken);
            match self.options.delivery {
                Delivery::Ordered => w.held.push_back((page, cursor)),
                Delivery::Unordered => self.ready.push_back((page, cursor, w.id)),
            }
            let w = &mut self.windows[index];
            if past {
                w.end = Some(End::Bound);
            } else if !says_more {
                self.exhausted(index, ask);
            }
            return Ok(());
        }

        // Nothing new in this answer.
        if past {
            w.end = Some(End::Bound);
            return Ok(());
        }
        let cursor = w.cursor;
        let cursor_id = cursor.map_or(Uuid::nil(), |c| c.id);
        let can_reanchor = self.windowed && cursor.is_some_and(|c| c.sort.is_some());
        if repeats > 0 {
            if !says_more {
                // Everything from here on was taken already.
                self.exhausted(index, ask);
                return Ok(());
            }
            // A full answer of chats at or before the cursor: the server ignored `since_id`,
            // or the chats sharing the cursor's start time fill pages while re-anchoring.
            let next = match w.mode {
                Mode::Reanchor { probe } if probe != last_repeat => {
                    // The probe moves on through the chats sharing the cursor's start time.
                    w.stuck = 0;
                    Mode::Reanchor { probe: last_repeat }
                }
                Mode::Keyset if can_reanchor => Mode::Reanchor { probe: None },
                // The same answer again: ask again, a few times.
                same => same,
            };
            if next == w.mode || w.mode == Mode::Keyset {
                w.stuck += 1;
            }
            if w.stuck > MAX_STUCK {
                return Err(PagingError::CursorStuck { cursor: cursor_id });
            }
            if w.mode == Mode::Keyset && next != Mode::Keyset && !saw_cursor {
                // Only chats before the cursor, and not the cursor itself: it may be gone.
                w.lost = Some(cursor_id);
            }
            w.mode = next;
            return Ok(());
        }
        if ask.since.is_some() && (says_more || answered_before) {
            // Empty right after a cursor that was promised followers: the cursor chat (or the
            // probe) vanished, and the server answered as if nothing followed it.
            w.stuck += 1;
            if !can_reanchor {
                return Err(PagingError::CursorVanished { cursor: cursor_id });
            }
            if w.stuck > MAX_STUCK {
                return Err(PagingError::CursorStuck { cursor: cursor_id });
            }
            if w.mode == Mode::Keyset {
                w.lost = Some(cursor_id);
            }
            w.mode = Mode::Reanchor { probe: None };
            w.after = None;
            return Ok(());
        }
        if says_more {
            // Nothing at all, yet more is said to follow: ask again, a few times.
            w.stuck += 1;
            if w.stuck > MAX_STUCK {
                return Err(PagingError::EmptyButMore {
                    count: envelope.count,
                });
            }
            return Ok(());
        }
        self.exhausted(index, ask);
        Ok(())
    }

    /// Ends a window whose listing has nothing after its cursor. A window that also covers
    /// the chats without a start time, re-anchored with a `start_time` filter (which leaves
    /// them out), is split instead: its timed part ends just after the cursor, and the chats
    /// without a start time get their window, as when the first window splits.
    fn exhausted(&mut self, index: usize, ask: Ask) {
        if let Some(cursor) = self.windows[index].lost.take() {
            self.note(Anomaly::CursorLost { cursor });
        }
        let w = &mut self.windows[index];
        let covers_nulls = !w.nulls && w.lo.is_none() && w.hi.is_none();
        let at = w
            .cursor
            .and_then(|c| c.start_time())
            .map(|t| floor_ms(t) + TimeDelta::milliseconds(1));
        match at {
            Some(at) if ask.by_time && covers_nulls => {
                w.hi = Some(at);
                w.end = Some(End::Bound);
                let timed = Window::new(self.next_window, Some(at), None, false, None);
                let nulls = Window::new(self.next_window + 1, None, None, true, None);
                self.next_window += 2;
                self.windows.insert(index + 1, timed);
                self.windows.push(nulls);
            }
            _ => w.end = Some(End::Exhausted),
        }
    }

    fn note(&mut self, anomaly: Anomaly) {
        if !self.anomalies.contains(&anomaly) && self.anomalies.len() < 100 {
            self.anomalies.push(anomaly);
        }
    }

    /// Splits a window with enough chats left, when a request slot is idle; returns the new
    /// window's index.
    fn split(&mut self) -> Option<usize> {
        if !self.windowed || self.options.limit.is_some() {
            return None;
        }
        let page = f64::from(self.page_size);
        let end_time = self.list.filter().end_time;
        let (index, at) = match self.options.delivery {
            Delivery::Unordered => {
                let mut best: Option<(usize, DateTime<Utc>, f64)> = None;
                for (i, w) in self.windows.iter().enumerate() {
                    let Some((at, left)) = self.split_point(w, None) else {
                        continue;
                    };
                    if left >= 2.0 * page && best.is_none_or(|(_, _, l)| left > l) {
                        best = Some((i, at, left));
                    }
                }
                let (i, at, _) = best?;
                (i, at)
            }
            Delivery::Ordered => {
                // Open one window just ahead: split the last timed window, about half of
                // `pages_ahead` pages on from its cursor.
                // At most `concurrency` windows fetch, and none opens while half the pages
                // they may hold are held already: memory stays bounded (by 1.5 ×
                // `concurrency × pages_ahead` pages) however slowly pages are taken, and
                // windows that ended holding pages leave their request slot to a new one.
                let active = self.windows.iter().filter(|w| w.end.is_none()).count();
                let held: usize = self.windows.iter().map(|w| w.held.len()).sum();
                let budget = self.options.concurrency * self.options.pages_ahead;
                if active >= self.options.concurrency || 2 * held >= budget {
                    return None;
                }
                let i = self.windows.iter().rposition(|w| !w.nulls)?;
                let ahead = page * (self.options.pages_ahead as f64 / 2.0).max(1.0);
                let (at, left) = self.split_point(&self.windows[i], Some(ahead))?;
                if left <= ahead {
                    return None;
                }
                (i, at)
            }
        };
        let at = match end_time {
            Some(end) if at >= end => return None,
            _ => at,
        };
        let density = self.windows[index].density.or(self.density).unwrap_or(0.0);
        let w = &mut self.windows[index];
        let covered_nulls = w.lo.is_none() && w.hi.is_none() && !w.nulls;
        // What an open-ended window is thought to hold past the split, until it answers.
        let left = w.after.map(|a| a as f64).or(w.estimate);
        let from = w.cursor.and_then(|c| c.start_time()).or(w.lo);
        let moved = from.map_or(0.0, |f| (at - f).num_milliseconds() as f64 * density);
        let hi = w.hi.replace(at);
        let mut fresh = Window::new(self.next_window, Some(at), hi, false, None);
        if hi.is_none() {
            fresh.estimate = left.map(|l| (l - moved).max(0.0));
        }
        self.next_window += 1;
        self.windows.insert(index + 1, fresh);
        if covered_nulls {
            self.windows
                .push(Window::new(self.next_window, None, None, true, None));
            self.next_window += 1;
        }
        Some(index + 1)
    }

    /// Where a window could be split, and how many chats it has left (an estimate): half-way
    /// through what is left, or `ahead` chats on from its cursor (from its start, before its
    /// first answer).
    fn split_point(&self, w: &Window, ahead: Option<f64>) -> Option<(DateTime<Utc>, f64)> {
        if w.end.is_some() || w.nulls || w.mode != Mode::Keyset {
            return None;
        }
        let from = match w.cursor {
            Some(c) => c.start_time()?,
            None => w.lo?,
        };
        let density = w.density.or(self.density)?;
        let left = match (w.hi, w.after) {
            (Some(hi), _) => (hi - from).num_milliseconds() as f64 * density,
            (None, Some(after)) => after as f64,
            (None, None) => w.estimate?,
        };
        let chats = ahead.unwrap_or(left / 2.0);
        let ms = (chats / density).clamp(1.0, 1e15);
        let at = floor_ms(from.checked_add_signed(TimeDelta::milliseconds(ms as i64))?);
        let at = if at <= from {
            floor_ms(from) + TimeDelta::milliseconds(1)
        } else {
            at
        };
        if w.hi.is_some_and(|hi| at >= hi) {
            return None;
        }
        Some((at, left))
    }

    fn undelivered(&self) -> usize {
        self.ready.len() + self.windows.iter().map(|w| w.held.len()).sum::<usize>()
    }

    fn limit_reached(&self) -> bool {
        self.options.limit.is_some_and(|l| self.delivered >= l)
    }

    /// The next page of chats to hand out, if one is ready: in the listing's order with
    /// [`Delivery::Ordered`], as they came otherwise. Its envelope is the server's; its
    /// results are the chats new to the listing (never a chat twice). A listing with no chats
    /// hands out its first answer, empty.
    pub fn poll_page(&mut self) -> Option<Page<Chat>> {
        if self.limit_reached() {
            return None;
        }
        let taken = match self.options.delivery {
            Delivery::Unordered => self.ready.pop_front(),
            Delivery::Ordered => self.front().and_then(|front| {
                let w = &mut self.windows[front];
                w.held
                    .pop_front()
                    .map(|(page, cursor)| (page, cursor, w.id))
            }),
        };
        let Some((mut page, cursor, id)) = taken else {
            return if self.all_done() {
                self.empty_listing()
            } else {
                None
            };
        };
        if let Some(w) = self.windows.iter_mut().find(|w| w.id == id) {
            w.delivered = Some(cursor);
        }
        if let Some(limit) = self.options.limit {
            let left = usize::try_from(limit - self.delivered).unwrap_or(usize::MAX);
            if page.results.len() >= left {
                page.results.truncate(left);
                self.limited = true;
            }
        }
        self.delivered += page.results.len() as u64;
        self.handed_any = true;
        self.gc();
        Some(page)
    }

    fn empty_listing(&mut self) -> Option<Page<Chat>> {
        if self.handed_any || self.failed {
            return None;
        }
        let first = self.first.take()?;
        self.handed_any = true;
        Some(first.with_results(Vec::new()))
    }

    /// Drops windows that reached their bound with everything handed out.
    fn gc(&mut self) {
        let ready = &self.ready;
        self.windows.retain(|w| {
            !(w.end == Some(End::Bound)
                && w.held.is_empty()
                && w.pending.is_none()
                && !ready.iter().any(|(_, _, id)| *id == w.id))
        });
    }

    /// Whether the listing is over: everything fetched and handed out (or the limit reached,
    /// or a request failed).
    pub fn is_finished(&self) -> bool {
        self.failed
            || self.limit_reached()
            || (self.all_done() && (self.handed_any || self.first.is_none()))
    }

    /// Whether every window ended and every page was handed out.
    fn all_done(&self) -> bool {
        self.ready.is_empty()
            && self
                .windows
                .iter()
                .all(|w| w.end.is_some() && w.held.is_empty() && w.pending.is_none())
    }

    /// What was handed out against what the server counted, and what did not add up.
    pub fn completeness(&self) -> Completeness {
        Completeness {
            delivered: self.delivered,
            expected: self.expected,
            limited: self.limited,
            finished: self.is_finished() && !self.failed,
            repeats: self.repeats,
            anomalies: self.anomalies.clone(),
        }
    }

    /// The work left, as of the chats handed out so far (not those fetched and waiting).
    ///
    /// Windows that reached their bound with everything handed out are left out; the
    /// finished windows at the end of the listing become one open-ended window after the
    /// last chat handed out, so that resuming a finished listing asks only for what is new.
    pub fn checkpoint(&self) -> Checkpoint {
        let out = |w: &Window| {
            w.held.is_empty()
                && w.pending.is_none()
                && w.delivered == w.cursor
                && !self.ready.iter().any(|(_, _, id)| *id == w.id)
        };
        let save = |w: &Window| SavedWindow {
            lo: w.lo,
            hi: w.hi,
            nulls: w.nulls,
            cursor: w.delivered,
        };
        let timed: Vec<&Window> = self.windows.iter().filter(|w| !w.nulls).collect();
        let mut tail = timed.len();
        while tail > 0 && timed[tail - 1].end.is_some() && out(timed[tail - 1]) {
            tail -= 1;
        }
        let mut windows: Vec<SavedWindow> = timed[..tail]
            .iter()
            .filter(|w| !(w.end == Some(End::Bound) && out(w)))
            .map(|w| save(w))
            .collect();
        if let Some(first) = timed.get(tail) {
            windows.push(SavedWindow {
                lo: first.lo,
                hi: None,
                nulls: false,
                cursor: timed[tail..].iter().rev().find_map(|w| w.delivered),
            });
        }
        windows.extend(self.windows.iter().filter(|w| w.nulls).map(save));
        Checkpoint { windows }
    }
}

/// A time rounded down to the millisecond: the API's resolution, so a bound sent in a query
/// is exactly the bound the planner checks.
fn floor_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    let sub = t.timestamp_subsec_nanos() % 1_000_000;
    t - TimeDelta::nanoseconds(i64::from(sub))
}

/// The canonical order of a listing: the keys in turn (a missing time last ascending, first
/// descending), then `id` ascending. Compares a chat with a position.
fn compare(chat: &Chat, id: Uuid, at: &SortValues, keys: &[SortKey]) -> Ordering {
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

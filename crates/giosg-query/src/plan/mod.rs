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
#[cfg(doc)]
use crate::PagingError;
use crate::{ChatList, PageRequest, ValidationError, MAX_PAGE_SIZE};
use giosg_model::{Chat, OrderBy, Page, SortField, SortKey};
use std::collections::VecDeque;

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

mod answer;
mod report;
mod split;
mod window;

use report::SavedWindow;
pub use report::{Anomaly, Checkpoint, Completeness, CHECKPOINT_VERSION};
use window::{floor_ms, is_default_order, Ask, Cursor, End, Mode, Window};

/// Plans a listing by keyset, in start-time windows when the order allows: which requests to
/// make, how their answers (in any order) become chats, and when the listing is complete.
/// See the crate documentation and [`PlanOptions`].
#[derive(Debug)]
pub struct Planner {
    /// The listing as the caller gave it (windows narrow it; checkpoints carry it).
    identity: crate::ListingIdentity,
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
    duplicates: u64,
    requests: u64,
    revisited: u64,
    revisit_requests: u64,
    anomalies: Vec<Anomaly>,
    /// The first answer's envelope, handed out if the listing turns out empty.
    first: Option<Page<()>>,
    handed_any: bool,
    failed: bool,
    limited: bool,
    density: Option<f64>,
}

impl Planner {
    /// Plans the whole listing (its `since_id`, if any, is where it starts; its `page` is
    /// ignored: page numbers are [`Pager`](crate::Pager)'s).
    pub fn new(list: &ChatList, options: PlanOptions) -> Result<Self, ValidationError> {
        let filter = list.filter();
        if filter.since_id.is_some() {
            crate::query::validate_keyset(filter.ordering.as_ref())?;
        }
        let first = SavedWindow::new(
            filter.start_time,
            None,
            false,
            filter.since_id.map(Cursor::id),
        );
        Self::with_windows(list, options, vec![first], false)
    }

    /// Resumes a listing from a [`Checkpoint`] taken of the same listing (or planned for it,
    /// [`Checkpoint::revisiting`]); its ordering must be ascending (see
    /// [`query::validate_keyset`](crate::query::validate_keyset)). A checkpoint of another
    /// listing or format version is refused.
    pub fn resume(
        list: &ChatList,
        options: PlanOptions,
        checkpoint: &Checkpoint,
    ) -> Result<Self, ValidationError> {
        crate::query::validate_keyset(list.filter().ordering.as_ref())?;
        checkpoint.check(&crate::ListingIdentity::of(list))?;
        Self::with_windows(list, options, checkpoint.windows.clone(), true)
    }

    fn with_windows(
        list: &ChatList,
        options: PlanOptions,
        windows: Vec<SavedWindow>,
        resumed: bool,
    ) -> Result<Self, ValidationError> {
        let identity = crate::ListingIdentity::of(list);
        let next_window = windows.len() as u64;
        let windows = windows
            .into_iter()
            .enumerate()
            .map(|(i, w)| {
                let mut window = Window::new(i as u64, w.lo, w.hi, w.nulls, w.cursor);
                window.revisit = w.revisit;
                window.size = w.size;
                window
            })
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
            identity,
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
            duplicates: 0,
            requests: 0,
            revisited: 0,
            revisit_requests: 0,
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
        let w = &self.windows[index];
        let page_size = w
            .size
            .map_or(self.page_size, |s| s.clamp(1, self.page_size));
        let size = match self.options.limit {
            Some(limit) => {
                let left = limit.saturating_sub(self.delivered).max(1);
                page_size.min(u32::try_from(left).unwrap_or(u32::MAX))
            }
            None => page_size,
        };
        self.requests += 1;
        if w.revisit {
            self.revisit_requests += 1;
        }
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
            if w.revisit {
                self.revisited += page.results.len() as u64;
            }
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
            duplicates: self.duplicates,
            anomalies: self.anomalies.clone(),
            requests: self.requests,
            revisited: self.revisited,
            revisit_requests: self.revisit_requests,
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
        let save = |w: &Window| {
            let mut saved = SavedWindow::new(w.lo, w.hi, w.nulls, w.delivered);
            saved.revisit = w.revisit;
            // A window that answered asks full pages from then on.
            saved.size = w.size.filter(|_| !w.answered);
            saved
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
            windows.push(SavedWindow::new(
                first.lo,
                None,
                false,
                timed[tail..].iter().rev().find_map(|w| w.delivered),
            ));
        }
        windows.extend(self.windows.iter().filter(|w| w.nulls).map(save));
        Checkpoint {
            version: report::CHECKPOINT_VERSION,
            listing: Some(self.identity.clone()),
            windows,
        }
    }
}

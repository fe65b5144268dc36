//! What both clients' listings share: the listing to refine ([`Listing`], over either client),
//! the request it is made of ([`Spec`]), the engine that says which page to fetch next and hands
//! pages out ([`Engine`]), the run that drives it and ends it on an error ([`Run`]), and the
//! chats of its pages one by one ([`EachChat`], [`Tail`]). The clients only say how they
//! wait for a page: by fetching it in place (blocking), or by polling the requests in flight
//! (async).

use giosg_model::{Chat, ChatFilter, Page, Uuid};
use giosg_query::{
    ChatList, Checkpoint, Completeness, Delivery, Endpoint, Error, PageRequest, Pager, PagingError,
    PlanOptions, Planner, Ticket,
};
use std::collections::VecDeque;
use std::task::{ready, Poll};

/// A listing of an organisation's chats, to refine and then run: `Chats<T>` over a blocking
/// client, `AsyncChats<T>` over an async one.
///
/// Listings page by keyset (`since_id`), so chats added or deleted while listing shift
/// nothing; page numbers are used only when the filter asks for a `page`.
#[derive(Debug)]
#[must_use]
pub struct Listing<C> {
    pub(crate) client: C,
    pub(crate) spec: Spec,
}

impl<C> Listing<C> {
    pub(crate) fn new(client: C, org: Uuid) -> Self {
        Listing {
            client,
            spec: Spec::new(org),
        }
    }

    /// Sets the filter (ordering, page size, time range, tag, ...).
    pub fn filter(mut self, filter: ChatFilter) -> Self {
        self.spec.filter = filter;
        self
    }

    /// Adds a raw query parameter the typed filter does not know yet. It cannot override a
    /// typed parameter.
    pub fn extra_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.spec.extra.push((name.into(), value.into()));
        self
    }

    /// Hands out at most `n` chats, asking only for pages that can be needed for them (one
    /// request at a time).
    pub fn limit(mut self, n: u64) -> Self {
        self.spec.options.limit = Some(n);
        self
    }

    /// Continues a listing from a checkpoint taken of the same listing (the `checkpoint` of
    /// its pages): only what was not handed out then, and what was added since.
    pub fn resume(mut self, checkpoint: Checkpoint) -> Self {
        self.spec.resume = Some(checkpoint);
        self
    }
}

/// A listing as the user described it: organisation, filter, extra parameters and how to run it.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    pub org: Uuid,
    pub filter: ChatFilter,
    pub extra: Vec<(String, String)>,
    pub options: PlanOptions,
    pub resume: Option<Checkpoint>,
}

impl Spec {
    pub(crate) fn new(org: Uuid) -> Self {
        Spec {
            org,
            filter: ChatFilter::new(),
            extra: Vec::new(),
            options: PlanOptions::new(),
            resume: None,
        }
    }

    /// The validated listing.
    pub(crate) fn list(&self, endpoint: &Endpoint) -> Result<ChatList, Error> {
        Ok(endpoint.chats_with_extra(self.org, &self.filter, self.extra.clone())?)
    }

    /// The request for the first page (the filter's `page`, default 1), as the API sends it.
    pub(crate) fn first_request(&self, endpoint: &Endpoint) -> Result<PageRequest, Error> {
        let pager = Pager::new(self.list(endpoint)?);
        Ok(pager.next_request().expect("a new pager has a first page"))
    }

    /// The engine of this listing: page numbers when a page was asked for, keyset paging
    /// (start-time windows when the order allows) otherwise.
    pub(crate) fn engine(&self, endpoint: &Endpoint) -> Result<Engine, Error> {
        let list = self.list(endpoint)?;
        if self.filter.page.is_some() {
            return Ok(Engine::Numbered(Box::new(Numbered {
                pager: Pager::new(list),
                pending: false,
                limit: self.options.limit,
                delivered: 0,
                ready: None,
            })));
        }
        let planner = match &self.resume {
            Some(checkpoint) => Planner::resume(&list, self.options.clone(), checkpoint)?,
            None => Planner::new(&list, self.options.clone())?,
        };
        Ok(Engine::Planned(Box::new(planner)))
    }

    /// Tailing from `since`: the listing in order, after that chat.
    pub(crate) fn tail(&self, since: Option<Uuid>) -> Spec {
        let mut spec = self.clone();
        spec.filter.page = None;
        spec.filter.since_id = since;
        spec.options.delivery = Delivery::Ordered;
        spec.resume = None;
        spec
    }
}

/// A listing being run: its engine, or, once an error ended it, the error to hand out once
/// and what the engine last reported. Both clients' page iterators hold one.
#[derive(Debug)]
pub(crate) struct Run {
    state: Result<Engine, Option<Error>>,
    ended: Option<Box<(Completeness, Option<Checkpoint>)>>,
}

impl Run {
    pub(crate) fn new(spec: &Spec, endpoint: &Endpoint) -> Self {
        Run {
            state: spec.engine(endpoint).map_err(Some),
            ended: None,
        }
    }

    /// The engine, or the error to hand out (once; then `None`).
    pub(crate) fn engine(&mut self) -> Result<&mut Engine, Option<Error>> {
        match &mut self.state {
            Ok(engine) => Ok(engine),
            Err(e) => Err(e.take()),
        }
    }

    /// Ends the listing with an error, keeping the engine's last report; returns the error.
    pub(crate) fn end(&mut self, e: Error) -> Error {
        if let Ok(engine) = &self.state {
            self.ended = Some(Box::new((engine.completeness(), engine.checkpoint())));
        }
        self.state = Err(None);
        e
    }

    pub(crate) fn completeness(&self) -> Completeness {
        match (&self.state, &self.ended) {
            (Ok(engine), _) => engine.completeness(),
            (Err(_), Some(ended)) => ended.0.clone(),
            (Err(_), None) => Completeness::default(),
        }
    }

    pub(crate) fn checkpoint(&self) -> Option<Checkpoint> {
        match (&self.state, &self.ended) {
            (Ok(engine), _) => engine.checkpoint(),
            (Err(_), Some(ended)) => ended.1.clone(),
            (Err(_), None) => None,
        }
    }

    /// The next page: handed out when the engine has one, else the requests it asks for are
    /// handed to `fetcher` and its next outcome is taken. The first error ends the run (the
    /// requests still in flight are dropped): it is handed out once, then the run is over.
    pub(crate) fn poll_page(
        &mut self,
        fetcher: &mut impl Fetcher,
    ) -> Poll<Option<Result<Page<Chat>, Error>>> {
        loop {
            let engine = match self.engine() {
                Ok(engine) => engine,
                Err(e) => return Poll::Ready(e.map(Err)),
            };
            if let Some(page) = engine.poll_page() {
                return Poll::Ready(Some(Ok(page)));
            }
            if engine.is_finished() {
                return Poll::Ready(None);
            }
            while let Some((wait, request)) = engine.poll_request() {
                fetcher.send(wait, request);
            }
            let failed = match ready!(fetcher.poll_outcome()) {
                Some((wait, outcome)) => engine.accept(wait, outcome).err(),
                None => Some(PagingError::Stalled.into()),
            };
            if let Some(e) = failed {
                fetcher.drop_in_flight();
                return Poll::Ready(Some(Err(self.end(e))));
            }
        }
    }
}

/// A request's outcome, with the answer it is.
pub(crate) type Outcome = (Wait, Result<Page<Chat>, Error>);

/// How a client fetches what a [`Run`] asks for: the one thing the blocking and the async
/// client do differently.
pub(crate) trait Fetcher {
    /// Starts (or queues) a request.
    fn send(&mut self, wait: Wait, request: PageRequest);
    /// The outcome of a request sent, when one is in; `Ready(None)` when none is in flight.
    fn poll_outcome(&mut self) -> Poll<Option<Outcome>>;
    /// Forgets the requests in flight: the run ended.
    fn drop_in_flight(&mut self);
}

/// The answer of a poll that never waits: the blocking client fetches in place, so its pages
/// and chats are always ready.
#[cfg(feature = "blocking")]
pub(crate) fn ready_now<T>(poll: Poll<T>) -> T {
    match poll {
        Poll::Ready(t) => t,
        Poll::Pending => unreachable!("a blocking fetch is never pending"),
    }
}

mod sealed {
    use giosg_query::Completeness;

    /// The pages of a listing, which can say how complete it is. Sealed: it only names the
    /// page iterators and streams in [`EachChat`](super::EachChat)'s bounds.
    pub trait Progress {
        fn completeness(&self) -> Completeness;
    }
}
pub(crate) use sealed::Progress;

/// Every chat of a listing's pages, one page in memory at a time: `ChatIter<T>` over the
/// blocking client's pages, `ChatStream<T>` over the async client's.
#[derive(Debug)]
#[must_use = "iterators and streams do nothing unless consumed"]
pub struct EachChat<P> {
    pages: P,
    buffer: VecDeque<Chat>,
}

impl<P> EachChat<P> {
    pub(crate) fn new(pages: P) -> Self {
        EachChat {
            pages,
            buffer: VecDeque::new(),
        }
    }

    /// The next chat: from the page in hand, else from the pages `next_page` brings.
    pub(crate) fn poll_chat(
        &mut self,
        mut next_page: impl FnMut(&mut P) -> Poll<Option<Result<Page<Chat>, Error>>>,
    ) -> Poll<Option<Result<Chat, Error>>> {
        loop {
            if let Some(chat) = self.buffer.pop_front() {
                return Poll::Ready(Some(Ok(chat)));
            }
            match ready!(next_page(&mut self.pages)) {
                Some(Ok(page)) => self.buffer.extend(page.results),
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => return Poll::Ready(None),
            }
        }
    }
}

impl<P: Progress> EachChat<P> {
    /// What was handed out so far against what the server counted, and what did not add up
    /// (the chats still buffered count as handed out); once the listing ended,
    /// [`Completeness::shortfall`] says how many chats it is short.
    pub fn completeness(&self) -> Completeness {
        self.pages.completeness()
    }

    /// How many chats were dropped as repeats so far.
    pub fn dropped(&self) -> u64 {
        self.completeness().repeats
    }
}

/// An tailing: new chats after a cursor: every chat after a cursor, in the listing's order, and the cursor to
/// resume from. `TailIter<T>` over the blocking client's pages, `TailStream<T>` over the async
/// client's.
#[derive(Debug)]
#[must_use = "iterators and streams do nothing unless consumed"]
pub struct Tail<P> {
    chats: EachChat<P>,
    /// The last chat yielded (or the starting point), kept through errors.
    last: Option<Uuid>,
}

impl<P> Tail<P> {
    pub(crate) fn new(pages: P, since: Option<Uuid>) -> Self {
        Tail {
            chats: EachChat::new(pages),
            last: since,
        }
    }

    /// The last chat yielded so far (or the starting point): where a later tail resumes,
    /// also after an error or when the caller stops early.
    pub fn cursor(&self) -> Option<Uuid> {
        self.last
    }

    /// The next chat, noted as the cursor; see [`EachChat::poll_chat`].
    pub(crate) fn poll_chat(
        &mut self,
        next_page: impl FnMut(&mut P) -> Poll<Option<Result<Page<Chat>, Error>>>,
    ) -> Poll<Option<Result<Chat, Error>>> {
        let item = ready!(self.chats.poll_chat(next_page));
        if let Some(Ok(chat)) = &item {
            self.last = Some(chat.id);
        }
        Poll::Ready(item)
    }
}

impl<P: Progress> Tail<P> {
    /// What was handed out so far against what the server counted; see
    /// [`EachChat::completeness`].
    pub fn completeness(&self) -> Completeness {
        self.chats.completeness()
    }

    /// How many chats were dropped as repeats so far.
    pub fn dropped(&self) -> u64 {
        self.chats.dropped()
    }
}

/// Which answer a request waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    Planned(Ticket),
    Numbered(u64),
}

/// Page-number paging (a page was asked for): one request at a time, up to the limit.
#[derive(Debug)]
pub(crate) struct Numbered {
    pager: Pager,
    pending: bool,
    limit: Option<u64>,
    delivered: u64,
    ready: Option<Page<Chat>>,
}

impl Numbered {
    fn limit_reached(&self) -> bool {
        self.limit.is_some_and(|l| self.delivered >= l)
    }
}

/// Says which request to send next and hands out pages; see [`Planner`] and [`Pager`].
#[derive(Debug)]
pub(crate) enum Engine {
    Numbered(Box<Numbered>),
    Planned(Box<Planner>),
}

impl Engine {
    /// The next request to send now, if any.
    pub(crate) fn poll_request(&mut self) -> Option<(Wait, PageRequest)> {
        match self {
            Engine::Planned(p) => p
                .poll_request()
                .map(|r| (Wait::Planned(r.ticket), r.request)),
            Engine::Numbered(n) => {
                if n.pending || n.ready.is_some() || n.limit_reached() {
                    return None;
                }
                let request = n.pager.next_request()?;
                n.pending = true;
                Some((Wait::Numbered(request.page), request))
            }
        }
    }

    /// Takes the outcome of a request; an error ends the listing.
    pub(crate) fn accept(
        &mut self,
        wait: Wait,
        outcome: Result<Page<Chat>, Error>,
    ) -> Result<(), Error> {
        match (self, wait) {
            (Engine::Planned(p), Wait::Planned(ticket)) => match outcome {
                Ok(page) => Ok(p.accept(ticket, page)?),
                Err(e) => {
                    p.fail(ticket);
                    Err(e)
                }
            },
            (Engine::Numbered(n), Wait::Numbered(page_no)) => {
                n.pending = false;
                let page = n.pager.accept(page_no, outcome?)?;
                n.ready = Some(page);
                Ok(())
            }
            _ => Err(PagingError::UnknownTicket.into()),
        }
    }

    /// The next page to hand out, if one is ready.
    pub(crate) fn poll_page(&mut self) -> Option<Page<Chat>> {
        match self {
            Engine::Planned(p) => p.poll_page(),
            Engine::Numbered(n) => {
                let mut page = n.ready.take()?;
                if let Some(limit) = n.limit {
                    let left = usize::try_from(limit - n.delivered).unwrap_or(usize::MAX);
                    page.results.truncate(left);
                }
                n.delivered += page.results.len() as u64;
                Some(page)
            }
        }
    }

    /// Whether everything was fetched and handed out.
    pub(crate) fn is_finished(&self) -> bool {
        match self {
            Engine::Planned(p) => p.is_finished(),
            Engine::Numbered(n) => {
                n.ready.is_none()
                    && !n.pending
                    && (n.limit_reached() || n.pager.next_page().is_none())
            }
        }
    }

    /// How complete the listing is (page-number listings report what they handed out).
    pub(crate) fn completeness(&self) -> Completeness {
        match self {
            Engine::Planned(p) => p.completeness(),
            Engine::Numbered(n) => {
                let mut c = Completeness::default();
                c.delivered = n.delivered;
                c.limited = n.limit_reached();
                c.repeats = n.pager.dropped();
                c
            }
        }
    }

    /// The work left, to resume later; `None` for page-number listings.
    pub(crate) fn checkpoint(&self) -> Option<Checkpoint> {
        match self {
            Engine::Planned(p) => Some(p.checkpoint()),
            Engine::Numbered(_) => None,
        }
    }
}

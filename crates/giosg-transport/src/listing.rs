//! What both clients' listings share: the request a listing is made of ([`Spec`]) and the
//! engine that says which page to fetch next and hands pages out ([`Engine`]). The clients
//! only fetch what the engine asks for, one at a time (blocking) or several at once (async).

use giosg_model::{Chat, ChatFilter, Page, Uuid};
use giosg_query::{
    ChatList, Checkpoint, Completeness, Delivery, Endpoint, Error, PageRequest, Pager, PagingError,
    PlanOptions, Planner, Ticket,
};

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
    pub fn new(org: Uuid) -> Self {
        Spec {
            org,
            filter: ChatFilter::new(),
            extra: Vec::new(),
            options: PlanOptions::new(),
            resume: None,
        }
    }

    /// The validated listing.
    pub fn list(&self, endpoint: &Endpoint) -> Result<ChatList, Error> {
        Ok(endpoint.chats_with_extra(self.org, &self.filter, self.extra.clone())?)
    }

    /// The engine of this listing: page numbers when a page was asked for, keyset paging
    /// (start-time windows when the order allows) otherwise.
    pub fn engine(&self, endpoint: &Endpoint) -> Result<Engine, Error> {
        let list = self.list(endpoint)?;
        if self.filter.page.is_some() {
            return Ok(Engine::Numbered(Numbered {
                pager: Pager::new(list),
                pending: false,
                limit: self.options.limit,
                delivered: 0,
                ready: None,
            }));
        }
        let planner = match &self.resume {
            Some(checkpoint) => Planner::resume(&list, self.options.clone(), checkpoint)?,
            None => Planner::new(&list, self.options.clone())?,
        };
        Ok(Engine::Planned(planner))
    }

    /// Incremental sync from `since`: the listing in order, after that chat.
    pub fn sync(&self, since: Option<Uuid>) -> Spec {
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
    pub fn new(spec: &Spec, endpoint: &Endpoint) -> Self {
        Run {
            state: spec.engine(endpoint).map_err(Some),
            ended: None,
        }
    }

    /// The engine, or the error to hand out (once; then `None`).
    pub fn engine(&mut self) -> Result<&mut Engine, Option<Error>> {
        match &mut self.state {
            Ok(engine) => Ok(engine),
            Err(e) => Err(e.take()),
        }
    }

    /// Ends the listing with an error, keeping the engine's last report; returns the error.
    pub fn end(&mut self, e: Error) -> Error {
        if let Ok(engine) = &self.state {
            self.ended = Some(Box::new((engine.completeness(), engine.checkpoint())));
        }
        self.state = Err(None);
        e
    }

    pub fn completeness(&self) -> Completeness {
        match (&self.state, &self.ended) {
            (Ok(engine), _) => engine.completeness(),
            (Err(_), Some(ended)) => ended.0.clone(),
            (Err(_), None) => Completeness::default(),
        }
    }

    pub fn checkpoint(&self) -> Option<Checkpoint> {
        match (&self.state, &self.ended) {
            (Ok(engine), _) => engine.checkpoint(),
            (Err(_), Some(ended)) => ended.1.clone(),
            (Err(_), None) => None,
        }
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
    Numbered(Numbered),
    Planned(Planner),
}

impl Engine {
    /// The next request to send now, if any.
    pub fn poll_request(&mut self) -> Option<(Wait, PageRequest)> {
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
    pub fn accept(&mut self, wait: Wait, outcome: Result<Page<Chat>, Error>) -> Result<(), Error> {
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
    pub fn poll_page(&mut self) -> Option<Page<Chat>> {
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
    pub fn is_finished(&self) -> bool {
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
    pub fn completeness(&self) -> Completeness {
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
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        match self {
            Engine::Planned(p) => Some(p.checkpoint()),
            Engine::Numbered(_) => None,
        }
    }
}

//! The blocking client.

use crate::builder::{BuildClient, ClientBuilder, Core};
use crate::fetch::{copy, Fetch, Step};
use crate::listing::{Run, Spec};
use giosg_model::{Chat, ChatFilter, Page, Uuid};
use giosg_query::{
    Checkpoint, Completeness, Error, PageRequest, Pager, PagingError, TransportError,
};
use std::{collections::VecDeque, sync::Arc, time::Duration};

/// Sends a request and reads the whole response, blocking.
///
/// Implementations read the body up to the cap in their settings and fail with
/// [`TransportError::body_too_large`] past it.
/// Any `Fn(Request) -> Result<Response, TransportError>` is a transport.
pub trait Transport {
    /// Sends one request.
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError>;

    /// Waits before a retry. Test doubles override it to record instead of waiting.
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

impl<F> Transport for F
where
    F: Fn(http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError>,
{
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self(request)
    }
}

/// A blocking giosg client over a [`Transport`]. Cheap to clone.
#[derive(Debug)]
pub struct Client<T> {
    inner: Arc<Inner<T>>,
}

#[derive(Debug)]
struct Inner<T> {
    transport: T,
    core: Core,
}

impl<T> Clone for Client<T> {
    fn clone(&self) -> Self {
        Client {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<X> BuildClient for Client<X> {
    type Transport = X;
    type With<T> = Client<T>;
    fn assemble(transport: X, core: Core) -> Self {
        Self::assemble_with(transport, core)
    }
    fn assemble_with<T>(transport: T, core: Core) -> Client<T> {
        Client {
            inner: Arc::new(Inner { transport, core }),
        }
    }
}

impl<T> Client<T> {
    /// A builder for this client type.
    pub fn builder() -> ClientBuilder<Self> {
        ClientBuilder::default()
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.inner.transport
    }
}

impl<T: Transport> Client<T> {
    /// The chats of an organisation; refine with [`Chats::filter`], then list.
    pub fn chats(&self, org: Uuid) -> Chats<T> {
        Chats {
            client: self.clone(),
            spec: Spec::new(org),
        }
    }

    /// Fetches one page, retrying as the policy says.
    fn fetch(&self, request: &PageRequest) -> Result<Page<Chat>, Error> {
        let mut fetch = Fetch::new(&self.inner.core, request);
        loop {
            let span = fetch.span();
            let outcome = span.in_scope(|| self.inner.transport.send(copy(&request.request)));
            match fetch.judge(&span, outcome) {
                Step::Done(result) => return result,
                Step::Sleep(wait) => self.inner.transport.sleep(wait),
            }
        }
    }
}

/// A listing of an organisation's chats, to refine and then run.
///
/// Listings page by keyset (`since_id`), so chats added or deleted while listing shift
/// nothing; page numbers are used only when the filter asks for a `page`.
#[derive(Debug)]
#[must_use]
pub struct Chats<T> {
    client: Client<T>,
    spec: Spec,
}

impl<T: Transport> Chats<T> {
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

    /// Hands out at most `n` chats, asking only for pages that can be needed for them.
    pub fn limit(mut self, n: u64) -> Self {
        self.spec.options.limit = Some(n);
        self
    }

    /// Continues a listing from a checkpoint taken of the same listing
    /// ([`Pages::checkpoint`]): only what was not handed out then, and what was added since.
    pub fn resume(mut self, checkpoint: Checkpoint) -> Self {
        self.spec.resume = Some(checkpoint);
        self
    }

    /// The first page (the filter's `page`, default 1), as the API sends it.
    pub fn first_page(&self) -> Result<Page<Chat>, Error> {
        let pager = Pager::new(self.spec.list(&self.client.inner.core.endpoint)?);
        let request = pager.next_request().expect("a new pager has a first page");
        self.client.fetch(&request)
    }

    /// Every page, lazily, in the listing's order. A page's results are the chats new to the
    /// listing: never a chat twice.
    pub fn pages(&self) -> Pages<T> {
        Pages::new(self.client.clone(), &self.spec)
    }

    /// Every chat, lazily: one page in memory at a time.
    pub fn iter(&self) -> ChatIter<T> {
        ChatIter {
            pages: self.pages(),
            buffer: VecDeque::new(),
        }
    }

    /// Incremental sync: every chat after `since` (exclusive; `None` for all) in the
    /// listing's order, so chats inserted or removed meanwhile cause no skip and no
    /// duplicate. [`SyncIter::cursor`] is where the next sync resumes. The ordering must be
    /// ascending (chats added later would come before the cursor otherwise).
    pub fn sync_from(&self, since: Option<Uuid>) -> SyncIter<T> {
        let spec = self.spec.sync(since);
        SyncIter {
            chats: ChatIter {
                pages: Pages::new(self.client.clone(), &spec),
                buffer: VecDeque::new(),
            },
            last: since,
        }
    }
}

/// Pages of a listing; see [`Chats::pages`].
#[derive(Debug)]
pub struct Pages<T> {
    client: Client<T>,
    run: Run,
}

impl<T> Pages<T> {
    fn new(client: Client<T>, spec: &Spec) -> Self {
        let run = Run::new(spec, &client.inner.core.endpoint);
        Pages { client, run }
    }

    /// What was handed out so far against what the server counted, and what did not add up;
    /// once the listing ended, [`Completeness::shortfall`] says how many chats it is short.
    pub fn completeness(&self) -> Completeness {
        self.run.completeness()
    }

    /// The work left as of the pages handed out so far, to [`Chats::resume`] later; `None`
    /// for a listing by page numbers.
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        self.run.checkpoint()
    }

    /// How many chats were dropped as repeats so far.
    pub fn dropped(&self) -> u64 {
        self.completeness().repeats
    }
}

impl<T: Transport> Iterator for Pages<T> {
    type Item = Result<Page<Chat>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let engine = match self.run.engine() {
                Ok(engine) => engine,
                Err(e) => return e.map(Err),
            };
            if let Some(page) = engine.poll_page() {
                return Some(Ok(page));
            }
            if engine.is_finished() {
                return None;
            }
            let Some((wait, request)) = engine.poll_request() else {
                return Some(Err(self.run.end(PagingError::Stalled.into())));
            };
            let outcome = self.client.fetch(&request);
            if let Err(e) = engine.accept(wait, outcome) {
                return Some(Err(self.run.end(e)));
            }
        }
    }
}

/// Every chat of a listing; see [`Chats::iter`].
#[derive(Debug)]
pub struct ChatIter<T> {
    pages: Pages<T>,
    buffer: VecDeque<Chat>,
}

impl<T> ChatIter<T> {
    /// See [`Pages::completeness`] (the chats still buffered count as handed out).
    pub fn completeness(&self) -> Completeness {
        self.pages.completeness()
    }

    /// How many chats were dropped as repeats so far.
    pub fn dropped(&self) -> u64 {
        self.pages.dropped()
    }
}

impl<T: Transport> Iterator for ChatIter<T> {
    type Item = Result<Chat, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(chat) = self.buffer.pop_front() {
                return Some(Ok(chat));
            }
            match self.pages.next()? {
                Ok(page) => self.buffer.extend(page.results),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// An incremental sync; see [`Chats::sync_from`].
#[derive(Debug)]
pub struct SyncIter<T> {
    chats: ChatIter<T>,
    /// The last chat yielded (or the starting point), kept through errors.
    last: Option<Uuid>,
}

impl<T> SyncIter<T> {
    /// The last chat yielded so far (or the starting point): where a later sync resumes,
    /// also after an error or when the caller stops early.
    pub fn cursor(&self) -> Option<Uuid> {
        self.last
    }

    /// See [`Pages::completeness`].
    pub fn completeness(&self) -> Completeness {
        self.chats.completeness()
    }

    /// How many chats were dropped as repeats so far.
    pub fn dropped(&self) -> u64 {
        self.chats.dropped()
    }
}

impl<T: Transport> Iterator for SyncIter<T> {
    type Item = Result<Chat, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.chats.next()?;
        if let Ok(chat) = &item {
            self.last = Some(chat.id);
        }
        Some(item)
    }
}

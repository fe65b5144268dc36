//! The blocking client.

use crate::builder::{BuildClient, ClientBuilder, Core};
use crate::directory::{CursorRun, Rooms, Users};
use crate::fetch::{copy, Fetch, Step};
use crate::listing::{
    ready_now, EachChat, Fetcher, Listing, Outcome, Progress, Run, Spec, Tail, Wait,
};
use giosg_model::{Chat, Page, Room, User, Uuid};
use giosg_query::{Checkpoint, Completeness, Error, PageRequest, TransportError};
use std::task::Poll;
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
    /// The chats of an organisation; refine with [`Listing::filter`], then list.
    pub fn chats(&self, org: Uuid) -> Chats<T> {
        Listing::new(self.clone(), org)
    }

    /// The organisation's rooms; refine, then [`Rooms::iter`].
    pub fn rooms(&self, org: Uuid) -> Rooms<Client<T>> {
        Rooms::new(self.clone(), org)
    }

    /// The organisation's users (operators and bots); refine, then [`Users::iter`].
    pub fn users(&self, org: Uuid) -> Users<Client<T>> {
        Users::new(self.clone(), org)
    }

    /// The token's own user (`GET /api/v5/users/me`): its `organization_id` is the
    /// organisation the token reads.
    pub fn me(&self) -> Result<User, Error> {
        let request = self
            .inner
            .core
            .endpoint
            .get_url(&self.inner.core.endpoint.me_url())
            .ok_or(giosg_query::ValidationError::UrlTooLong)?;
        self.get(&request, 0, crate::directory::decode_me)
    }

    /// Fetches one page, retrying as the policy says.
    fn fetch(&self, request: &PageRequest) -> Result<Page<Chat>, Error> {
        self.get(&request.request, request.page, giosg_query::decode_page)
    }

    /// Sends one request, retrying as the policy says, and decodes its answer.
    pub(crate) fn get<D>(
        &self,
        request: &http::Request<Vec<u8>>,
        page: u64,
        decode: impl Fn(&http::Response<Vec<u8>>, usize) -> Result<D, Error>,
    ) -> Result<D, Error> {
        let mut fetch = Fetch::of(&self.inner.core, request, page);
        loop {
            let span = fetch.span();
            let outcome = span.in_scope(|| self.inner.transport.send(copy(request)));
            match fetch.judge_with(&span, outcome, &decode) {
                Step::Done(result) => return result,
                Step::Sleep(wait) => self.inner.transport.sleep(wait),
            }
        }
    }
}

impl<T: Transport> Rooms<Client<T>> {
    /// Every room, lazily, page after page (cursor paging; retries as for chats).
    pub fn iter(&self) -> CursorIter<T, Room> {
        CursorIter::new(
            self.client.clone(),
            self.pager(&self.client.inner.core.endpoint),
        )
    }
}

impl<T: Transport> Users<Client<T>> {
    /// Every user, lazily, page after page (cursor paging; retries as for chats).
    pub fn iter(&self) -> CursorIter<T, User> {
        CursorIter::new(
            self.client.clone(),
            self.pager(&self.client.inner.core.endpoint),
        )
    }
}

/// The resources of a cursor-paged collection (rooms, users), one page in memory at a time.
#[derive(Debug)]
pub struct CursorIter<T, R> {
    client: Client<T>,
    run: CursorRun<R>,
}

impl<T, R> CursorIter<T, R> {
    fn new(client: Client<T>, pager: giosg_query::CursorPager) -> Self {
        CursorIter {
            client,
            run: CursorRun::new(pager),
        }
    }
}

impl<T: Transport, R: serde::de::DeserializeOwned> Iterator for CursorIter<T, R> {
    type Item = Result<R, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.run.buffer.pop_front() {
                return Some(Ok(r));
            }
            let request = match self.run.next_request()? {
                Ok(request) => request,
                Err(e) => return Some(Err(e)),
            };
            let outcome = self
                .client
                .get(&request, 0, giosg_query::decode_cursor_page::<R>);
            if let Err(e) = self.run.take(outcome) {
                return Some(Err(e));
            }
        }
    }
}

/// A listing of an organisation's chats over a blocking client, to refine and then run.
pub type Chats<T> = Listing<Client<T>>;

impl<T: Transport> Listing<Client<T>> {
    /// The first page (the filter's `page`, default 1), as the API sends it.
    pub fn first_page(&self) -> Result<Page<Chat>, Error> {
        let request = self.spec.first_request(&self.client.inner.core.endpoint)?;
        self.client.fetch(&request)
    }

    /// Every page, lazily, in the listing's order. A page's results are the chats new to the
    /// listing: never a chat twice.
    pub fn pages(&self) -> Pages<T> {
        Pages::new(self.client.clone(), &self.spec)
    }

    /// Every chat, lazily: one page in memory at a time.
    pub fn iter(&self) -> ChatIter<T> {
        EachChat::new(self.pages())
    }

    /// Tailing: every chat after `since` (exclusive; `None` for all) in the
    /// listing's order, so chats inserted or removed meanwhile cause no skip and no
    /// duplicate. [`Tail::cursor`] is where the next tail resumes. The ordering must be
    /// ascending (chats added later would come before the cursor otherwise).
    pub fn tail(&self, since: Option<Uuid>) -> TailIter<T> {
        let pages = Pages::new(self.client.clone(), &self.spec.tail(since));
        Tail::new(pages, since)
    }
}

/// Pages of a listing; see [`Listing::pages`].
#[derive(Debug)]
pub struct Pages<T> {
    run: Run,
    fetcher: InPlace<T>,
}

/// Fetches each request in place, one after the other.
#[derive(Debug)]
struct InPlace<T> {
    client: Client<T>,
    queue: VecDeque<(Wait, PageRequest)>,
}

impl<T: Transport> Fetcher for InPlace<T> {
    fn send(&mut self, wait: Wait, request: PageRequest) {
        self.queue.push_back((wait, request));
    }

    fn poll_outcome(&mut self) -> Poll<Option<Outcome>> {
        Poll::Ready(
            self.queue
                .pop_front()
                .map(|(wait, request)| (wait, self.client.fetch(&request))),
        )
    }

    fn drop_in_flight(&mut self) {
        self.queue.clear();
    }
}

impl<T> Pages<T> {
    fn new(client: Client<T>, spec: &Spec) -> Self {
        let run = Run::new(spec, &client.inner.core.endpoint);
        let fetcher = InPlace {
            client,
            queue: VecDeque::new(),
        };
        Pages { run, fetcher }
    }

    /// What was handed out so far against what the server counted, and what did not add up;
    /// once the listing ended, [`Completeness::shortfall`] says how many chats it is short.
    pub fn completeness(&self) -> Completeness {
        self.run.completeness()
    }

    /// The work left as of the pages handed out so far, to [`Listing::resume`] later; `None`
    /// for a listing by page numbers.
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        self.run.checkpoint()
    }

    /// How many chats were dropped as repeats so far.
    pub fn dropped(&self) -> u64 {
        self.completeness().repeats
    }
}

impl<T> Progress for Pages<T> {
    fn completeness(&self) -> Completeness {
        self.run.completeness()
    }
}

impl<T: Transport> Iterator for Pages<T> {
    type Item = Result<Page<Chat>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        ready_now(self.run.poll_page(&mut self.fetcher))
    }
}

/// Every chat of a listing; see [`Listing::iter`].
pub type ChatIter<T> = EachChat<Pages<T>>;

impl<T: Transport> Iterator for EachChat<Pages<T>> {
    type Item = Result<Chat, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        ready_now(self.poll_chat(|pages| Poll::Ready(pages.next())))
    }
}

/// An tailing: new chats after a cursor; see [`Listing::tail`].
pub type TailIter<T> = Tail<Pages<T>>;

impl<T: Transport> Iterator for Tail<Pages<T>> {
    type Item = Result<Chat, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        ready_now(self.poll_chat(|pages| Poll::Ready(pages.next())))
    }
}

//! The async client: the same words as the blocking one, as futures and streams.

use crate::builder::{BuildClient, ClientBuilder, Core};
use crate::directory::{CursorRun, Rooms, Users};
use crate::fetch::{copy, Fetch, Step};
use crate::listing::{EachChat, Fetcher, Listing, Outcome, Progress, Run, Spec, Tail, Wait};
use futures_core::Stream;
use futures_util::future::{BoxFuture, FutureExt};
use futures_util::stream::{FuturesUnordered, StreamExt};
use giosg_model::{Chat, Page, Room, User, Uuid};
use giosg_query::{Checkpoint, Completeness, Delivery, Error, PageRequest, TransportError};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::{future::Future, sync::Arc, time::Duration};
use tracing::Instrument;

/// Sends a request and reads the whole response, asynchronously.
///
/// Implementations read the body up to the cap in their settings and fail with
/// [`TransportError::body_too_large`] past it.
/// Any `Fn(Request) -> impl Future<Output = Result<Response, TransportError>>` is a transport.
#[async_trait::async_trait]
pub trait AsyncTransport: Send + Sync {
    /// Sends one request.
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError>;

    /// Waits before a retry (tokio's timer). Test doubles override it to record instead.
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

#[async_trait::async_trait]
impl<F, Fut> AsyncTransport for F
where
    F: Fn(http::Request<Vec<u8>>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send,
{
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self(request).await
    }
}

/// An async giosg client over an [`AsyncTransport`]. Cheap to clone.
#[derive(Debug)]
pub struct AsyncClient<T> {
    inner: Arc<Inner<T>>,
}

#[derive(Debug)]
struct Inner<T> {
    transport: T,
    core: Core,
}

impl<T> Clone for AsyncClient<T> {
    fn clone(&self) -> Self {
        AsyncClient {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<X> BuildClient for AsyncClient<X> {
    type Transport = X;
    type With<T> = AsyncClient<T>;
    fn assemble(transport: X, core: Core) -> Self {
        Self::assemble_with(transport, core)
    }
    fn assemble_with<T>(transport: T, core: Core) -> AsyncClient<T> {
        AsyncClient {
            inner: Arc::new(Inner { transport, core }),
        }
    }
}

impl<T> AsyncClient<T> {
    /// A builder for this client type.
    pub fn builder() -> ClientBuilder<Self> {
        ClientBuilder::default()
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.inner.transport
    }
}

impl<T: AsyncTransport + 'static> AsyncClient<T> {
    /// The chats of an organisation; refine with [`Listing::filter`], then list.
    pub fn chats(&self, org: Uuid) -> AsyncChats<T> {
        Listing::new(self.clone(), org)
    }

    /// The organisation's rooms; refine, then [`Rooms::stream`].
    pub fn rooms(&self, org: Uuid) -> Rooms<AsyncClient<T>> {
        Rooms::new(self.clone(), org)
    }

    /// The organisation's users (operators and bots); refine, then [`Users::stream`].
    pub fn users(&self, org: Uuid) -> Users<AsyncClient<T>> {
        Users::new(self.clone(), org)
    }

    /// The token's own user (`GET /api/v5/users/me`): its `organization_id` is the
    /// organisation the token reads.
    pub async fn me(&self) -> Result<User, Error> {
        let endpoint = &self.inner.core.endpoint;
        let request = endpoint
            .get_url(&endpoint.me_url())
            .ok_or(giosg_query::ValidationError::UrlTooLong)?;
        self.get(&request, 0, crate::directory::decode_me).await
    }

    /// Fetches one page, retrying as the policy says.
    async fn fetch(&self, request: PageRequest) -> Result<Page<Chat>, Error> {
        self.get(&request.request, request.page, giosg_query::decode_page)
            .await
    }

    /// Sends one request, retrying as the policy says, and decodes its answer.
    pub(crate) async fn get<D>(
        &self,
        request: &http::Request<Vec<u8>>,
        page: u64,
        decode: impl Fn(&http::Response<Vec<u8>>, usize) -> Result<D, Error>,
    ) -> Result<D, Error> {
        let mut fetch = Fetch::of(&self.inner.core, request, page);
        loop {
            let span = fetch.span();
            let outcome = self
                .inner
                .transport
                .send(copy(request))
                .instrument(span.clone())
                .await;
            match fetch.judge_with(&span, outcome, &decode) {
                Step::Done(result) => return result,
                Step::Sleep(wait) => self.inner.transport.sleep(wait).await,
            }
        }
    }
}

impl<T: AsyncTransport + 'static> Rooms<AsyncClient<T>> {
    /// Every room, as a stream, page after page (cursor paging; retries as for chats).
    pub fn stream(&self) -> CursorStream<T, Room> {
        CursorStream::new(
            self.client.clone(),
            self.pager(&self.client.inner.core.endpoint),
        )
    }
}

impl<T: AsyncTransport + 'static> Users<AsyncClient<T>> {
    /// Every user, as a stream, page after page (cursor paging; retries as for chats).
    pub fn stream(&self) -> CursorStream<T, User> {
        CursorStream::new(
            self.client.clone(),
            self.pager(&self.client.inner.core.endpoint),
        )
    }
}

type PageFuture<R> =
    std::pin::Pin<Box<dyn Future<Output = Result<giosg_model::CursorPage<R>, Error>> + Send>>;

/// The resources of a cursor-paged collection (rooms, users), one page in memory at a time.
pub struct CursorStream<T, R> {
    client: AsyncClient<T>,
    run: CursorRun<R>,
    pending: Option<PageFuture<R>>,
}

impl<T, R> std::fmt::Debug for CursorStream<T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CursorStream")
            .field("pages", &self.run.pager.pages())
            .field("pending", &self.pending.is_some())
            .finish_non_exhaustive()
    }
}

impl<T, R> CursorStream<T, R> {
    fn new(client: AsyncClient<T>, pager: giosg_query::CursorPager) -> Self {
        CursorStream {
            client,
            run: CursorRun::new(pager),
            pending: None,
        }
    }
}

impl<T, R> Unpin for CursorStream<T, R> {}

impl<T, R> Stream for CursorStream<T, R>
where
    T: AsyncTransport + 'static,
    R: serde::de::DeserializeOwned + Send + 'static,
{
    type Item = Result<R, Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(r) = this.run.buffer.pop_front() {
                return Poll::Ready(Some(Ok(r)));
            }
            if this.pending.is_none() {
                let request = match this.run.next_request() {
                    None => return Poll::Ready(None),
                    Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                    Some(Ok(request)) => request,
                };
                let client = this.client.clone();
                this.pending = Some(Box::pin(async move {
                    client
                        .get(&request, 0, giosg_query::decode_cursor_page::<R>)
                        .await
                }));
            }
            let Some(pending) = this.pending.as_mut() else {
                continue;
            };
            let outcome = std::task::ready!(pending.as_mut().poll(cx));
            this.pending = None;
            if let Err(e) = this.run.take(outcome) {
                return Poll::Ready(Some(Err(e)));
            }
        }
    }
}

/// A listing of an organisation's chats over an async client, to refine and then run.
///
/// With the default order (`start_time` ascending) and
/// [`concurrency`](Listing::concurrency) above 1, the listing is split into start-time
/// windows fetched at once; other orders (by `end_time`, descending) page one page at a time.
pub type AsyncChats<T> = Listing<AsyncClient<T>>;

impl<T: AsyncTransport + 'static> Listing<AsyncClient<T>> {
    /// Fetches up to `n` pages at once (default 1: sequential), in start-time windows of the
    /// default order. Chats still come in order (unless [`unordered`](Listing::unordered))
    /// and never twice; at most `12 × n` pages are held while windows ahead wait.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.spec.options.concurrency = n.max(1);
        self
    }

    /// Hands chats out as pages arrive, in no particular order: no page waits for an earlier
    /// window, and idle requests split the window with the most chats left. For exports and
    /// summaries, where order does not matter.
    pub fn unordered(mut self) -> Self {
        self.spec.options.delivery = Delivery::Unordered;
        self
    }

    /// The first page (the filter's `page`, default 1), as the API sends it.
    pub async fn first_page(&self) -> Result<Page<Chat>, Error> {
        let request = self.spec.first_request(&self.client.inner.core.endpoint)?;
        self.client.fetch(request).await
    }

    /// Every page, lazily, with up to [`concurrency`](Listing::concurrency) requests in
    /// flight. A page's results are the chats new to the listing: never a chat twice.
    pub fn pages(&self) -> PageStream<T> {
        PageStream::new(self.client.clone(), &self.spec)
    }

    /// Every chat across pages, lazily: memory stays bounded however many chats there are.
    pub fn stream(&self) -> ChatStream<T> {
        EachChat::new(self.pages())
    }

    /// Tailing: every chat after `since` (exclusive; `None` for all) in the listing's
    /// order, by keyset paging (`since_id`). [`Tail::cursor`] is where the next tail
    /// resumes. The ordering must be ascending (chats added later would come before the
    /// cursor otherwise).
    pub fn tail(&self, since: Option<Uuid>) -> TailStream<T> {
        let pages = PageStream::new(self.client.clone(), &self.spec.tail(since));
        Tail::new(pages, since)
    }
}

/// Pages of a listing, as a stream; see [`Listing::pages`].
#[must_use = "streams do nothing unless polled"]
pub struct PageStream<T> {
    run: Run,
    fetcher: InFlight<T>,
}

/// The requests in flight, polled together.
struct InFlight<T> {
    client: AsyncClient<T>,
    fetching: FuturesUnordered<BoxFuture<'static, Outcome>>,
}

/// [`InFlight`] with the task context of the poll it serves.
struct Polling<'a, 'w, T> {
    in_flight: &'a mut InFlight<T>,
    cx: &'a mut Context<'w>,
}

impl<T: AsyncTransport + 'static> Fetcher for Polling<'_, '_, T> {
    fn send(&mut self, wait: Wait, request: PageRequest) {
        let client = self.in_flight.client.clone();
        self.in_flight
            .fetching
            .push(async move { (wait, client.fetch(request).await) }.boxed());
    }

    fn poll_outcome(&mut self) -> Poll<Option<Outcome>> {
        self.in_flight.fetching.poll_next_unpin(self.cx)
    }

    fn drop_in_flight(&mut self) {
        self.in_flight.fetching = FuturesUnordered::new();
    }
}

impl<T> std::fmt::Debug for PageStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageStream")
            .field("run", &self.run)
            .field("in_flight", &self.fetcher.fetching.len())
            .finish_non_exhaustive()
    }
}

impl<T> PageStream<T> {
    fn new(client: AsyncClient<T>, spec: &Spec) -> Self {
        let run = Run::new(spec, &client.inner.core.endpoint);
        let fetcher = InFlight {
            client,
            fetching: FuturesUnordered::new(),
        };
        PageStream { run, fetcher }
    }

    /// What was handed out so far against what the server counted, and what did not add up;
    /// once the listing ended, [`Completeness::shortfall`] says how many chats it is short.
    pub fn completeness(&self) -> Completeness {
        self.run.completeness()
    }

    /// The work left as of the pages handed out so far, to [`Listing::resume`] later;
    /// `None` for a listing by page numbers.
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        self.run.checkpoint()
    }

    /// How many chats were dropped as repeats so far.
    pub fn dropped(&self) -> u64 {
        self.completeness().repeats
    }
}

impl<T> Progress for PageStream<T> {
    fn completeness(&self) -> Completeness {
        self.run.completeness()
    }
}

impl<T: AsyncTransport + 'static> Stream for PageStream<T> {
    type Item = Result<Page<Chat>, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let mut fetcher = Polling {
            in_flight: &mut this.fetcher,
            cx,
        };
        this.run.poll_page(&mut fetcher)
    }
}

/// Every chat of a listing, as a stream; see [`Listing::stream`].
pub type ChatStream<T> = EachChat<PageStream<T>>;

impl<T: AsyncTransport + 'static> Stream for EachChat<PageStream<T>> {
    type Item = Result<Chat, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_chat(|pages| pages.poll_next_unpin(cx))
    }
}

/// An tailing: new chats after a cursor, as a stream; see [`Listing::tail`].
pub type TailStream<T> = Tail<PageStream<T>>;

impl<T: AsyncTransport + 'static> Stream for Tail<PageStream<T>> {
    type Item = Result<Chat, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_chat(|pages| pages.poll_next_unpin(cx))
    }
}

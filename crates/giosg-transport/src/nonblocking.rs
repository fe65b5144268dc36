//! The async client: the same words as the blocking one, as futures and streams.

use crate::builder::{BuildClient, ClientBuilder, Core};
use crate::fetch::{copy, Fetch, Step};
use crate::listing::{Run, Spec, Wait};
use futures_core::Stream;
use futures_util::future::{BoxFuture, FutureExt};
use futures_util::stream::{FuturesUnordered, StreamExt};
use giosg_model::{Chat, ChatFilter, Page, Uuid};
use giosg_query::{
    Checkpoint, Completeness, Delivery, Error, PageRequest, Pager, PagingError, TransportError,
};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::{collections::VecDeque, future::Future, sync::Arc, time::Duration};
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
    /// The chats of an organisation; refine with [`AsyncChats::filter`], then list.
    pub fn chats(&self, org: Uuid) -> AsyncChats<T> {
        AsyncChats {
            client: self.clone(),
            spec: Spec::new(org),
        }
    }

    /// Fetches one page, retrying as the policy says.
    async fn fetch(&self, request: PageRequest) -> Result<Page<Chat>, Error> {
        let mut fetch = Fetch::new(&self.inner.core, &request);
        loop {
            let span = fetch.span();
            let outcome = self
                .inner
                .transport
                .send(copy(&request.request))
                .instrument(span.clone())
                .await;
            match fetch.judge(&span, outcome) {
                Step::Done(result) => return result,
                Step::Sleep(wait) => self.inner.transport.sleep(wait).await,
            }
        }
    }
}

/// A listing of an organisation's chats, to refine and then run.
///
/// Listings page by keyset (`since_id`), so chats added or deleted while listing shift
/// nothing; page numbers are used only when the filter asks for a `page`. With the default
/// order (`start_time` ascending) and [`concurrency`](AsyncChats::concurrency) above 1, the
/// listing is split into start-time windows fetched at once; other orders (by `end_time`,
/// descending) page one page at a time.
#[derive(Debug)]
#[must_use]
pub struct AsyncChats<T> {
    client: AsyncClient<T>,
    spec: Spec,
}

impl<T: AsyncTransport + 'static> AsyncChats<T> {
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

    /// Fetches up to `n` pages at once (default 1: sequential), in start-time windows of the
    /// default order. Chats still come in order (unless [`unordered`](AsyncChats::unordered))
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

    /// Hands out at most `n` chats, asking only for pages that can be needed for them (one
    /// request at a time).
    pub fn limit(mut self, n: u64) -> Self {
        self.spec.options.limit = Some(n);
        self
    }

    /// Continues a listing from a checkpoint taken of the same listing
    /// ([`PageStream::checkpoint`]): only what was not handed out then, and what was added
    /// since.
    pub fn resume(mut self, checkpoint: Checkpoint) -> Self {
        self.spec.resume = Some(checkpoint);
        self
    }

    /// The first page (the filter's `page`, default 1), as the API sends it.
    pub async fn first_page(&self) -> Result<Page<Chat>, Error> {
        let pager = Pager::new(self.spec.list(&self.client.inner.core.endpoint)?);
        let request = pager.next_request().expect("a new pager has a first page");
        self.client.fetch(request).await
    }

    /// Every page, lazily, with up to [`concurrency`](AsyncChats::concurrency) requests in
    /// flight. A page's results are the chats new to the listing: never a chat twice.
    pub fn pages(&self) -> PageStream<T> {
        PageStream::new(self.client.clone(), &self.spec)
    }

    /// Every chat across pages, lazily: memory stays bounded however many chats there are.
    pub fn stream(&self) -> ChatStream<T> {
        ChatStream {
            pages: self.pages(),
            buffer: VecDeque::new(),
        }
    }

    /// Incremental sync: every chat after `since` (exclusive; `None` for all) in the listing's
    /// order, by keyset paging (`since_id`). [`SyncStream::cursor`] is where the next sync
    /// resumes. The ordering must be ascending (chats added later would come before the
    /// cursor otherwise).
    pub fn sync_from(&self, since: Option<Uuid>) -> SyncStream<T> {
        let spec = self.spec.sync(since);
        SyncStream {
            chats: ChatStream {
                pages: PageStream::new(self.client.clone(), &spec),
                buffer: VecDeque::new(),
            },
            last: since,
        }
    }
}

type Fetching = FuturesUnordered<BoxFuture<'static, (Wait, Result<Page<Chat>, Error>)>>;

/// Pages of a listing, as a stream; see [`AsyncChats::pages`].
#[must_use = "streams do nothing unless polled"]
pub struct PageStream<T> {
    client: AsyncClient<T>,
    run: Run,
    fetching: Fetching,
}

impl<T> std::fmt::Debug for PageStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageStream")
            .field("run", &self.run)
            .field("in_flight", &self.fetching.len())
            .finish_non_exhaustive()
    }
}

impl<T> PageStream<T> {
    fn new(client: AsyncClient<T>, spec: &Spec) -> Self {
        let run = Run::new(spec, &client.inner.core.endpoint);
        PageStream {
            client,
            run,
            fetching: FuturesUnordered::new(),
        }
    }

    /// What was handed out so far against what the server counted, and what did not add up;
    /// once the listing ended, [`Completeness::shortfall`] says how many chats it is short.
    pub fn completeness(&self) -> Completeness {
        self.run.completeness()
    }

    /// The work left as of the pages handed out so far, to [`AsyncChats::resume`] later;
    /// `None` for a listing by page numbers.
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        self.run.checkpoint()
    }

    /// How many chats were dropped as repeats so far.
    pub fn dropped(&self) -> u64 {
        self.completeness().repeats
    }
}

impl<T: AsyncTransport + 'static> Stream for PageStream<T> {
    type Item = Result<Page<Chat>, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let engine = match this.run.engine() {
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
                let client = this.client.clone();
                this.fetching
                    .push(async move { (wait, client.fetch(request).await) }.boxed());
            }
            let failed = match this.fetching.poll_next_unpin(cx) {
                Poll::Ready(Some((wait, outcome))) => engine.accept(wait, outcome).err(),
                Poll::Ready(None) => Some(PagingError::Stalled.into()),
                Poll::Pending => return Poll::Pending,
            };
            if let Some(e) = failed {
                this.fetching = FuturesUnordered::new();
                return Poll::Ready(Some(Err(this.run.end(e))));
            }
        }
    }
}

/// Every chat of a listing, as a stream; see [`AsyncChats::stream`].
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct ChatStream<T> {
    pages: PageStream<T>,
    buffer: VecDeque<Chat>,
}

impl<T> ChatStream<T> {
    /// See [`PageStream::completeness`] (the chats still buffered count as handed out).
    pub fn completeness(&self) -> Completeness {
        self.pages.completeness()
    }

    /// How many chats were dropped as repeats so far.
    pub fn dropped(&self) -> u64 {
        self.pages.dropped()
    }
}

impl<T: AsyncTransport + 'static> Stream for ChatStream<T> {
    type Item = Result<Chat, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(chat) = this.buffer.pop_front() {
                return Poll::Ready(Some(Ok(chat)));
            }
            match std::task::ready!(this.pages.poll_next_unpin(cx)) {
                Some(Ok(page)) => this.buffer.extend(page.results),
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => return Poll::Ready(None),
            }
        }
    }
}

/// An incremental sync, as a stream; see [`AsyncChats::sync_from`].
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct SyncStream<T> {
    chats: ChatStream<T>,
    /// The last chat yielded (or the starting point), kept through errors.
    last: Option<Uuid>,
}

impl<T> SyncStream<T> {
    /// The last chat yielded so far (or the starting point): where a later sync resumes,
    /// also after an error or when the caller stops early.
    pub fn cursor(&self) -> Option<Uuid> {
        self.last
    }

    /// See [`PageStream::completeness`].
    pub fn completeness(&self) -> Completeness {
        self.chats.completeness()
    }

    /// How many chats were dropped as repeats so far.
    pub fn dropped(&self) -> u64 {
        self.chats.dropped()
    }
}

impl<T: AsyncTransport + 'static> Stream for SyncStream<T> {
    type Item = Result<Chat, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let item = std::task::ready!(this.chats.poll_next_unpin(cx));
        if let Some(Ok(chat)) = &item {
            this.last = Some(chat.id);
        }
        Poll::Ready(item)
    }
}

//! The async client: the same words as the blocking one, as futures and streams.

use crate::builder::{Assemble, ClientBuilder, Core};
use crate::fetch::{copy, Fetch, Step};
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use giosg_model::{Chat, ChatFilter, Page, Uuid};
use giosg_query::{ChatList, Error, KeysetPager, PageRequest, Pager, PagingError, TransportError};
use std::{collections::VecDeque, future::Future, sync::Arc, time::Duration};
use tracing::Instrument;

/// Sends a request and reads the whole response, asynchronously.
///
/// Implementations read the body up to the cap in their settings and fail with
/// [`TransportErrorKind::BodyTooLarge`](crate::TransportErrorKind::BodyTooLarge) past it.
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

impl<T> Assemble<T> for AsyncClient<T> {
    fn assemble(transport: T, core: Core) -> Self {
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
            org,
            filter: ChatFilter::new(),
            extra: Vec::new(),
            concurrency: 1,
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
#[derive(Debug)]
#[must_use]
pub struct AsyncChats<T> {
    client: AsyncClient<T>,
    org: Uuid,
    filter: ChatFilter,
    extra: Vec<(String, String)>,
    concurrency: usize,
}

impl<T: AsyncTransport + 'static> AsyncChats<T> {
    /// Sets the filter (ordering, page size, time range, tag, ...).
    pub fn filter(mut self, filter: ChatFilter) -> Self {
        self.filter = filter;
        self
    }

    /// Adds a raw query parameter the typed filter does not know yet. It cannot override a
    /// typed parameter.
    pub fn extra_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// Fetches up to `n` pages at once once the first page has told how many there are
    /// (default 1: sequential). Chats still come in order, and never twice; a page answered
    /// before chats were added (its `count` lower than the previous page's) is fetched again,
    /// so that no chat pushed across a page boundary meanwhile is skipped.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    fn list(&self) -> Result<ChatList, Error> {
        let endpoint = &self.client.inner.core.endpoint;
        Ok(endpoint.chats_with_extra(self.org, &self.filter, self.extra.clone())?)
    }

    /// The first page (the filter's `page`, default 1), as the API sends it.
    pub async fn first_page(&self) -> Result<Page<Chat>, Error> {
        let pager = Pager::new(self.list()?);
        let request = pager.next_request().expect("a new pager has a first page");
        self.client.fetch(request).await
    }

    /// Every page, lazily, from the filter's `page` on, with up to
    /// [`concurrency`](AsyncChats::concurrency) requests in flight. Chats already yielded on a
    /// previous page (page drift) are dropped from later ones.
    pub fn pages(&self) -> BoxStream<'static, Result<Page<Chat>, Error>> {
        let pager = match self.list() {
            Ok(list) => Pager::new(list),
            Err(e) => return stream::once(async { Err(e) }).boxed(),
        };
        let state = PagesState {
            client: self.client.clone(),
            pager,
            ahead: None,
            concurrency: self.concurrency,
            done: false,
        };
        stream::unfold(state, PagesState::step).boxed()
    }

    /// Every chat across pages, lazily: memory stays flat however many chats there are.
    pub fn stream(&self) -> BoxStream<'static, Result<Chat, Error>> {
        self.pages()
            .map_ok(|page| stream::iter(page.results.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Incremental sync: every chat after `since` (exclusive; `None` for all) in the listing's
    /// order, by keyset paging (`since_id`). The last chat yielded is where the next sync
    /// resumes.
    pub fn sync_from(&self, since: Option<Uuid>) -> BoxStream<'static, Result<Chat, Error>> {
        let pager = match self.list().and_then(|l| Ok(KeysetPager::new(&l, since)?)) {
            Ok(pager) => pager,
            Err(e) => return stream::once(async { Err(e) }).boxed(),
        };
        let client = self.client.clone();
        let state = (client, Some(pager), VecDeque::<Chat>::new());
        stream::unfold(state, |(client, mut pager, mut buffer)| async move {
            loop {
                if let Some(chat) = buffer.pop_front() {
                    return Some((Ok(chat), (client, pager, buffer)));
                }
                let request = pager.as_ref()?.next_request()?;
                let result = client.fetch(request).await;
                match result.and_then(|page| Ok(pager.as_mut().expect("checked").accept(page)?)) {
                    Ok(chats) => buffer.extend(chats),
                    Err(e) => return Some((Err(e), (client, None, buffer))),
                }
            }
        })
        .boxed()
    }
}

type Ahead = BoxStream<'static, (u64, Result<Page<Chat>, Error>)>;

struct PagesState<T> {
    client: AsyncClient<T>,
    pager: Pager,
    /// Pages fetched concurrently, in page order.
    ahead: Option<Ahead>,
    concurrency: usize,
    done: bool,
}

impl<T: AsyncTransport + 'static> PagesState<T> {
    async fn step(mut self) -> Option<(Result<Page<Chat>, Error>, Self)> {
        if self.done {
            return None;
        }
        let (number, fetched) = match self.ahead.as_mut() {
            Some(ahead) => match ahead.next().await {
                Some((number, fetched)) => {
                    match self.pager.next_page() {
                        Some(expected) if expected == number => {}
                        // The listing ended early (an empty or last page): drop the rest.
                        None => return None,
                        Some(expected) => {
                            self.done = true;
                            let e = PagingError::WrongPage {
                                requested: expected,
                                got: number,
                            };
                            return Some((Err(e.into()), self));
                        }
                    }
                    let fetched = match fetched {
                        Ok(page) if self.pager.is_stale(&page) => {
                            // Chats arrived between this page's answer and the previous one's:
                            // some may have been pushed past the boundary between them. Fetch
                            // the page again, now, as sequential paging would.
                            let request = self.pager.next_request()?;
                            self.client.fetch(request).await
                        }
                        other => other,
                    };
                    (number, fetched)
                }
                None => {
                    self.ahead = None;
                    return Box::pin(self.step()).await;
                }
            },
            None => {
                let request = self.pager.next_request()?;
                let number = request.page;
                (number, self.client.fetch(request).await)
            }
        };
        let result = fetched.and_then(|page| Ok(self.pager.accept(number, page)?));
        match &result {
            Err(_) => self.done = true,
            Ok(page) if self.ahead.is_none() && self.concurrency > 1 => {
                self.ahead = self.fetch_ahead(page.num_pages);
            }
            Ok(_) => {}
        }
        Some((result, self))
    }

    /// Starts fetching the pages from the next to `last`, `concurrency` at a time.
    fn fetch_ahead(&self, last: u64) -> Option<Ahead> {
        let first = self.pager.next_page()?;
        if first > last {
            return None;
        }
        let list = self.pager.list().clone();
        let client = self.client.clone();
        let fetches = stream::iter(first..=last).map(move |n| {
            let client = client.clone();
            let request = list.page_request(n);
            async move { (n, client.fetch(request).await) }
        });
        Some(fetches.buffered(self.concurrency).boxed())
    }
}

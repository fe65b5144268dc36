//! The blocking client.

use crate::builder::{Assemble, ClientBuilder, Core};
use crate::fetch::{copy, Fetch, Step};
use giosg_model::{Chat, ChatFilter, Page, Uuid};
use giosg_query::{ChatList, Error, KeysetPager, PageRequest, Pager, TransportError};
use std::{collections::VecDeque, sync::Arc, time::Duration};

/// Sends a request and reads the whole response, blocking.
///
/// Implementations read the body up to the cap in their settings and fail with
/// [`TransportErrorKind::BodyTooLarge`](crate::TransportErrorKind::BodyTooLarge) past it.
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

impl<T> Assemble<T> for Client<T> {
    fn assemble(transport: T, core: Core) -> Self {
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
            org,
            filter: ChatFilter::new(),
            extra: Vec::new(),
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
#[derive(Debug)]
#[must_use]
pub struct Chats<T> {
    client: Client<T>,
    org: Uuid,
    filter: ChatFilter,
    extra: Vec<(String, String)>,
}

impl<T: Transport> Chats<T> {
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

    fn list(&self) -> Result<ChatList, Error> {
        let endpoint = &self.client.inner.core.endpoint;
        Ok(endpoint.chats_with_extra(self.org, &self.filter, self.extra.clone())?)
    }

    /// The first page (the filter's `page`, default 1), as the API sends it.
    pub fn first_page(&self) -> Result<Page<Chat>, Error> {
        let list = self.list()?;
        let pager = Pager::new(list);
        let request = pager.next_request().expect("a new pager has a first page");
        self.client.fetch(&request)
    }

    /// Every page, lazily, from the filter's `page` on. Chats already yielded on a previous
    /// page (page drift) are dropped from later ones.
    pub fn pages(&self) -> Pages<T> {
        Pages {
            client: self.client.clone(),
            state: self.list().map(Pager::new).map_err(Some),
        }
    }

    /// Every chat across pages, lazily: one page in memory at a time.
    pub fn iter(&self) -> ChatIter<T> {
        ChatIter {
            pages: self.pages(),
            buffer: VecDeque::new(),
        }
    }

    /// Incremental sync: every chat after `since` (exclusive; `None` for all) in the
    /// listing's order, by keyset paging (`since_id`), so chats inserted or removed meanwhile
    /// cause no skip and no duplicate. [`Sync::cursor`] is where the next sync resumes.
    pub fn sync_from(&self, since: Option<Uuid>) -> Sync<T> {
        let state = self
            .list()
            .and_then(|list| Ok(KeysetPager::new(&list, since)?))
            .map_err(Some);
        Sync {
            client: self.client.clone(),
            state,
            buffer: VecDeque::new(),
            last: since,
        }
    }
}

/// Pages of a listing; see [`Chats::pages`].
#[derive(Debug)]
pub struct Pages<T> {
    client: Client<T>,
    /// The pager, or the error to yield once before ending.
    state: Result<Pager, Option<Error>>,
}

impl<T> Pages<T> {
    /// How many chats were dropped as repeats (page drift) so far.
    pub fn dropped(&self) -> u64 {
        self.state.as_ref().map_or(0, Pager::dropped)
    }
}

impl<T: Transport> Iterator for Pages<T> {
    type Item = Result<Page<Chat>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let pager = match &mut self.state {
            Ok(pager) => pager,
            Err(e) => return e.take().map(Err),
        };
        let request = pager.next_request()?;
        let result = self
            .client
            .fetch(&request)
            .and_then(|page| Ok(pager.accept(request.page, page)?));
        if result.is_err() {
            self.state = Err(None);
        }
        Some(result)
    }
}

/// Every chat of a listing; see [`Chats::iter`].
#[derive(Debug)]
pub struct ChatIter<T> {
    pages: Pages<T>,
    buffer: VecDeque<Chat>,
}

impl<T> ChatIter<T> {
    /// How many chats were dropped as repeats (page drift) so far.
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
pub struct Sync<T> {
    client: Client<T>,
    state: Result<KeysetPager, Option<Error>>,
    buffer: VecDeque<Chat>,
    /// The last chat yielded (or the starting point), kept through errors.
    last: Option<Uuid>,
}

impl<T> Sync<T> {
    /// The last chat yielded so far (or the starting point): where a later sync resumes,
    /// also after an error or when the caller stops early.
    pub fn cursor(&self) -> Option<Uuid> {
        self.last
    }
}

impl<T: Transport> Iterator for Sync<T> {
    type Item = Result<Chat, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(chat) = self.buffer.pop_front() {
                self.last = Some(chat.id);
                return Some(Ok(chat));
            }
            let pager = match &mut self.state {
                Ok(pager) => pager,
                Err(e) => return e.take().map(Err),
            };
            let request = pager.next_request()?;
            match self
                .client
                .fetch(&request)
                .and_then(|page| Ok(pager.accept(page)?))
            {
                Ok(chats) => self.buffer.extend(chats),
                Err(e) => {
                    self.state = Err(None);
                    return Some(Err(e));
                }
            }
        }
    }
}

//! Which page comes next, and when a listing ends: two state machines the transports drive.

use crate::{ChatList, PageRequest, PagingError, ValidationError};
use giosg_model::{Chat, Page, Uuid};
use std::collections::{HashSet, VecDeque};

/// How many recently yielded chat ids are remembered to drop repeats: ten full pages, so
/// memory stays flat however long the listing.
const WINDOW: usize = 1000;

/// The ids of the most recently yielded chats, bounded.
#[derive(Clone, Debug, Default)]
struct SeenWindow {
    order: VecDeque<Uuid>,
    set: HashSet<Uuid>,
}

impl SeenWindow {
    /// Remembers `id`; false if it was already remembered.
    fn insert(&mut self, id: Uuid) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > WINDOW {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }

    /// Keeps the chats not seen before, remembering them; returns how many were dropped.
    fn dedup(&mut self, chats: &mut Vec<Chat>) -> u64 {
        let before = chats.len();
        chats.retain(|c| self.insert(c.id));
        (before - chats.len()) as u64
    }
}

/// Page-number paging: page after page until the last, an empty page, or an error.
///
/// It follows `next_page_url` only when it is on the base URL's origin and the listing's path
/// (otherwise it builds the next page's URL from the filter), checks that each page is the one
/// asked for, and drops a chat already yielded shortly before (new chats arriving during a
/// listing shift items across page boundaries), counting the drops.
#[derive(Clone, Debug)]
pub struct Pager {
    list: ChatList,
    next: Option<u64>,
    next_url: Option<String>,
    seen: SeenWindow,
    dropped: u64,
    last: Option<Page<()>>,
}

impl Pager {
    /// Starts at the filter's `page` (default 1).
    pub fn new(list: ChatList) -> Self {
        let first = list.filter().page.map_or(1, u64::from);
        Pager {
            list,
            next: Some(first),
            next_url: None,
            seen: SeenWindow::default(),
            dropped: 0,
            last: None,
        }
    }

    /// The request for the next page, or `None` when the listing is complete.
    pub fn next_request(&self) -> Option<PageRequest> {
        let page = self.next?;
        self.next_url
            .as_deref()
            .and_then(|url| self.list.suggested_request(page, url))
            .or_else(|| Some(self.list.page_request(page)))
    }

    /// The page the next request asks for, or `None` when the listing is complete.
    pub fn next_page(&self) -> Option<u64> {
        self.next
    }

    /// Takes the answer to the request for page `requested`: returns the page minus the chats
    /// already yielded, and moves to the next page or to the end.
    pub fn accept(&mut self, requested: u64, page: Page<Chat>) -> Result<Page<Chat>, PagingError> {
        if page.current_page != requested {
            self.next = None;
            return Err(PagingError::WrongPage {
                requested,
                got: page.current_page,
            });
        }
        let (envelope, mut chats) = page.into_parts();
        self.next = None;
        self.next_url = None;
        if !chats.is_empty() && envelope.current_page < envelope.num_pages {
            // `num_pages` says more follow: a missing `next_page` does not end the listing.
            let next = envelope.next_page.unwrap_or(envelope.current_page + 1);
            if next <= envelope.current_page {
                return Err(PagingError::NotAdvancing {
                    current: envelope.current_page,
                    next,
                });
            }
            self.next = Some(next);
            self.next_url = envelope.next_page_url.clone();
        }
        self.dropped += self.seen.dedup(&mut chats);
        self.last = Some(envelope.clone());
        Ok(envelope.with_results(chats))
    }

    /// How many chats were dropped as repeats so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Whether a page fetched ahead of time (concurrent paging) was answered before the page
    /// accepted last: its `count` is lower, so chats were added in between and some may have
    /// been pushed past the boundary between the two pages. Such a page must be fetched again
    /// before it is accepted.
    pub fn is_stale(&self, page: &Page<Chat>) -> bool {
        self.last
            .as_ref()
            .is_some_and(|last| page.count < last.count)
    }

    /// The envelope of the last page accepted (`count`, `num_pages`, ...), without results.
    pub fn last_envelope(&self) -> Option<&Page<()>> {
        self.last.as_ref()
    }

    /// The listing.
    pub fn list(&self) -> &ChatList {
        &self.list
    }
}

/// Keyset paging for incremental sync: always page 1, with `since_id` set to the last chat
/// yielded, until a page shorter than the page size.
///
/// Chats inserted or removed while it runs never cause a skip or a duplicate, since every
/// request starts right after the last chat seen in the listing's order.
#[derive(Clone, Debug)]
pub struct KeysetPager {
    list: ChatList,
    cursor: Option<Uuid>,
    page_size: u64,
    done: bool,
    seen: SeenWindow,
    dropped: u64,
}

impl KeysetPager {
    /// Syncs from `since` (exclusive; `None` for the beginning). The filter's `page` is
    /// ignored and its `page_size` defaults to 100, the most per request.
    pub fn new(list: &ChatList, since: Option<Uuid>) -> Result<Self, ValidationError> {
        let mut filter = list.filter().clone();
        filter.page = None;
        filter.since_id = since;
        let page_size = *filter.page_size.get_or_insert(100);
        Ok(KeysetPager {
            list: list.with_filter(filter)?,
            cursor: since,
            page_size: u64::from(page_size),
            done: false,
            seen: SeenWindow::default(),
            dropped: 0,
        })
    }

    /// The request for the next page, or `None` when in sync.
    pub fn next_request(&self) -> Option<PageRequest> {
        (!self.done).then(|| self.list.page_request(1))
    }

    /// The last chat yielded: where a later sync resumes.
    pub fn cursor(&self) -> Option<Uuid> {
        self.cursor
    }

    /// Takes the answer to the latest request and moves the cursor past its chats.
    pub fn accept(&mut self, page: Page<Chat>) -> Result<Vec<Chat>, PagingError> {
        if page.current_page != 1 {
            self.done = true;
            return Err(PagingError::WrongPage {
                requested: 1,
                got: page.current_page,
            });
        }
        let (envelope, mut chats) = page.into_parts();
        let received = chats.len() as u64;
        // A page is full at the size asked for, or at the server's own `per_page` if it
        // capped it lower; a short page is the last unless the server names a next one.
        let full_size = match envelope.per_page {
            0 => self.page_size,
            served => served.min(self.page_size),
        };
        let more = received >= full_size || envelope.next_page.is_some();
        // A server that ignores since_id would send the cursor and what precedes it again.
        if let Some(cursor) = self.cursor {
            if let Some(i) = chats.iter().position(|c| c.id == cursor) {
                chats.drain(..=i);
            }
        }
        self.dropped += self.seen.dedup(&mut chats);
        let Some(last) = chats.last() else {
            self.done = true;
            return match self.cursor {
                Some(cursor) if more => Err(PagingError::CursorStuck { cursor }),
                _ => Ok(chats),
            };
        };
        self.cursor = Some(last.id);
        self.done = !more;
        let mut filter = self.list.filter().clone();
        filter.since_id = self.cursor;
        self.list = self
            .list
            .with_filter(filter)
            .expect("moving since_id keeps a valid filter");
        Ok(chats)
    }

    /// How many chats were dropped as repeats so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

//! Page-number paging, for listings that ask for a page: which page comes next, and when the
//! listing ends. Every other listing is the [`Planner`](crate::Planner)'s (keyset paging).

use crate::{ChatList, PageRequest, PagingError, MAX_PAGE_SIZE};
use giosg_model::{Chat, Page, Uuid};
use std::collections::{HashSet, VecDeque};

/// How many recently yielded chat ids are remembered to drop repeats: ten full pages, so
/// memory stays flat however long the listing.
const WINDOW: usize = 10 * MAX_PAGE_SIZE as usize;

/// The ids of the most recently yielded chats, bounded.
#[derive(Clone, Debug, Default)]
pub(crate) struct SeenWindow {
    order: VecDeque<Uuid>,
    set: HashSet<Uuid>,
}

impl SeenWindow {
    /// Remembers `id`; false if it was already remembered.
    pub(crate) fn insert(&mut self, id: Uuid) -> bool {
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
/// It follows `next_page_url` only when it asks for exactly the listing's own URL of the next
/// page (parameters in any order); one on another origin or path is not followed (it builds
/// the next page's URL from the filter), and one on the listing's origin and path that changes
/// a parameter ends the listing with [`PagingError::NextPageUrlChanged`]. It checks that each
/// page is the one asked for, and drops a chat already yielded shortly before (new chats
/// arriving during a listing shift items across page boundaries), counting the drops.
#[derive(Clone, Debug)]
pub struct Pager {
    list: ChatList,
    next: Option<u64>,
    next_url: Option<String>,
    seen: SeenWindow,
    dropped: u64,
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
            if let Some(url) = &envelope.next_page_url {
                self.list.check_suggested(next, url)?;
            }
            self.next = Some(next);
            self.next_url = envelope.next_page_url.clone();
        }
        self.dropped += self.seen.dedup(&mut chats);
        Ok(envelope.with_results(chats))
    }

    /// How many chats were dropped as repeats so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The listing.
    pub fn list(&self) -> &ChatList {
        &self.list
    }
}

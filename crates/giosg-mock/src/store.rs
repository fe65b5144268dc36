//! The mock's data: chats kept in the default canonical order, the filters and orders a
//! listing selects them by, a small cache of computed listings so that paging is O(page), and
//! the changes made while a client pages (pushes, deletions, drift, insertions).

use chrono::{DateTime, TimeDelta, Utc};
use giosg_model::{Chat, SortField, SortKey, Uuid};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// How many computed listings the cache keeps.
const CACHE_ENTRIES: usize = 8;

/// The order of a listing without `ordering`: `start_time` ascending (then `id`).
pub(crate) const DEFAULT_ORDER: [SortKey; 1] = [SortKey {
    field: SortField::StartTime,
    descending: false,
}];

/// A listing's filter and order: every parameter but `page` and `page_size`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Query {
    /// Never empty; the default is `start_time` ascending.
    pub ordering: Vec<SortKey>,
    pub since_id: Option<Uuid>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub has_sales: Option<bool>,
    pub is_real_conversation: Option<bool>,
    pub room_id: Option<Uuid>,
    pub tag: Option<String>,
    pub min_message_count: Option<u64>,
    pub only_ended: bool,
}

fn field(chat: &Chat, field: SortField) -> Option<DateTime<Utc>> {
    match field {
        SortField::EndTime => chat.end_time,
        // `SortField` is non-exhaustive: order by start time for anything newer.
        _ => chat.start_time,
    }
}

/// The canonical order: the keys in turn (`None` last ascending, first descending), then `id`
/// ascending.
pub(crate) fn compare(a: &Chat, b: &Chat, keys: &[SortKey]) -> Ordering {
    for key in keys {
        let ord = match (field(a, key.field), field(b, key.field)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
        };
        let ord = if key.descending { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.id.cmp(&b.id)
}

/// Whether a chat passes every filter of `q` but `since_id`. A missing value matches no
/// filter on it, as `NULL` in SQL.
fn matches(chat: &Chat, q: &Query) -> bool {
    let started_in = |t| chat.start_time.is_some_and(|s| s >= t);
    let ended_before = |t| chat.end_time.is_some_and(|e| e < t);
    q.start_time.is_none_or(started_in)
        && q.end_time.is_none_or(ended_before)
        && q.has_sales.is_none_or(|v| chat.has_sales() == v)
        && q.is_real_conversation
            .is_none_or(|v| chat.is_real_conversation == Some(v))
        && q.room_id.is_none_or(|r| chat.room_id == Some(r))
        && q.tag.as_deref().is_none_or(|t| chat.has_tag(t))
        && q.min_message_count
            .is_none_or(|min| chat.message_count.is_some_and(|n| n >= min))
        && (!q.only_ended || chat.is_ended())
}

/// A listing: the indexes of the matching chats in canonical order, from `skip` on.
pub(crate) struct Listing {
    all: Arc<Vec<u32>>,
    skip: usize,
}

impl std::ops::Deref for Listing {
    type Target = [u32];

    fn deref(&self) -> &[u32] {
        &self.all[self.skip..]
    }
}

/// The chats, in default canonical order (`start_time`, then `id`), with an id index and a
/// cache of computed listings.
pub(crate) struct Store {
    chats: Vec<Chat>,
    by_id: HashMap<Uuid, usize>,
    /// Most recently used first.
    cache: Vec<(Query, Arc<Vec<u32>>)>,
    /// How many drifts happened: each one generates from its own seed.
    drifts: u64,
    /// How many insertions happened: each one generates from its own seed.
    inserts: u64,
}

impl Store {
    /// A store of these chats; a later chat replaces an earlier one with the same id.
    pub(crate) fn new(chats: Vec<Chat>) -> Self {
        let mut store = Store {
            chats: Vec::new(),
            by_id: HashMap::new(),
            cache: Vec::new(),
            drifts: 0,
            inserts: 0,
        };
        store.push(chats);
        store
    }

    /// Adds chats, replacing any with the same id, and forgets every cached listing.
    pub(crate) fn push(&mut self, chats: Vec<Chat>) {
        for chat in chats {
            match self.by_id.get(&chat.id) {
                Some(&i) => self.chats[i] = chat,
                None => {
                    self.by_id.insert(chat.id, self.chats.len());
                    self.chats.push(chat);
                }
            }
        }
        self.chats
            .sort_unstable_by(|a, b| compare(a, b, &DEFAULT_ORDER));
        self.by_id.clear();
        self.by_id
            .extend(self.chats.iter().enumerate().map(|(i, c)| (c.id, i)));
        self.cache.clear();
    }

    /// Removes the chats with these ids (unknown ids are ignored); returns how many went.
    ///
    /// The id index is rebuilt and every cached listing is kept, renumbered: removing chats
    /// changes neither which of the others match a listing nor their order.
    pub(crate) fn remove(&mut self, ids: &[Uuid]) -> usize {
        let doomed: HashSet<usize> = ids
            .iter()
            .filter_map(|id| self.by_id.get(id))
            .copied()
            .collect();
        if doomed.is_empty() {
            return 0;
        }
        // Old index -> new index, `u32::MAX` for a removed chat.
        let mut renumber = Vec::with_capacity(self.chats.len());
        let mut next = 0u32;
        for i in 0..self.chats.len() {
            if doomed.contains(&i) {
                renumber.push(u32::MAX);
            } else {
                renumber.push(next);
                next += 1;
            }
        }
        let mut i = 0;
        self.chats.retain(|_| {
            let keep = !doomed.contains(&i);
            i += 1;
            keep
        });
        self.by_id.clear();
        self.by_id
            .extend(self.chats.iter().enumerate().map(|(i, c)| (c.id, i)));
        for (_, list) in &mut self.cache {
            let kept: Vec<u32> = list
                .iter()
                .map(|&i| renumber[i as usize])
                .filter(|&i| i != u32::MAX)
                .collect();
            *list = Arc::new(kept);
        }
        doomed.len()
    }

    /// Removes the `count` chats that sort first in the default order (or all of them).
    pub(crate) fn remove_oldest(&mut self, count: usize) -> usize {
        let ids: Vec<Uuid> = self.chats.iter().take(count).map(|c| c.id).collect();
        self.remove(&ids)
    }

    /// Every chat, in default canonical order.
    pub(crate) fn chats(&self) -> &[Chat] {
        &self.chats
    }

    /// The chat at an index of a listing.
    pub(crate) fn chat(&self, index: u32) -> &Chat {
        &self.chats[index as usize]
    }

    /// The indexes of the chats matching `q`, in its canonical order.
    ///
    /// A `since_id` listing is the tail of the cached listing without it, found by binary
    /// search: keyset paging costs O(log n + page) per request, like page numbers.
    pub(crate) fn listing(&mut self, q: &Query) -> Listing {
        let Some(since) = q.since_id else {
            return Listing {
                all: self.cached(q),
                skip: 0,
            };
        };
        let all = self.cached(&Query {
            since_id: None,
            ..q.clone()
        });
        let skip = match self.by_id.get(&since) {
            None => all.len(),
            Some(&x) => {
                let (chats, x) = (&self.chats, &self.chats[x]);
                all.partition_point(|&i| {
                    compare(&chats[i as usize], x, &q.ordering) != Ordering::Greater
                })
            }
        };
        Listing { all, skip }
    }

    /// The listing of `q` but for its `since_id`, from the cache or computed.
    fn cached(&mut self, q: &Query) -> Arc<Vec<u32>> {
        if let Some(pos) = self.cache.iter().position(|(k, _)| k == q) {
            let entry = self.cache.remove(pos);
            let list = entry.1.clone();
            self.cache.insert(0, entry);
            return list;
        }
        let list = Arc::new(self.compute(q));
        self.cache.insert(0, (q.clone(), list.clone()));
        self.cache.truncate(CACHE_ENTRIES);
        list
    }

    /// Every chat matching `q` (its `since_id` aside), in its canonical order.
    fn compute(&self, q: &Query) -> Vec<u32> {
        let chats = &self.chats;
        let mut list: Vec<u32> = (0..chats.len() as u32)
            .filter(|&i| matches(&chats[i as usize], q))
            .collect();
        if q.ordering != DEFAULT_ORDER {
            list.sort_unstable_by(|&a, &b| {
                compare(&chats[a as usize], &chats[b as usize], &q.ordering)
            });
        }
        list
    }

    /// Generates `count` chats that sort before every existing chat in an order whose first key
    /// is `first` (ascending or descending), and adds them.
    pub(crate) fn drift(&mut self, count: usize, first: SortKey) {
        if count == 0 {
            return;
        }
        self.drifts += 1;
        let seed = 0xD81F_7000_0000_0000 ^ self.drifts;
        let times = self
            .chats
            .iter()
            .flat_map(|c| [c.start_time, c.end_time])
            .flatten();
        let (min, max) = times.fold((None, None), |(lo, hi): (Option<DateTime<Utc>>, _), t| {
            (
                Some(lo.map_or(t, |lo| lo.min(t))),
                Some(hi.map_or(t, |hi: DateTime<Utc>| hi.max(t))),
            )
        });
        // The generator spaces chats at most 30 minutes apart; chats last at most an hour.
        let span = TimeDelta::minutes(30) * (count as i32) + TimeDelta::hours(2);
        let now = crate::data::epoch();
        let start = if first.descending {
            max.unwrap_or(now) + TimeDelta::minutes(1)
        } else {
            min.unwrap_or(now) - span
        };
        let mut generator = crate::data::Generator::new(seed, start);
        let mut fresh = Vec::with_capacity(count);
        for _ in 0..count {
            let mut chat = generator.chat();
            if !first.descending && chat.end_time.is_none() {
                // Unended chats sort last ascending; end these so they come first by end time too.
                chat.end_time = chat.start_time.map(|s| s + TimeDelta::minutes(1));
            }
            fresh.push(chat);
        }
        self.push(fresh);
    }

    /// Generates `count` chats whose start times are spread over the existing range of start
    /// times (one in each of `count` equal slots of it, at a seeded offset), and adds them.
    /// With no chat to spread among (none with a start time), they start at the epoch.
    pub(crate) fn insert_within(&mut self, count: usize) {
        if count == 0 {
            return;
        }
        self.inserts += 1;
        let seed = 0x1A5E_7000_0000_0000 ^ (self.inserts << 20);
        let starts = self.chats.iter().filter_map(|c| c.start_time);
        let (min, max) = starts.fold((None, None), |(lo, hi): (Option<DateTime<Utc>>, _), t| {
            (
                Some(lo.map_or(t, |lo| lo.min(t))),
                Some(hi.map_or(t, |hi: DateTime<Utc>| hi.max(t))),
            )
        });
        let min = min.unwrap_or_else(crate::data::epoch);
        let max = max.unwrap_or(min);
        let span_ms = (max - min).num_milliseconds().max(0);
        let slot_ms = span_ms / count as i64;
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut fresh = Vec::with_capacity(count);
        for i in 0..count {
            // Strictly after the slot's start, so that none ties with the earliest chat.
            let offset = if slot_ms > 1 { rng.i64(1..slot_ms) } else { 0 };
            let at = min + TimeDelta::milliseconds(slot_ms * i as i64 + offset);
            fresh.push(chat_starting_at(seed ^ (i as u64 + 1), at));
        }
        self.push(fresh);
    }
}

/// A generated chat that starts exactly at `at`.
///
/// The generator starts each chat a seeded gap after its clock, and the gap depends on the
/// seed alone: a first generation finds the gap, a second one from `at` minus the gap lands
/// on `at`, with every other time of the chat consistent with it.
fn chat_starting_at(seed: u64, at: DateTime<Utc>) -> Chat {
    let probe = crate::data::Generator::new(seed, at).chat();
    let gap = probe.start_time.map_or(TimeDelta::zero(), |s| s - at);
    crate::data::Generator::new(seed, at - gap).chat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(ordering: &[(SortField, bool)], since_id: Option<Uuid>) -> Query {
        let mut q = crate::params::parse_request(&[]).unwrap().query;
        if !ordering.is_empty() {
            q.ordering = ordering
                .iter()
                .map(|&(field, descending)| SortKey { field, descending })
                .collect();
        }
        q.since_id = since_id;
        q
    }

    fn ids(store: &mut Store, q: &Query) -> Vec<Uuid> {
        let list = store.listing(q);
        list.iter().map(|&i| store.chat(i).id).collect()
    }

    #[test]
    fn removal_keeps_the_index_and_the_cached_listings_right() {
        let chats = crate::generate(3, 50);
        let mut store = Store::new(chats.clone());
        let orders: [&[(SortField, bool)]; 3] = [
            &[],
            &[(SortField::EndTime, true)],
            &[(SortField::StartTime, true)],
        ];
        // Fill the cache, filtered listings included.
        for order in orders {
            ids(&mut store, &query(order, None));
        }
        let mut tagged = query(&[], None);
        tagged.tag = Some("Premium".to_owned());
        ids(&mut store, &tagged);

        let gone = [chats[0].id, chats[17].id, chats[49].id, Uuid::from_u128(7)];
        assert_eq!(store.remove(&gone), 3);
        assert_eq!(store.remove(&gone), 0, "already removed");
        let left: Vec<Chat> = chats
            .iter()
            .filter(|c| !gone.contains(&c.id))
            .cloned()
            .collect();
        assert_eq!(store.chats(), left.as_slice());
        let mut fresh = Store::new(left.clone());
        for order in orders {
            let q = query(order, None);
            assert_eq!(ids(&mut store, &q), ids(&mut fresh, &q), "{order:?}");
            // Keyset listings use the rebuilt index.
            let q = query(order, Some(chats[20].id));
            assert_eq!(ids(&mut store, &q), ids(&mut fresh, &q), "{order:?}");
            // A removed cursor is an unknown one: nothing follows it.
            assert!(ids(&mut store, &query(order, Some(chats[17].id))).is_empty());
        }
        assert_eq!(ids(&mut store, &tagged), ids(&mut fresh, &tagged));

        assert_eq!(store.remove_oldest(2), 2);
        assert_eq!(store.chats(), &left[2..]);
        assert_eq!(store.remove_oldest(1000), left.len() - 2);
        assert!(store.chats().is_empty());
        assert!(ids(&mut store, &query(&[], None)).is_empty());
    }

    #[test]
    fn insertions_land_inside_the_range_of_start_times() {
        let chats = crate::generate(4, 40);
        let (first, last) = (chats[0].start_time.unwrap(), chats[39].start_time.unwrap());
        let mut store = Store::new(chats.clone());
        store.insert_within(8);
        assert_eq!(store.chats().len(), 48);
        let new: Vec<&Chat> = store
            .chats()
            .iter()
            .filter(|c| !chats.iter().any(|o| o.id == c.id))
            .collect();
        assert_eq!(new.len(), 8);
        let slot = TimeDelta::milliseconds((last - first).num_milliseconds() / 8);
        for (i, chat) in new.iter().enumerate() {
            let (start, i) = (chat.start_time.unwrap(), i as i32);
            assert!(start > first + slot * i, "{i}: {start}");
            assert!(start < first + slot * (i + 1), "{i}: {start}");
            assert!(chat.end_time.is_none_or(|e| e > start));
        }
        // Seeded: the same on every run, different for each insertion.
        let mut again = Store::new(chats.clone());
        again.insert_within(8);
        assert_eq!(again.chats(), store.chats());
        again.insert_within(8);
        assert_eq!(again.chats().len(), 56);
    }
}

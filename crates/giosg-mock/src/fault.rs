//! Deterministic fault injection.

use std::collections::BTreeMap;
use std::time::Duration;

/// Something that goes wrong with one response of the chats endpoint.
///
/// Faults apply to requests whose path is the chats endpoint's
/// (`/api/v5/orgs/<anything>/chats`), before authentication, so a scripted `429` is served
/// even to a request with a wrong token. Every other request is served normally. Faults that
/// change the data or the page ([`Fault::Drift`], [`Fault::DeleteOldest`],
/// [`Fault::DeleteLast`], [`Fault::DeleteCursor`], [`Fault::Insert`], [`Fault::NoNextPage`],
/// [`Fault::CountOffset`], [`Fault::ShortPage`], [`Fault::IgnoreSinceId`]) act only on a
/// request that gets a page: one with a wrong token, bad parameters or a page past the last
/// is answered with its error and changes nothing (but [`Fault::DeleteCursor`], which deletes
/// before the page is chosen).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status instead of the page, with a Django REST framework body
    /// `{"detail": "..."}` (e.g. `"Request was throttled."` for 429) and, when given, a
    /// `Retry-After` header with this exact value (seconds or an HTTP date, or anything else a
    /// test wants a client to cope with).
    Status {
        /// The HTTP status code.
        status: u16,
        /// The `Retry-After` header's value, if any.
        retry_after: Option<String>,
    },
    /// Wait this long, then serve the request normally.
    Latency(Duration),
    /// Close the connection without sending a single byte of response. Recorded with status 0.
    Drop,
    /// Send the status line and headers with the correct `Content-Length`, then only the first
    /// half of the body, then close the connection.
    Truncate,
    /// Send the status line, headers and the first half of the body, wait this long, then send
    /// the rest. The response is complete and correct, only slow in the middle.
    Stall(Duration),
    /// Send the status line and headers with the correct `Content-Length`, then the body one
    /// byte at a time, this long before each: a response that never stalls for long and still
    /// takes ages (a 100 KiB page at a byte a second is a day).
    Dribble(Duration),
    /// Serve the page normally, then add `new_chats` freshly generated chats that sort before
    /// every existing chat in the request's order (first key ascending: started, and ended,
    /// before the earliest chat; descending: after the latest). Later pages of the same listing
    /// shift forward, so items on a page boundary appear twice to a client that pages by
    /// number. New chats only show up in filtered listings if they happen to match the filters.
    Drift {
        /// How many chats arrive.
        new_chats: usize,
    },
    /// Serve the page normally, but with `next_page_url` on this other origin (e.g.
    /// `"http://127.0.0.2:9"`), keeping path and query. Only when there is a next page.
    ForeignNextPageUrl(String),
    /// Answer 200 with `Content-Length: bytes` and a body of that many bytes of JSON-like
    /// filler, streamed lazily in chunks (never allocated whole); streaming stops when the
    /// client goes away.
    Oversized {
        /// The body's length.
        bytes: u64,
    },
    /// Answer 200 with `Content-Encoding: gzip` (whatever the request accepts) and a chunked
    /// body that inflates to `bytes` bytes of JSON-like filler: a gzip bomb, compressed as it
    /// streams (about 1 KiB on the wire per MiB), never held whole; streaming stops when the
    /// client goes away.
    GzipBomb {
        /// The body's length once inflated.
        bytes: u64,
    },
    /// Answer with this 3xx `status` and a `Location: location` header (any URL, on another
    /// origin say), with a Django REST framework `{"detail": ...}` body, instead of the page.
    Redirect {
        /// Where the redirect points.
        location: String,
        /// The status, e.g. 301, 302, 307 or 308.
        status: u16,
    },
    /// Serve the page normally, then delete the `chats` chats that sort first in the default
    /// order (`start_time`, then `id`), whatever the request's filters: a retention job
    /// running while a client lists. Deleted chats are gone from every later answer and from
    /// [`crate::MockServer::chats`].
    DeleteOldest {
        /// How many chats go (all of them if there are fewer).
        chats: usize,
    },
    /// Serve the page normally, then delete its last chat: the one a keyset client sends as
    /// `since_id` next. A listing after an unknown `since_id` is empty (`count` 0), so the
    /// client's next request gets an empty page. Nothing is deleted if the page is empty.
    DeleteLast,
    /// Delete the chat the request names as `since_id` (if it names one), then serve the
    /// request: the answer is the empty listing that follows an unknown `since_id`.
    DeleteCursor,
    /// Serve the page normally, then add `chats` freshly generated chats whose start times are
    /// spread inside the existing range of start times (one in each of `chats` equal slots
    /// of it), unlike [`Fault::Drift`]'s, which come before every chat. Seeded: the same
    /// chats on every run for the same data and plan, different ones for each insertion.
    Insert {
        /// How many chats arrive.
        chats: usize,
    },
    /// Serve the page with `next_page` and `next_page_url` null even when more pages follow,
    /// `count` and `num_pages` unchanged: an envelope that contradicts itself.
    NoNextPage,
    /// Serve the page with `count` shifted by this many (saturating at 0), everything else
    /// unchanged: a count that disagrees with the pages.
    CountOffset(i64),
    /// Serve only the first half (rounded down) of the page's results, the envelope unchanged
    /// (`count`, `per_page`, `next_page` as for the whole page).
    ShortPage,
    /// Serve the request as if it had no `since_id` (the listing from its start), the
    /// envelope's URLs still carrying the request's query.
    IgnoreSinceId,
    /// Serve the page with its first chat twice in a row, `count` counting both rows: a SQL
    /// join without `DISTINCT` on the server, typical under a tag filter. With `changed`, the
    /// first of the two rows differs (one message more in `message_count`); the second is the
    /// chat as stored.
    Twice {
        /// Whether the two rows differ.
        changed: bool,
    },
}

impl Fault {
    /// A `429 Too Many Requests` with this `Retry-After` value.
    pub fn too_many_requests(retry_after: Option<&str>) -> Self {
        Fault::Status {
            status: 429,
            retry_after: retry_after.map(str::to_owned),
        }
    }

    /// A plain status with no `Retry-After` header.
    pub fn status(status: u16) -> Self {
        Fault::Status {
            status,
            retry_after: None,
        }
    }
}

/// Random faults: each request is hit with `probability`, choosing one of `kinds`.
#[derive(Clone, Debug, PartialEq)]
struct RandomFaults {
    seed: u64,
    probability: f64,
    kinds: Vec<Fault>,
}

/// Which requests of the chats endpoint go wrong, and how. Deterministic: the same plan gives
/// the same faults for the same request numbers on every run.
///
/// Request numbers count the chats-endpoint requests the server received since the plan was
/// installed (at start, or by [`crate::MockServer::set_faults`]), from 0. A scripted fault wins
/// over a random one.
///
/// ```
/// use giosg_mock::{Fault, FaultPlan};
/// use std::time::Duration;
/// let plan = FaultPlan::new()
///     .on_request(0, Fault::too_many_requests(Some("1")))
///     .on_request(2, Fault::Drop)
///     .random(7, 0.1, vec![Fault::Truncate, Fault::status(503)])
///     .latency(Duration::from_millis(20));
/// assert_eq!(plan.fault_for(2), Some(Fault::Drop));
/// assert_eq!(plan.fault_for(5), plan.clone().fault_for(5));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultPlan {
    scripted: BTreeMap<u64, Fault>,
    random: Option<RandomFaults>,
    latency: Option<Duration>,
}

impl FaultPlan {
    /// A plan with no faults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Request number `n` (0-based) gets `fault`. A later call for the same `n` replaces it.
    pub fn on_request(mut self, n: u64, fault: Fault) -> Self {
        self.scripted.insert(n, fault);
        self
    }

    /// Each of these request numbers gets `fault`.
    pub fn on_requests(mut self, ns: impl IntoIterator<Item = u64>, fault: Fault) -> Self {
        for n in ns {
            self.scripted.insert(n, fault.clone());
        }
        self
    }

    /// Every request without a scripted fault gets, with `probability` (0 to 1), one of
    /// `kinds`, chosen by a `fastrand` generator seeded from `seed` and the request number.
    /// An empty `kinds` means no random faults.
    pub fn random(mut self, seed: u64, probability: f64, kinds: Vec<Fault>) -> Self {
        self.random = Some(RandomFaults {
            seed,
            probability,
            kinds,
        });
        self
    }

    /// Delays every request the server receives (any path) by this long before anything else.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = Some(latency);
        self
    }

    /// The plan-wide latency, if any.
    pub fn plan_latency(&self) -> Option<Duration> {
        self.latency
    }

    /// The fault for request number `n`, if any.
    pub fn fault_for(&self, n: u64) -> Option<Fault> {
        if let Some(f) = self.scripted.get(&n) {
            return Some(f.clone());
        }
        let r = self.random.as_ref()?;
        if r.kinds.is_empty() {
            return None;
        }
        let mut rng = fastrand::Rng::with_seed(
            r.seed ^ n.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        if rng.f64() < r.probability {
            Some(r.kinds[rng.usize(..r.kinds.len())].clone())
        } else {
            None
        }
    }
}

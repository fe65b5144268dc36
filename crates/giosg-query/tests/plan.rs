//! The listing planner against a simulated server, with no sockets and no clocks: chats
//! deleted and inserted between requests, answers in any order, envelopes that contradict
//! themselves, a server that ignores the cursor. The chats handed out are always exactly
//! those that existed throughout, each once, plus at most once each chat that came or went
//! meanwhile.

use chrono::{DateTime, TimeDelta, Utc};
use giosg_model::{Chat, ChatFilter, OrderBy, Page, SortField, Uuid};
use giosg_query::{
    query, Anomaly, Checkpoint, Credentials, Delivery, Endpoint, PagingError, PlanOptions,
    PlannedRequest, Planner, Ticket, ValidationError,
};
use proptest::prelude::*;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

const ORG: Uuid = Uuid::from_u128(0x7f9e9580_095b_42c7_838c_c04e667b26f7);

fn endpoint() -> Endpoint {
    Endpoint::new("https://service.giosg.com", Credentials::token("t")).unwrap()
}

fn epoch() -> DateTime<Utc> {
    giosg_model::time::parse("2025-01-01T00:00:00Z").unwrap()
}

fn chat(id: u128, start_ms: Option<i64>) -> Chat {
    let mut chat = Chat::new(Uuid::from_u128(id));
    chat.start_time = start_ms.map(|ms| epoch() + TimeDelta::milliseconds(ms));
    chat
}

/// How a simulated answer misbehaves.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Misbehave {
    None,
    IgnoreSinceId,
    NoNextPage,
    ShortPage,
    CountOffset(i64),
    /// Serve at most this many a page, whatever was asked.
    Cap(usize),
    /// The first chat of the page comes twice in a row (a join on the server); the second
    /// row differs when `changed` (and the count counts both rows).
    Twice {
        changed: bool,
    },
}

/// A server that follows the project's decisions: the canonical order is the ordering (a
/// missing time last ascending, first descending) then `id`; `since_id` gives the chats
/// strictly after that chat, nothing when it is unknown; `start_time` excludes chats without
/// one.
#[derive(Clone, Debug, Default)]
struct Server {
    chats: Vec<Chat>,
}

fn key_cmp(a: &Chat, b: &Chat, descending: bool, field: SortField) -> Ordering {
    let get = |c: &Chat| match field {
        SortField::EndTime => c.end_time,
        _ => c.start_time,
    };
    let ord = match (get(a), get(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
    };
    let ord = if descending { ord.reverse() } else { ord };
    ord.then(a.id.cmp(&b.id))
}

impl Server {
    fn answer(&self, request: &http::Request<Vec<u8>>, misbehave: Misbehave) -> Page<Chat> {
        let filter = query::decode(request.uri().query().unwrap_or("")).unwrap();
        let key = filter
            .ordering
            .as_ref()
            .map_or((false, SortField::StartTime), |o| {
                (o.keys()[0].descending, o.keys()[0].field)
            });
        let mut list: Vec<&Chat> = self
            .chats
            .iter()
            .filter(|c| {
                filter
                    .start_time
                    .is_none_or(|t| c.start_time.is_some_and(|s| s >= t))
            })
            .collect();
        list.sort_by(|a, b| key_cmp(a, b, key.0, key.1));
        if let (Some(since), false) = (filter.since_id, misbehave == Misbehave::IgnoreSinceId) {
            match self.chats.iter().find(|c| c.id == since) {
                None => list.clear(),
                Some(x) => list.retain(|c| key_cmp(c, x, key.0, key.1) == Ordering::Greater),
            }
        }
        let mut size = filter.page_size.unwrap_or(25) as usize;
        if let Misbehave::Cap(cap) = misbehave {
            size = size.min(cap);
        }
        let page_no = filter.page.unwrap_or(1) as usize;
        let count = list.len();
        let num_pages = count.div_ceil(size).max(1);
        let from = ((page_no - 1) * size).min(count);
        let to = (page_no * size).min(count);
        let mut results: Vec<Chat> = list[from..to].iter().map(|c| (*c).clone()).collect();
        if misbehave == Misbehave::ShortPage {
            results.truncate(results.len() / 2);
        }
        let mut extra_rows = 0;
        if let (Misbehave::Twice { changed }, Some(first)) = (misbehave, results.first()) {
            let mut again = first.clone();
            if changed {
                again.message_count = Some(again.message_count.unwrap_or(0) + 1);
            }
            results.insert(1, again);
            extra_rows = 1;
        }
        let mut page = Page::single(results);
        page.count = count as u64 + extra_rows;
        page.num_pages = num_pages as u64;
        page.per_page = size as u64;
        page.current_page = page_no as u64;
        page.next_page = (page_no < num_pages && misbehave != Misbehave::NoNextPage)
            .then_some(page_no as u64 + 1);
        if let Misbehave::CountOffset(n) = misbehave {
            page.count = page.count.saturating_add_signed(n);
        }
        page
    }
}

/// Drives a planner to the end against a server; `between` runs after each answer (to
/// delete or insert chats) and `pick` chooses which pending request is answered next.
struct Run {
    delivered: Vec<Chat>,
    requests: usize,
    result: Result<(), PagingError>,
    planner: Planner,
}

fn drive(
    mut planner: Planner,
    server: &mut Server,
    mut pick: impl FnMut(usize) -> usize,
    mut misbehave: impl FnMut(usize) -> Misbehave,
    mut between: impl FnMut(usize, &mut Server, &[Chat]),
) -> Run {
    let mut pending: Vec<PlannedRequest> = Vec::new();
    let mut delivered = Vec::new();
    let mut requests = 0;
    let result = loop {
        while let Some(page) = planner.poll_page() {
            delivered.extend(page.results);
        }
        if planner.is_finished() {
            break Ok(());
        }
        while let Some(r) = planner.poll_request() {
            pending.push(r);
        }
        assert!(
            !pending.is_empty(),
            "stalled: nothing pending, not finished"
        );
        assert!(requests < 20_000, "no end in sight");
        let r = pending.remove(pick(pending.len()));
        let page = server.answer(&r.request.request, misbehave(requests));
        requests += 1;
        let ticket: Ticket = r.ticket;
        if let Err(e) = planner.accept(ticket, page) {
            break Err(e);
        }
        while let Some(page) = planner.poll_page() {
            delivered.extend(page.results);
        }
        between(requests, server, &delivered);
    };
    Run {
        delivered,
        requests,
        result,
        planner,
    }
}

fn list(filter: &ChatFilter) -> giosg_query::ChatList {
    endpoint().chats(ORG, filter).unwrap()
}

fn ids(chats: &[Chat]) -> Vec<Uuid> {
    chats.iter().map(|c| c.id).collect()
}

fn sorted_default(chats: &[Chat]) -> Vec<Uuid> {
    let mut v: Vec<&Chat> = chats.iter().collect();
    v.sort_by(|a, b| key_cmp(a, b, false, SortField::StartTime));
    v.iter().map(|c| c.id).collect()
}

fn dataset(n: u128, spread_ms: i64) -> Vec<Chat> {
    (0..n)
        .map(|i| chat(i + 1, Some((i as i64 * 7919) % spread_ms)))
        .collect()
}

#[test]
fn a_sequential_listing_is_every_chat_in_order() {
    let mut server = Server {
        chats: dataset(230, 100_000),
    };
    let planner =
        Planner::new(&list(&ChatFilter::new().page_size(20)), PlanOptions::new()).unwrap();
    let run = drive(
        planner,
        &mut server,
        |_| 0,
        |_| Misbehave::None,
        |_, _, _| {},
    );
    run.result.unwrap();
    assert_eq!(ids(&run.delivered), sorted_default(&server.chats));
    // 12 pages, and one more to be sure the last full page was the last.
    assert!(run.requests <= 13, "{} requests", run.requests);
    let report = run.planner.completeness();
    assert_eq!(report.expected, Some(230));
    assert_eq!(report.shortfall(), 0);
    assert!(report.anomalies.is_empty(), "{:?}", report.anomalies);
}

#[test]
fn windows_open_ahead_in_order_and_each_chat_comes_once() {
    let mut server = Server {
        chats: dataset(1000, 1_000_000),
    };
    let options = PlanOptions::new().concurrency(4);
    let planner = Planner::new(&list(&ChatFilter::new().page_size(25)), options).unwrap();
    // Answer the most recent request first: windows ahead finish before the front.
    let mut max_pending = 0;
    let run = drive(
        planner,
        &mut server,
        |n| {
            max_pending = max_pending.max(n);
            n - 1
        },
        |_| Misbehave::None,
        |_, _, _| {},
    );
    run.result.unwrap();
    assert_eq!(ids(&run.delivered), sorted_default(&server.chats));
    assert!(max_pending > 1, "requests went out concurrently");
    // 40 pages' worth, plus at most one page past each window's end.
    assert!(run.requests < 40 + 40, "{} requests", run.requests);
}

#[test]
fn ordered_delivery_holds_at_most_pages_ahead_per_window() {
    let server = Server {
        chats: dataset(2000, 2_000_000),
    };
    let options = PlanOptions::new().concurrency(3).pages_ahead(2);
    let mut planner = Planner::new(&list(&ChatFilter::new().page_size(10)), options).unwrap();
    // Never hand anything out: the planner must stop asking once every window is full.
    let mut answered = 0;
    let mut pending: Vec<PlannedRequest> = Vec::new();
    loop {
        while let Some(r) = planner.poll_request() {
            pending.push(r);
        }
        let Some(r) = pending.pop() else { break };
        let page = server.answer(&r.request.request, Misbehave::None);
        planner.accept(r.ticket, page).unwrap();
        answered += 1;
        assert!(
            answered < 100,
            "the planner kept fetching without handing out"
        );
    }
    // Three windows of two pages each, plus the pages that ran past a window's end.
    assert!(
        answered <= 3 * 2 + 3,
        "{answered} pages fetched while nothing was handed out"
    );
}

#[test]
fn a_limit_asks_only_for_pages_it_needs() {
    let mut server = Server {
        chats: dataset(200, 100_000),
    };
    let options = PlanOptions::new().concurrency(8).limit(Some(30));
    let planner = Planner::new(&list(&ChatFilter::new().page_size(25)), options).unwrap();
    let run = drive(
        planner,
        &mut server,
        |_| 0,
        |_| Misbehave::None,
        |_, _, _| {},
    );
    run.result.unwrap();
    assert_eq!(run.delivered.len(), 30);
    assert_eq!(ids(&run.delivered), sorted_default(&server.chats)[..30]);
    assert_eq!(run.requests, 2);
    assert_eq!(run.planner.completeness().shortfall(), 0);
}

#[test]
fn a_vanished_cursor_is_re_anchored_on_its_start_time() {
    let mut server = Server {
        chats: dataset(100, 10_000),
    };
    let all = sorted_default(&server.chats);
    let planner =
        Planner::new(&list(&ChatFilter::new().page_size(10)), PlanOptions::new()).unwrap();
    // After the first page, delete the chat it ended with: the next since_id is unknown.
    let run = drive(
        planner,
        &mut server,
        |_| 0,
        |_| Misbehave::None,
        |n, server, delivered| {
            if n == 1 {
                let last = delivered.last().unwrap().id;
                server.chats.retain(|c| c.id != last);
            }
        },
    );
    run.result.unwrap();
    assert_eq!(
        ids(&run.delivered),
        all,
        "nothing lost after the cursor vanished"
    );
    let report = run.planner.completeness();
    assert!(report
        .anomalies
        .iter()
        .any(|a| matches!(a, Anomaly::CursorLost { .. })));
}

#[test]
fn a_vanished_cursor_in_an_order_that_cannot_re_anchor_is_an_error() {
    let mut chats = dataset(50, 10_000);
    for (i, c) in chats.iter_mut().enumerate() {
        c.end_time = Some(epoch() + TimeDelta::seconds(i as i64));
    }
    let mut server = Server { chats };
    let filter = ChatFilter::new()
        .page_size(10)
        .ordering(OrderBy::asc(SortField::EndTime));
    let planner = Planner::new(&list(&filter), PlanOptions::new()).unwrap();
    let run = drive(
        planner,
        &mut server,
        |_| 0,
        |_| Misbehave::None,
        |n, server, delivered| {
            if n == 1 {
                let last = delivered.last().unwrap().id;
                server.chats.retain(|c| c.id != last);
            }
        },
    );
    assert!(
        matches!(run.result, Err(PagingError::CursorVanished { .. })),
        "{:?}",
        run.result
    );
}

#[test]
fn a_missing_next_page_does_not_end_the_listing() {
    let mut server = Server {
        chats: dataset(120, 100_000),
    };
    let planner =
        Planner::new(&list(&ChatFilter::new().page_size(20)), PlanOptions::new()).unwrap();
    let run = drive(
        planner,
        &mut server,
        |_| 0,
        |n| {
            if n == 1 {
                Misbehave::NoNextPage
            } else {
                Misbehave::None
            }
        },
        |_, _, _| {},
    );
    run.result.unwrap();
    assert_eq!(run.delivered.len(), 120);
    assert!(run
        .planner
        .completeness()
        .anomalies
        .iter()
        .any(|a| matches!(a, Anomaly::EnvelopeConflict { .. })));
}

#[test]
fn a_count_that_promises_more_than_there_is_is_no_lost_cursor() {
    let mut server = Server {
        chats: dataset(230, 100_000),
    };
    let planner =
        Planner::new(&list(&ChatFilter::new().page_size(20)), PlanOptions::new()).unwrap();
    // The last page's count says 3 more follow: there are none, and its last chat exists.
    let run = drive(
        planner,
        &mut server,
        |_| 0,
        |n| {
            if n == 11 {
                Misbehave::CountOffset(3)
            } else {
                Misbehave::None
            }
        },
        |_, _, _| {},
    );
    run.result.unwrap();
    assert_eq!(ids(&run.delivered), sorted_default(&server.chats));
    let anomalies = run.planner.completeness().anomalies;
    assert!(
        anomalies
            .iter()
            .all(|a| matches!(a, Anomaly::EnvelopeConflict { .. })),
        "{anomalies:?}"
    );
    assert!(!anomalies.is_empty());
}

#[test]
fn since_id_with_a_descending_ordering_is_refused() {
    let filter = ChatFilter::new()
        .since_id(Uuid::from_u128(1))
        .ordering(OrderBy::desc(SortField::StartTime));
    assert_eq!(
        Planner::new(&list(&filter), PlanOptions::new()).unwrap_err(),
        ValidationError::DescendingKeyset("start_time")
    );
}

#[test]
fn chats_without_a_start_time_come_last_once_windows_split() {
    let mut chats = dataset(300, 300_000);
    chats.extend((0..37).map(|i| chat(10_000 + i, None)));
    let mut server = Server { chats };
    for delivery in [Delivery::Ordered, Delivery::Unordered] {
        let options = PlanOptions::new().concurrency(4).delivery(delivery);
        let planner = Planner::new(&list(&ChatFilter::new().page_size(10)), options).unwrap();
        let run = drive(
            planner,
            &mut server,
            |n| n / 2,
            |_| Misbehave::None,
            |_, _, _| {},
        );
        run.result.unwrap();
        let mut got = ids(&run.delivered);
        if delivery == Delivery::Unordered {
            got.sort_by_key(|id| sorted_default(&server.chats).iter().position(|x| x == id));
        }
        assert_eq!(got, sorted_default(&server.chats), "{delivery:?}");
    }
}

#[test]
fn a_checkpoint_resumes_exactly_where_the_chats_handed_out_end() {
    let mut server = Server {
        chats: dataset(500, 500_000),
    };
    let filter = ChatFilter::new().page_size(10);
    let options = PlanOptions::new()
        .concurrency(4)
        .delivery(Delivery::Unordered);
    let mut planner = Planner::new(&list(&filter), options.clone()).unwrap();
    let mut delivered: Vec<Chat> = Vec::new();
    let mut pending: Vec<PlannedRequest> = Vec::new();
    // Stop half-way with requests in flight, then resume from the checkpoint.
    for step in 0..30 {
        while let Some(page) = planner.poll_page() {
            delivered.extend(page.results);
        }
        while let Some(r) = planner.poll_request() {
            pending.push(r);
        }
        let r = pending.remove(step % pending.len());
        let page = server.answer(&r.request.request, Misbehave::None);
        planner.accept(r.ticket, page).unwrap();
    }
    let checkpoint: Checkpoint = planner.checkpoint();
    let json = serde_json::to_string(&checkpoint).unwrap();
    let checkpoint: Checkpoint = serde_json::from_str(&json).unwrap();
    let resumed = Planner::resume(&list(&filter), options.clone(), &checkpoint).unwrap();
    let run = drive(
        resumed,
        &mut server,
        |n| n - 1,
        |_| Misbehave::None,
        |_, _, _| {},
    );
    run.result.unwrap();
    delivered.extend(run.delivered);
    let mut got = ids(&delivered);
    got.sort();
    let mut want = ids(&server.chats);
    want.sort();
    assert_eq!(got, want);

    // A finished listing's checkpoint asks only for what is new: one request per open window.
    let cp = run.planner.checkpoint();
    server.chats.push(chat(9_999_999, Some(900_000)));
    let again = Planner::resume(&list(&filter), options, &cp).unwrap();
    let run = drive(again, &mut server, |_| 0, |_| Misbehave::None, |_, _, _| {});
    run.result.unwrap();
    assert_eq!(ids(&run.delivered), [Uuid::from_u128(9_999_999)]);
    assert!(run.requests <= 3, "{} requests", run.requests);
}

#[test]
fn a_server_that_caps_the_page_size_is_followed_to_the_end() {
    let mut server = Server {
        chats: dataset(130, 100_000),
    };
    let planner =
        Planner::new(&list(&ChatFilter::new().page_size(100)), PlanOptions::new()).unwrap();
    // The server serves at most 50 a page, whatever was asked.
    let run = drive(
        planner,
        &mut server,
        |_| 0,
        |_| Misbehave::Cap(50),
        |_, _, _| {},
    );
    run.result.unwrap();
    assert_eq!(ids(&run.delivered), sorted_default(&server.chats));
    assert_eq!(run.requests, 3);
}

proptest! {
    /// Any sequence of answers, however wrong: no chat twice, no panic, and an end.
    #[test]
    fn arbitrary_answers_never_yield_a_chat_twice(
        answers in prop::collection::vec(
            (0u64..60, prop::option::of(0u64..5), prop::collection::vec((0u128..40, prop::option::of(0i64..5)), 0..12)),
            1..40,
        ),
        concurrency in 1usize..4,
    ) {
        let options = PlanOptions::new().concurrency(concurrency).delivery(Delivery::Unordered);
        let mut planner = Planner::new(&list(&ChatFilter::new().page_size(10)), options).unwrap();
        let mut seen = HashSet::new();
        let mut answers = answers.into_iter();
        let mut pending: Vec<PlannedRequest> = Vec::new();
        loop {
            while let Some(page) = planner.poll_page() {
                for c in page.results {
                    prop_assert!(seen.insert(c.id), "chat {} handed out twice", c.id);
                }
            }
            if planner.is_finished() {
                break;
            }
            while let Some(r) = planner.poll_request() {
                pending.push(r);
            }
            let (Some(r), Some((count, next, results))) = (pending.pop(), answers.next()) else {
                break;
            };
            let mut page = Page::single(results.into_iter().map(|(id, t)| chat(id, t.map(|t| t * 60_000))).collect());
            page.count = count;
            page.next_page = next;
            if planner.accept(r.ticket, page).is_err() {
                prop_assert!(planner.poll_request().is_none());
                break;
            }
        }
    }
}

/// A random scenario: a dataset with ties and chats without a start time, deletions and
/// insertions between answers, answers in random order, and some misbehaving answers.
#[derive(Debug, Clone)]
struct Scenario {
    starts: Vec<Option<i64>>,
    page_size: u32,
    concurrency: usize,
    ordered: bool,
    start_filter: Option<i64>,
    events: Vec<(u8, u16)>,
    picks: Vec<u16>,
    misbehave: Vec<u8>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec(prop::option::weighted(0.95, 0i64..400), 0..250),
        1u32..=30,
        1usize..=6,
        any::<bool>(),
        prop::option::weighted(0.2, 0i64..200),
        prop::collection::vec((any::<u8>(), any::<u16>()), 0..60),
        prop::collection::vec(any::<u16>(), 0..200),
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(
            |(starts, page_size, concurrency, ordered, start_filter, events, picks, misbehave)| {
                Scenario {
                    starts,
                    page_size,
                    concurrency,
                    ordered,
                    start_filter,
                    events,
                    picks,
                    misbehave,
                }
            },
        )
}

/// Runs a scenario where one answer in `rate` misbehaves; with `typed_errors`, the listing may
/// also end with an error that says the server's answers could not be made to agree.
fn check(s: Scenario, rate: u8, typed_errors: bool) -> Result<(), TestCaseError> {
    {
        let chats: Vec<Chat> = s
            .starts
            .iter()
            .enumerate()
            .map(|(i, t)| chat(i as u128 + 1, t.map(|t| t * 1000)))
            .collect();
        let mut server = Server {
            chats: chats.clone(),
        };
        let mut filter = ChatFilter::new().page_size(s.page_size);
        filter.start_time = s.start_filter.map(|t| epoch() + TimeDelta::seconds(t));
        let matches = |c: &Chat| {
            filter
                .start_time
                .is_none_or(|t| c.start_time.is_some_and(|s| s >= t))
        };
        let delivery = if s.ordered {
            Delivery::Ordered
        } else {
            Delivery::Unordered
        };
        let options = PlanOptions::new()
            .concurrency(s.concurrency)
            .delivery(delivery);
        let planner = Planner::new(&list(&filter), options).unwrap();
        let mut ever: HashMap<Uuid, Chat> = chats.iter().map(|c| (c.id, c.clone())).collect();
        let mut removed: HashSet<Uuid> = HashSet::new();
        let mut next_id = 1_000_000u128;
        let events = s.events.clone();
        let picks = s.picks.clone();
        let mut pick_i = 0;
        let misbehaviour = s.misbehave.clone();
        let misbehaving = misbehaviour.clone();
        let run = drive(
            planner,
            &mut server,
            |n| {
                pick_i += 1;
                picks.get(pick_i).map_or(0, |&p| p as usize % n)
            },
            |i| match misbehaving.get(i).map(|m| m % rate) {
                Some(0) => Misbehave::IgnoreSinceId,
                Some(1) => Misbehave::NoNextPage,
                Some(2) => Misbehave::ShortPage,
                Some(3) => Misbehave::CountOffset(5),
                Some(4) => Misbehave::CountOffset(-5),
                _ => Misbehave::None,
            },
            |n, server, delivered| {
                let Some(&(kind, arg)) = events.get(n) else {
                    return;
                };
                match kind % 4 {
                    // Delete a random chat, or the last one handed out (a likely cursor).
                    0 if !server.chats.is_empty() => {
                        let i = arg as usize % server.chats.len();
                        removed.insert(server.chats.remove(i).id);
                    }
                    1 => {
                        if let Some(last) = delivered.last() {
                            server.chats.retain(|c| c.id != last.id);
                            removed.insert(last.id);
                        }
                    }
                    // Insert a chat anywhere in time.
                    2 => {
                        next_id += 1;
                        let fresh = chat(next_id, Some(i64::from(arg % 400) * 1000));
                        ever.insert(fresh.id, fresh.clone());
                        server.chats.push(fresh);
                    }
                    _ => {}
                }
            },
        );
        match &run.result {
            Ok(()) => {}
            Err(PagingError::EmptyButMore { .. } | PagingError::CursorStuck { .. })
                if typed_errors =>
            {
                return Ok(());
            }
            Err(e) => prop_assert!(false, "{e:?}"),
        }
        let got = ids(&run.delivered);
        let unique: HashSet<Uuid> = got.iter().copied().collect();
        prop_assert_eq!(unique.len(), got.len(), "a chat came twice");
        for c in chats
            .iter()
            .filter(|c| matches(c) && !removed.contains(&c.id))
        {
            prop_assert!(
                unique.contains(&c.id),
                "chat {} that existed throughout is missing",
                c.id
            );
        }
        prop_assert!(
            unique.iter().all(|id| ever.contains_key(id)),
            "a chat that never existed"
        );
        if s.ordered {
            let in_order = run
                .delivered
                .windows(2)
                .all(|w| key_cmp(&w[0], &w[1], false, SortField::StartTime) == Ordering::Less);
            prop_assert!(in_order, "ordered delivery is in the listing's order");
        }
        let report = run.planner.completeness();
        prop_assert!(report.finished);
        // The first answer's count is what the listing expects: only deletions, or a count
        // that lied, leave it short.
        let first_count_lied = matches!(misbehaviour.first().map(|m| m % rate), Some(3 | 4));
        if removed.is_empty() && !first_count_lied {
            prop_assert_eq!(report.shortfall(), 0);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn every_chat_that_existed_throughout_comes_exactly_once(s in scenario()) {
        check(s, 32, false)?;
    }

    #[test]
    fn under_heavy_faults_a_listing_is_complete_or_a_typed_error(s in scenario()) {
        check(s, 6, true)?;
    }
}

#[test]
fn orders_that_cannot_be_windowed_page_one_request_at_a_time() {
    let mut chats = dataset(300, 100_000);
    for (i, c) in chats.iter_mut().enumerate() {
        c.end_time = Some(epoch() + TimeDelta::seconds(i as i64));
    }
    let mut server = Server { chats };
    for ordering in [
        OrderBy::asc(SortField::EndTime),
        OrderBy::desc(SortField::StartTime),
    ] {
        let filter = ChatFilter::new().page_size(10).ordering(ordering);
        let options = PlanOptions::new().concurrency(8);
        let planner = Planner::new(&list(&filter), options).unwrap();
        let mut most = 0;
        let run = drive(
            planner,
            &mut server,
            |n| {
                most = most.max(n);
                0
            },
            |_| Misbehave::None,
            |_, _, _| {},
        );
        run.result.unwrap();
        assert_eq!(run.delivered.len(), 300);
        assert_eq!(most, 1, "never more than one request in flight");
    }
}

#[test]
fn a_chat_twice_in_a_row_is_handed_out_once_as_its_later_row() {
    for changed in [false, true] {
        let mut server = Server {
            chats: dataset(50, 50_000),
        };
        let filter = ChatFilter::new().page_size(10);
        let planner = Planner::new(&list(&filter), PlanOptions::new()).unwrap();
        let run = drive(
            planner,
            &mut server,
            |_| 0,
            |n| {
                if n == 0 {
                    Misbehave::Twice { changed }
                } else {
                    Misbehave::None
                }
            },
            |_, _, _| {},
        );
        run.result.unwrap();
        assert_eq!(ids(&run.delivered), sorted_default(&server.chats));
        let first = &run.delivered[0];
        let want = if changed { Some(1) } else { None };
        assert_eq!(first.message_count, want, "the later row is kept");
        let report = run.planner.completeness();
        assert_eq!(
            report.anomalies,
            [Anomaly::Repeated {
                id: first.id,
                changed
            }]
        );
        assert_eq!(report.duplicates, 1);
        assert_eq!(report.shortfall(), 0, "the count counted both rows");
    }
}

#[test]
fn a_checkpoint_resumes_only_its_own_listing_and_version() {
    let filter = ChatFilter::new().has_sales(true);
    let planner = Planner::new(&list(&filter), PlanOptions::new()).unwrap();
    let checkpoint = planner.checkpoint();
    assert!(Planner::resume(&list(&filter), PlanOptions::new(), &checkpoint).is_ok());
    for other in [
        ChatFilter::new(),
        ChatFilter::new().has_sales(false),
        ChatFilter::new().has_sales(true).tag("x"),
    ] {
        let err = Planner::resume(&list(&other), PlanOptions::new(), &checkpoint).unwrap_err();
        assert!(
            matches!(err, ValidationError::OtherListing { .. }),
            "{other:?}: {err}"
        );
    }
    // A version 1 checkpoint (no version, no listing) is refused until upgraded for its
    // listing; a newer version is refused.
    let v1: Checkpoint =
        serde_json::from_str(r#"{"windows":[{"lo":null,"hi":null,"cursor":null}]}"#).unwrap();
    let err = Planner::resume(&list(&filter), PlanOptions::new(), &v1).unwrap_err();
    assert!(
        matches!(err, ValidationError::CheckpointVersion { found: 0, .. }),
        "{err}"
    );
    let identity = giosg_query::ListingIdentity::of(&list(&filter));
    let upgraded = v1.upgrade(&identity).unwrap();
    assert!(Planner::resume(&list(&filter), PlanOptions::new(), &upgraded).is_ok());
    let mut json = serde_json::to_value(&checkpoint).unwrap();
    json["version"] = 99.into();
    let v99: Checkpoint = serde_json::from_value(json).unwrap();
    let err = Planner::resume(&list(&filter), PlanOptions::new(), &v99).unwrap_err();
    assert!(
        matches!(err, ValidationError::CheckpointVersion { found: 99, .. }),
        "{err}"
    );
}

/// Chats to read again, scattered over a long history, cost about one request each (merged
/// where they are close), and the listing from `from` on and the chats without a start time
/// come as well: every chat of those, each once.
#[test]
fn revisiting_reads_scattered_chats_in_about_one_request_each() {
    let mut chats = dataset(5_000, 50_000_000);
    chats.push(chat(900_001, None));
    chats.push(chat(900_002, None));
    let mut server = Server { chats };
    let mut by_start: Vec<DateTime<Utc>> =
        server.chats.iter().filter_map(|c| c.start_time).collect();
    by_start.sort();
    let from = epoch() + TimeDelta::milliseconds(45_000_000);
    // 40 chats to revisit, every 113th, and two close together (merged).
    let mut again: Vec<Chat> = server
        .chats
        .iter()
        .filter(|c| c.start_time.is_some_and(|t| t < from))
        .step_by(113)
        .take(40)
        .cloned()
        .collect();
    again.sort_by_key(|c| c.start_time);
    let around: Vec<DateTime<Utc>> = again.iter().filter_map(|c| c.start_time).collect();
    let chats_in = |lo: DateTime<Utc>, hi: DateTime<Utc>| {
        (by_start.partition_point(|t| *t < hi) - by_start.partition_point(|t| *t < lo)) as u64
    };
    let filter = ChatFilter::new();
    let identity = giosg_query::ListingIdentity::of(&list(&filter));
    let plan = Checkpoint::revisiting(identity, Some(from), &around, 100, chats_in);
    let windows = plan.revisit_windows();
    assert!((20..=40).contains(&windows), "{windows} narrow windows");
    let options = PlanOptions::new()
        .concurrency(4)
        .delivery(Delivery::Unordered);
    let planner = Planner::resume(&list(&filter), options, &plan).unwrap();
    let run = drive(
        planner,
        &mut server,
        |n| n - 1,
        |_| Misbehave::None,
        |_, _, _| {},
    );
    run.result.unwrap();
    let got: HashSet<Uuid> = ids(&run.delivered).into_iter().collect();
    assert_eq!(got.len(), run.delivered.len(), "each chat once");
    for c in &again {
        assert!(got.contains(&c.id), "{} revisited", c.id);
    }
    for c in &server.chats {
        if c.start_time.is_none_or(|t| t >= from) {
            assert!(got.contains(&c.id), "{} listed", c.id);
        }
    }
    let report = run.planner.completeness();
    assert_eq!(
        report.revisit_requests, windows as u64,
        "one request per window"
    );
    assert!(
        report.revisited < 3 * again.len() as u64,
        "{} chats read to revisit {}",
        report.revisited,
        again.len()
    );
    let rest = server
        .chats
        .iter()
        .filter(|c| c.start_time.is_none_or(|t| t >= from))
        .count() as u64;
    assert!(
        report.requests <= report.revisit_requests + rest.div_ceil(100) + 12,
        "{} requests",
        report.requests
    );
}

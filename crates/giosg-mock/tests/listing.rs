//! Every query parameter against hand-computed expectations on a small hand-built data set.

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::{get, ids, page};
use giosg_mock::MockServer;
use giosg_model::{Chat, ShoppingCart, Tag, Uuid};

const R1: Uuid = Uuid::from_u128(0x1111);
const R2: Uuid = Uuid::from_u128(0x2222);

// Ids chosen so that ties on a time are broken by id, not by insertion order.
const A: u128 = 0xA0;
const B: u128 = 0x10;
const C: u128 = 0xC0;
const D: u128 = 0x30;
const E: u128 = 0x20;
const F: u128 = 0xF0;
const G: u128 = 0x40;
const H: u128 = 0x50;

fn t0() -> DateTime<Utc> {
    giosg_model::time::parse("2025-03-01T10:00:00Z").unwrap()
}

fn at(minutes: i64) -> Option<DateTime<Utc>> {
    Some(t0() + TimeDelta::minutes(minutes))
}

fn cart(locked: bool) -> ShoppingCart {
    let mut cart = ShoppingCart::new();
    cart.locked_at = if locked { at(1) } else { None };
    cart
}

#[allow(clippy::too_many_arguments)]
fn chat(
    id: u128,
    start: Option<i64>,
    end: Option<i64>,
    real: Option<bool>,
    room: Option<Uuid>,
    tags: &[&str],
    messages: Option<u64>,
    carts: Vec<ShoppingCart>,
) -> Chat {
    let mut c = Chat::new(Uuid::from_u128(id));
    c.start_time = start.and_then(at);
    c.end_time = end.and_then(at);
    c.is_real_conversation = real;
    c.room_id = room;
    c.tags = tags.iter().map(|t| Tag::new(*t)).collect();
    c.message_count = messages;
    c.shopping_carts = carts;
    c
}

/// Default order: B A C E D F H G.
fn data() -> Vec<Chat> {
    vec![
        chat(
            A,
            Some(0),
            Some(10),
            Some(true),
            Some(R1),
            &["Premium"],
            Some(5),
            vec![cart(true)],
        ),
        chat(
            B,
            Some(0),
            None,
            Some(false),
            Some(R2),
            &[],
            Some(0),
            vec![],
        ),
        chat(
            C,
            Some(5),
            Some(6),
            Some(true),
            Some(R1),
            &["Support", "x&page_size=1000"],
            Some(2),
            vec![cart(false)],
        ),
        chat(
            D,
            Some(10),
            Some(60),
            Some(false),
            Some(R2),
            &["premium"],
            Some(1),
            vec![cart(false), cart(true)],
        ),
        chat(
            E,
            Some(10),
            Some(11),
            Some(true),
            None,
            &["Premium"],
            Some(10),
            vec![],
        ),
        chat(F, Some(20), Some(21), None, Some(R1), &[], None, vec![]),
        chat(G, None, None, None, None, &["Premium"], Some(3), vec![]),
        chat(
            H,
            Some(30),
            Some(40),
            Some(true),
            Some(R2),
            &["päivä+1"],
            Some(7),
            vec![],
        ),
    ]
}

fn server() -> MockServer {
    MockServer::builder().chats(data()).start().unwrap()
}

fn listed(server: &MockServer, params: &[(&str, &str)]) -> Vec<u128> {
    let mut all = vec![("page_size", "100")];
    all.extend_from_slice(params);
    let p = page(server, &all);
    assert_eq!(p.count as usize, p.results.len());
    ids(&p)
}

#[test]
fn default_order_is_start_time_then_id() {
    let s = server();
    assert_eq!(listed(&s, &[]), [B, A, C, E, D, F, H, G]);
    assert_eq!(
        listed(&s, &[("ordering", "start_time")]),
        [B, A, C, E, D, F, H, G]
    );
    let in_order: Vec<u128> = s.chats().iter().map(|c| c.id.as_u128()).collect();
    assert_eq!(in_order, [B, A, C, E, D, F, H, G]);
}

#[test]
fn orderings_with_minus_and_several_keys() {
    let s = server();
    // Missing times: last ascending, first descending; ties always by id ascending.
    assert_eq!(
        listed(&s, &[("ordering", "-start_time")]),
        [G, H, F, E, D, C, B, A]
    );
    assert_eq!(
        listed(&s, &[("ordering", "end_time")]),
        [C, A, E, F, H, D, B, G]
    );
    assert_eq!(
        listed(&s, &[("ordering", "-end_time")]),
        [B, G, D, H, F, E, A, C]
    );
    assert_eq!(
        listed(&s, &[("ordering", "end_time,-start_time")]),
        [C, A, E, F, H, D, G, B]
    );
    assert_eq!(
        listed(&s, &[("ordering", "-start_time,end_time")]),
        [G, H, F, E, D, C, A, B]
    );
}

#[test]
fn since_id_is_a_cursor_in_the_listing_order() {
    let s = server();
    let id = |n: u128| Uuid::from_u128(n).to_string();
    assert_eq!(listed(&s, &[("since_id", &id(C))]), [E, D, F, H, G]);
    assert_eq!(
        listed(&s, &[("since_id", &id(E)), ("ordering", "-start_time")]),
        [D, C, B, A]
    );
    assert_eq!(listed(&s, &[("since_id", &id(G))]), Vec::<u128>::new());
    // The cursor chat need not match the filters: D is not tagged Premium. E starts with D
    // but has a smaller id, so it comes before D.
    assert_eq!(listed(&s, &[("since_id", &id(D)), ("tag", "Premium")]), [G]);
    assert_eq!(
        listed(
            &s,
            &[("since_id", &id(B)), ("is_real_conversation", "true")]
        ),
        [A, C, E, H]
    );
    // An unknown chat: nothing.
    let p = page(&s, &[("since_id", &Uuid::from_u128(0xDEAD).to_string())]);
    assert_eq!((p.count, p.num_pages, p.results.len()), (0, 1, 0));
}

#[test]
fn start_time_inclusive_end_time_exclusive() {
    let s = server();
    assert_eq!(
        listed(&s, &[("start_time", "2025-03-01T10:10:00Z")]),
        [E, D, F, H]
    );
    // Same moment with an offset (sent percent-encoded) and without a zone.
    assert_eq!(
        listed(&s, &[("start_time", "2025-03-01T12:10:00+02:00")]),
        [E, D, F, H]
    );
    assert_eq!(
        listed(&s, &[("start_time", "2025-03-01T10:10:00")]),
        [E, D, F, H]
    );
    assert_eq!(
        listed(&s, &[("start_time", "2025-03-01T10:10:00.001Z")]),
        [F, H]
    );
    // E ends exactly at 10:11: excluded. Unended chats are never listed by end_time.
    assert_eq!(
        listed(&s, &[("end_time", "2025-03-01T10:11:00.000Z")]),
        [A, C]
    );
    assert_eq!(
        listed(&s, &[("end_time", "2025-03-01T10:11:00.001Z")]),
        [A, C, E]
    );
    assert_eq!(
        listed(&s, &[("end_time", "2030-01-01T00:00:00Z")]),
        [A, C, E, D, F, H]
    );
    assert_eq!(
        listed(
            &s,
            &[
                ("start_time", "2025-03-01T10:05:00Z"),
                ("end_time", "2025-03-01T10:21:00Z")
            ]
        ),
        [C, E]
    );
}

#[test]
fn boolean_filters() {
    let s = server();
    assert_eq!(listed(&s, &[("has_sales", "true")]), [A, D]);
    assert_eq!(listed(&s, &[("has_sales", "false")]), [B, C, E, F, H, G]);
    assert_eq!(
        listed(&s, &[("is_real_conversation", "true")]),
        [A, C, E, H]
    );
    assert_eq!(listed(&s, &[("is_real_conversation", "false")]), [B, D]);
    assert_eq!(listed(&s, &[("only_ended", "true")]), [A, C, E, D, F, H]);
    assert_eq!(
        listed(&s, &[("only_ended", "false")]),
        [B, A, C, E, D, F, H, G]
    );
}

#[test]
fn room_tag_and_message_count() {
    let s = server();
    assert_eq!(listed(&s, &[("room_id", &R1.to_string())]), [A, C, F]);
    assert_eq!(
        listed(&s, &[("room_id", &Uuid::from_u128(9).to_string())]),
        Vec::<u128>::new()
    );
    // Exact, case-sensitive match on a tag's name.
    assert_eq!(listed(&s, &[("tag", "Premium")]), [A, E, G]);
    assert_eq!(listed(&s, &[("tag", "premium")]), [D]);
    assert_eq!(listed(&s, &[("tag", "Prem")]), Vec::<u128>::new());
    assert_eq!(listed(&s, &[("tag", "päivä+1")]), [H]);
    assert_eq!(listed(&s, &[("min_message_count", "5")]), [A, E, H]);
    assert_eq!(
        listed(&s, &[("min_message_count", "0")]),
        [B, A, C, E, D, H, G]
    );
}

#[test]
fn an_encoded_tag_stays_one_value() {
    let s = server();
    // common::query percent-encodes: `x%26page_size%3D1000`.
    let p = page(&s, &[("tag", "x&page_size=1000")]);
    assert_eq!(ids(&p), [C]);
    assert_eq!(p.per_page, 25);
}

#[test]
fn filters_combine() {
    let s = server();
    assert_eq!(
        listed(
            &s,
            &[
                ("tag", "Premium"),
                ("only_ended", "true"),
                ("ordering", "-start_time")
            ]
        ),
        [E, A]
    );
    let r1 = R1.to_string();
    let q = [
        ("has_sales", "false"),
        ("room_id", r1.as_str()),
        ("is_real_conversation", "true"),
    ];
    assert_eq!(listed(&s, &q), [C]);
    let mut more = q.to_vec();
    more.push(("min_message_count", "3"));
    assert_eq!(listed(&s, &more), Vec::<u128>::new());
    assert_eq!(
        listed(
            &s,
            &[
                ("ordering", "end_time"),
                ("since_id", &Uuid::from_u128(A).to_string()),
                ("only_ended", "true"),
                ("is_real_conversation", "true"),
            ]
        ),
        [E, H]
    );
}

#[test]
fn envelope_and_absolute_page_urls() {
    let s = server();
    let base = s.chats_url();
    let p = page(
        &s,
        &[
            ("page_size", "3"),
            ("page", "2"),
            ("ordering", "start_time"),
        ],
    );
    assert_eq!(ids(&p), [E, D, F]);
    assert_eq!(
        (p.count, p.num_pages, p.per_page, p.current_page),
        (8, 3, 3, 2)
    );
    assert_eq!((p.next_page, p.previous_page), (Some(3), Some(1)));
    assert_eq!(
        p.next_page_url.as_deref(),
        Some(format!("{base}?page_size=3&page=3&ordering=start_time").as_str())
    );
    // Like Django REST framework, the link to page 1 leaves `page` out.
    assert_eq!(
        p.previous_page_url.as_deref(),
        Some(format!("{base}?page_size=3&ordering=start_time").as_str())
    );

    let first = page(&s, &[("page_size", "3"), ("tag", "x&y")]);
    assert_eq!(
        (first.count, first.num_pages, first.next_page),
        (0, 1, None)
    );

    let p1 = page(&s, &[("page_size", "3")]);
    assert_eq!(ids(&p1), [B, A, C]);
    assert_eq!(p1.previous_page, None);
    assert_eq!(p1.previous_page_url, None);
    let next = p1.next_page_url.unwrap();
    assert_eq!(next, format!("{base}?page_size=3&page=2"));

    // Following the URLs walks the whole listing.
    let auth = format!("Token {}", s.token());
    let p2 = common::get_url(&next, Some(&auth)).page();
    let p3 = common::get_url(p2.next_page_url.as_deref().unwrap(), Some(&auth)).page();
    assert_eq!(ids(&p3), [H, G]);
    assert_eq!((p3.next_page, p3.next_page_url.as_deref()), (None, None));
    assert_eq!((p3.current_page, p3.num_pages), (3, 3));

    let all = page(&s, &[]);
    assert_eq!(
        (all.count, all.num_pages, all.per_page, all.current_page),
        (8, 1, 25, 1)
    );

    // The raw body carries every envelope key, nulls included.
    let raw = get(&s, &[]).json();
    for key in [
        "count",
        "num_pages",
        "per_page",
        "current_page",
        "next_page",
        "previous_page",
        "next_page_url",
        "previous_page_url",
        "results",
    ] {
        assert!(raw.get(key).is_some(), "{key} missing");
    }
}

#[test]
fn pushed_chats_show_up_in_cached_listings() {
    let s = server();
    assert_eq!(listed(&s, &[("tag", "Premium")]), [A, E, G]);
    let newcomer = chat(
        0x60,
        Some(15),
        Some(16),
        Some(true),
        None,
        &["Premium"],
        Some(1),
        vec![],
    );
    s.push_chats(vec![newcomer]);
    assert_eq!(listed(&s, &[("tag", "Premium")]), [A, E, 0x60, G]);
    // The same id replaces the chat.
    let replaced = chat(
        A,
        Some(0),
        Some(10),
        Some(true),
        Some(R1),
        &[],
        Some(5),
        vec![],
    );
    s.push_chats(vec![replaced]);
    assert_eq!(listed(&s, &[("tag", "Premium")]), [E, 0x60, G]);
    assert_eq!(s.chats().len(), 9);
}

#[test]
fn pages_through_a_large_generated_set() {
    let s = MockServer::builder().generated(42, 5_000).start().unwrap();
    let want: Vec<Uuid> = giosg_mock::generate(42, 5_000)
        .iter()
        .map(|c| c.id)
        .collect();
    let auth = format!("Token {}", s.token());
    let mut got = Vec::new();
    let mut url = Some(format!("{}?page_size=100", s.chats_url()));
    while let Some(u) = url {
        let p = common::get_url(&u, Some(&auth)).page();
        assert_eq!(p.count, 5_000);
        got.extend(p.results.iter().map(|c| c.id));
        url = p.next_page_url;
    }
    assert_eq!(got, want);

    // since_id as a keyset cursor gives the same pages, in descending order too.
    let mut got = Vec::new();
    let mut since: Option<String> = None;
    loop {
        let mut params = vec![("page_size", "100"), ("ordering", "-start_time")];
        if let Some(id) = &since {
            params.push(("since_id", id));
        }
        let p = page(&s, &params);
        let Some(last) = p.results.last() else { break };
        since = Some(last.id.to_string());
        got.extend(p.results.iter().map(|c| c.id));
    }
    let mut reversed = s.chats();
    reversed.sort_by(|a, b| b.start_time.cmp(&a.start_time).then(a.id.cmp(&b.id)));
    assert_eq!(got, reversed.iter().map(|c| c.id).collect::<Vec<_>>());
}

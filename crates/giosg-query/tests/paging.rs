//! The paging machines, against scripted and random page sequences.

use giosg_model::{Chat, ChatFilter, Page, Uuid};
use giosg_query::{Credentials, Endpoint, Pager, PagingError};
use proptest::prelude::*;
use std::collections::HashSet;

const ORG: Uuid = Uuid::from_u128(0x7f9e9580_095b_42c7_838c_c04e667b26f7);

fn endpoint(base: &str) -> Endpoint {
    Endpoint::new(base, Credentials::token("t")).unwrap()
}

fn chats(ids: std::ops::Range<u128>) -> Vec<Chat> {
    ids.map(|i| Chat::new(Uuid::from_u128(i))).collect()
}

fn page(current: u64, num_pages: u64, results: Vec<Chat>) -> Page<Chat> {
    let mut p = Page::single(results);
    p.current_page = current;
    p.num_pages = num_pages;
    p.next_page = (current < num_pages).then_some(current + 1);
    p
}

#[test]
fn pages_until_num_pages() {
    let list = endpoint("https://service.giosg.com")
        .chats(ORG, &ChatFilter::new())
        .unwrap();
    let mut pager = Pager::new(list);
    let mut got = Vec::new();
    for n in 1..=3u64 {
        let req = pager.next_request().unwrap();
        assert_eq!(req.page, n);
        assert!(req
            .request
            .uri()
            .query()
            .unwrap()
            .contains(&format!("page={n}")));
        let start = u128::from(n) * 10;
        got.extend(
            pager
                .accept(n, page(n, 3, chats(start..start + 10)))
                .unwrap()
                .results,
        );
    }
    assert!(pager.next_request().is_none());
    assert_eq!(got.len(), 30);
}

#[test]
fn stops_on_an_empty_page_even_if_more_are_announced() {
    let list = endpoint("https://service.giosg.com")
        .chats(ORG, &ChatFilter::new())
        .unwrap();
    let mut pager = Pager::new(list);
    assert!(pager
        .accept(1, page(1, 5, vec![]))
        .unwrap()
        .results
        .is_empty());
    assert!(pager.next_request().is_none());
}

#[test]
fn a_page_that_does_not_advance_is_an_error() {
    let list = endpoint("https://service.giosg.com")
        .chats(ORG, &ChatFilter::new())
        .unwrap();
    let mut pager = Pager::new(list.clone());
    let mut p = page(1, 3, chats(0..5));
    p.next_page = Some(1);
    assert_eq!(
        pager.accept(1, p),
        Err(PagingError::NotAdvancing {
            current: 1,
            next: 1
        })
    );
    assert!(pager.next_request().is_none());

    let mut pager = Pager::new(list);
    pager.accept(1, page(1, 3, chats(0..5))).unwrap();
    // The server answers page 1 again to the request for page 2.
    assert_eq!(
        pager.accept(2, page(1, 3, chats(0..5))),
        Err(PagingError::WrongPage {
            requested: 2,
            got: 1
        })
    );
    assert!(pager.next_request().is_none());
}

#[test]
fn next_page_url_is_followed_only_on_our_origin() {
    let list = endpoint("https://service.giosg.com")
        .chats(ORG, &ChatFilter::new().tag("a"))
        .unwrap();
    let path = "/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/chats";
    for (suggested, followed) in [
        // The listing's own URL for page 2, its parameters in another order.
        (
            format!("https://service.giosg.com{path}?tag=a&page=2"),
            true,
        ),
        (
            format!("https://evil.example.com{path}?page=2&tag=a"),
            false,
        ),
        (format!("http://service.giosg.com{path}?page=2"), false),
        (
            format!("https://service.giosg.com:8443{path}?page=2"),
            false,
        ),
        (
            format!("https://user@service.giosg.com{path}?page=2"),
            false,
        ),
        ("https://service.giosg.com/other?page=2".to_owned(), false),
        ("not a url".to_owned(), false),
    ] {
        let mut pager = Pager::new(list.clone());
        let mut p = page(1, 3, chats(0..5));
        p.next_page_url = Some(suggested.clone());
        pager.accept(1, p).unwrap();
        let req = pager.next_request().unwrap();
        let uri = req.request.uri().to_string();
        if followed {
            assert_eq!(uri, suggested);
        } else {
            assert_eq!(
                uri,
                format!("https://service.giosg.com{path}?page=2&tag=a"),
                "{suggested}"
            );
        }
    }
}

#[test]
fn a_next_page_url_that_changes_the_parameters_is_refused() {
    let list = endpoint("https://service.giosg.com")
        .chats(ORG, &ChatFilter::new().tag("a"))
        .unwrap();
    let path = "/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/chats";
    for (query, differ) in [
        ("page=2&tag=INJECTED&page_size=1", &["page_size", "tag"][..]),
        ("page=2&tag=a&cursor=xyz", &["cursor"][..]),
        ("page=2", &["tag"][..]),
        ("page=3&tag=a", &["page"][..]),
        ("page=2&tag=a&tag=b", &["tag"][..]),
    ] {
        let mut pager = Pager::new(list.clone());
        let mut p = page(1, 3, chats(0..5));
        p.next_page_url = Some(format!("https://service.giosg.com{path}?{query}"));
        let e = pager.accept(1, p).unwrap_err();
        assert_eq!(
            e,
            PagingError::NextPageUrlChanged {
                parameters: differ.iter().map(|s| (*s).to_owned()).collect()
            },
            "{query}"
        );
        assert!(pager.next_request().is_none(), "{query}: the listing ends");
    }
    // A huge one: a bounded error, no panic.
    let mut pager = Pager::new(list);
    let mut p = page(1, 3, chats(0..5));
    let pad = "x".repeat(70_000);
    p.next_page_url = Some(format!(
        "https://service.giosg.com{path}?page=2&tag=a&{pad}=1"
    ));
    let e = pager.accept(1, p).unwrap_err();
    assert!(e.to_string().len() < 200, "{e}");
}

#[test]
fn drift_repeats_are_dropped_and_counted() {
    let list = endpoint("https://service.giosg.com")
        .chats(ORG, &ChatFilter::new())
        .unwrap();
    let mut pager = Pager::new(list);
    assert_eq!(
        pager
            .accept(1, page(1, 2, chats(0..10)))
            .unwrap()
            .results
            .len(),
        10
    );
    // Two chats arrived in front: the next page starts with the previous page's last two.
    let second = pager.accept(2, page(2, 2, chats(8..18))).unwrap().results;
    assert_eq!(second.first().unwrap().id, Uuid::from_u128(10));
    assert_eq!(pager.dropped(), 2);
}

/// A server answer to a page request, chosen at random: anything a buggy or drifting
/// server might say.
fn arb_answer() -> impl Strategy<Value = (u64, u64, Option<u64>, Vec<u128>)> {
    (
        0u64..8,
        0u64..8,
        proptest::option::of(0u64..10),
        proptest::collection::vec(0u128..40, 0..8),
    )
}

proptest! {
    #[test]
    fn the_pager_never_loops_and_never_yields_a_duplicate(answers in proptest::collection::vec(arb_answer(), 1..40)) {
        let list = endpoint("https://service.giosg.com").chats(ORG, &ChatFilter::new()).unwrap();
        let mut pager = Pager::new(list);
        let mut yielded = HashSet::new();
        let mut last_page = 0;
        let mut answers = answers.into_iter();
        while let Some(req) = pager.next_request() {
            // Every request asks for a later page than the one before: no loop is possible.
            prop_assert!(req.page > last_page);
            last_page = req.page;
            let Some((current, num_pages, next, ids)) = answers.next() else { break };
            let mut p = Page::single(ids.into_iter().map(|i| Chat::new(Uuid::from_u128(i))).collect());
            (p.current_page, p.num_pages, p.next_page) = (if current == 0 { req.page } else { current }, num_pages, next);
            match pager.accept(req.page, p) {
                Ok(page) => {
                    let mut on_page = HashSet::new();
                    for c in page.results {
                        prop_assert!(on_page.insert(c.id), "duplicate within a page");
                        prop_assert!(yielded.insert(c.id), "chat yielded twice");
                    }
                }
                Err(_) => prop_assert!(pager.next_request().is_none()),
            }
        }
    }
}

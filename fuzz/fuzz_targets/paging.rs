//! The paging machines, fed arbitrary answers: `Pager` (page numbers) and `Planner` (keyset
//! windows, answers in any order). Whatever the answers say, every request goes to the base
//! URL's origin with the token, page numbers only move forward, no chat is handed out twice,
//! the planner either finishes or keeps asking (never stalls with nothing pending), and after
//! an error nothing more is asked.
#![no_main]

use giosg_model::{Chat, ChatFilter, Page, Uuid};
use giosg_query::{
    query, ChatList, Credentials, Delivery, Endpoint, PageRequest, Pager, PlanOptions,
    PlannedRequest, Planner,
};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;

const ORG: Uuid = Uuid::from_u128(0x7f9e_9580_095b_42c7_838c_c04e_667b_26f7);
/// Chat ids come from a small pool, so that repeats are common.
const POOL: u128 = 200;

fn chats(u: &mut Unstructured) -> Result<Vec<Chat>> {
    let n = u.int_in_range(0..=40)?;
    (0..n)
        .map(|_| {
            let mut chat = Chat::new(Uuid::from_u128(u.int_in_range(1..=POOL)?));
            if u.ratio(7, 8)? {
                let minutes: u16 = u.arbitrary()?;
                chat.start_time = giosg_model::time::parse("2025-01-01T00:00:00Z")
                    .ok()
                    .map(|t| t + chrono::TimeDelta::minutes(i64::from(minutes)));
            }
            Ok(chat)
        })
        .collect()
}

fn number(u: &mut Unstructured, near: u64) -> Result<u64> {
    Ok(match u.int_in_range(0..=3)? {
        0 => near,
        1 => near.saturating_add(1),
        2 => near.saturating_sub(1),
        _ => u.arbitrary()?,
    })
}

fn suggested_url(u: &mut Unstructured, list: &ChatList, next: u64) -> Result<Option<String>> {
    let path = format!("/api/v5/orgs/{ORG}/chats");
    Ok(match u.int_in_range(0..=6)? {
        0 => None,
        1 => Some(list.page_url(next).to_string()),
        2 => Some(format!("https://evil.example{path}?page={next}")),
        3 => Some(format!(
            "https://user:pw@service.giosg.com{path}?page={next}"
        )),
        4 => Some(format!("http://service.giosg.com{path}?page={next}")),
        5 => Some(format!("https://service.giosg.com/other?page={next}")),
        _ => Some(u.arbitrary::<String>()?),
    })
}

fn check_request(request: &PageRequest) {
    let uri = request.request.uri();
    assert_eq!(uri.scheme_str(), Some("https"), "{uri}");
    assert_eq!(
        uri.authority().map(|a| a.as_str()),
        Some("service.giosg.com"),
        "{uri}"
    );
    assert_eq!(uri.path(), format!("/api/v5/orgs/{ORG}/chats"), "{uri}");
    assert!(request.request.headers().contains_key("authorization"));
}

fn page_numbers(u: &mut Unstructured, list: &ChatList) -> Result<()> {
    let mut pager = Pager::new(list.clone());
    let mut yielded = HashSet::new();
    let (mut received, mut kept) = (0u64, 0u64);
    let mut last: Option<u64> = None;
    for _ in 0..64 {
        let Some(request) = pager.next_request() else {
            break;
        };
        check_request(&request);
        assert!(last.is_none_or(|l| request.page > l), "pages go forward");
        last = Some(request.page);
        let mut page = Page::single(chats(u)?);
        page.current_page = if u.ratio(7, 8)? {
            request.page
        } else {
            u.arbitrary()?
        };
        page.num_pages = number(u, request.page.saturating_add(2))?;
        page.count = u.arbitrary()?;
        page.next_page = if u.ratio(3, 4)? {
            Some(number(u, request.page.saturating_add(1))?)
        } else {
            None
        };
        page.next_page_url = suggested_url(u, list, page.next_page.unwrap_or(2))?;
        let n = page.results.len() as u64;
        match pager.accept(request.page, page) {
            Ok(page) => {
                received += n;
                for chat in &page.results {
                    assert!(yielded.insert(chat.id), "chat {} yielded twice", chat.id);
                    kept += 1;
                }
                assert_eq!(pager.dropped(), received - kept);
            }
            Err(_) => {
                assert!(pager.next_request().is_none(), "asked again after an error");
                break;
            }
        }
        if u.is_empty() {
            break;
        }
    }
    Ok(())
}

fn keyset(u: &mut Unstructured, list: &ChatList) -> Result<()> {
    let delivery = if u.arbitrary()? {
        Delivery::Ordered
    } else {
        Delivery::Unordered
    };
    let limit = if u.ratio(1, 4)? {
        Some(u.int_in_range(1..=300)?)
    } else {
        None
    };
    let options = PlanOptions::new()
        .concurrency(u.int_in_range(1..=8)?)
        .delivery(delivery)
        .limit(limit);
    let Ok(mut planner) = Planner::new(list, options) else {
        return Ok(());
    };
    let mut handed = HashSet::new();
    let mut pending: Vec<PlannedRequest> = Vec::new();
    for _ in 0..256 {
        while let Some(page) = planner.poll_page() {
            for chat in &page.results {
                assert!(handed.insert(chat.id), "chat {} handed out twice", chat.id);
            }
        }
        if planner.is_finished() {
            assert!(
                planner.poll_request().is_none(),
                "asked again after the end"
            );
            break;
        }
        while let Some(request) = planner.poll_request() {
            check_request(&request.request);
            assert_eq!(request.request.page, 1);
            query::decode(request.request.request.uri().query().unwrap_or("")).expect("decodes");
            pending.push(request);
        }
        assert!(
            !pending.is_empty(),
            "stalled: nothing pending, not finished"
        );
        let r = pending.remove(u.choose_index(pending.len())?);
        let mut page = Page::single(chats(u)?);
        page.current_page = if u.ratio(7, 8)? { 1 } else { u.arbitrary()? };
        page.count = number(u, page.results.len() as u64)?;
        page.next_page = if u.arbitrary()? { Some(2) } else { None };
        if u.arbitrary()? {
            page.per_page = u.int_in_range(0..=100)?;
        }
        if planner.accept(r.ticket, page).is_err() {
            assert!(
                planner.poll_request().is_none(),
                "asked again after an error"
            );
            break;
        }
        if u.is_empty() {
            break;
        }
    }
    if let Some(limit) = limit {
        assert!(handed.len() as u64 <= limit);
    }
    Ok(())
}

fn run(u: &mut Unstructured) -> Result<()> {
    let endpoint = Endpoint::new("https://service.giosg.com", Credentials::token("t0ken")).unwrap();
    let mut filter = ChatFilter::new().page_size(u.int_in_range(1..=100)?);
    if u.arbitrary()? {
        filter = filter.page(u.int_in_range(1..=5)?);
    }
    if u.arbitrary()? {
        filter = filter.tag(u.arbitrary::<String>()?);
    }
    let Ok(list) = endpoint.chats(ORG, &filter) else {
        return Ok(());
    };
    if u.arbitrary()? {
        keyset(u, &list)
    } else {
        page_numbers(u, &list)
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});

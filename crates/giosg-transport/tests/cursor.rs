//! `Sync::cursor` is the last chat yielded: also when the caller stops early or an error ends
//! the sync, so that saving it never skips nor repeats a chat.

use giosg_model::{ChatFilter, Uuid};
use giosg_transport::{Client, RetryPolicy, TransportError};
use std::sync::atomic::{AtomicUsize, Ordering};

fn page(ids: std::ops::Range<u128>) -> Vec<u8> {
    let results: Vec<String> = ids
        .map(|i| format!(r#"{{"id": "{}"}}"#, Uuid::from_u128(i)))
        .collect();
    format!(
        r#"{{"count": 9, "num_pages": 1, "per_page": 3, "current_page": 1, "next_page": null, "results": [{}]}}"#,
        results.join(",")
    )
    .into_bytes()
}

#[test]
fn the_cursor_is_the_last_chat_yielded() {
    let calls = AtomicUsize::new(0);
    let transport =
        |_req: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
            let body = match calls.fetch_add(1, Ordering::SeqCst) {
                0 => page(1..4),
                _ => {
                    return Ok(http::Response::builder()
                        .status(503)
                        .body(Vec::new())
                        .unwrap())
                }
            };
            Ok(http::Response::new(body))
        };
    let client = Client::<()>::builder()
        .token("t")
        .retry_policy(RetryPolicy::never())
        .build_with(transport)
        .unwrap();
    let org = Uuid::from_u128(7);
    let start = Uuid::from_u128(100);
    let mut sync = client
        .chats(org)
        .filter(ChatFilter::new().page_size(3))
        .tail(Some(start));
    assert_eq!(sync.cursor(), Some(start));
    // Stop after one chat of a page of three: the cursor is that chat, not the page's last.
    assert_eq!(sync.next().unwrap().unwrap().id, Uuid::from_u128(1));
    assert_eq!(sync.cursor(), Some(Uuid::from_u128(1)));
    assert_eq!(sync.by_ref().take(2).count(), 2);
    assert_eq!(sync.cursor(), Some(Uuid::from_u128(3)));
    // The next page fails: the cursor stays where the chats stopped.
    assert!(sync.next().unwrap().is_err());
    assert!(sync.next().is_none());
    assert_eq!(sync.cursor(), Some(Uuid::from_u128(3)));
}

//! Lists an organisation's chats, page by page, fetching 4 pages at a time.
//!
//! Against giosg: `GIOSG_API_TOKEN=... cargo run -p giosg-async --example async_list_chats -- <ORG_ID>`.
//! Without an organisation id it runs against an embedded giosg-mock.

use futures_util::TryStreamExt;
use giosg_async::{ChatFilter, Client, Uuid};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, org, _mock) = match std::env::args().nth(1) {
        Some(org) => (Client::builder().build()?, Uuid::parse_str(&org)?, None),
        None => {
            let mock = giosg_mock::MockServer::builder()
                .generated(1, 120)
                .start()?;
            let client = Client::builder()
                .base_url(mock.base_url())
                .token(mock.token())
                .build()?;
            (client, mock.org(), Some(mock))
        }
    };
    let mut pages = client
        .chats(org)
        .filter(ChatFilter::new().page_size(50))
        .concurrency(4)
        .pages();
    while let Some(page) = pages.try_next().await? {
        println!(
            "page {} of {} ({} chats in all)",
            page.current_page, page.num_pages, page.count
        );
        for chat in &page.results {
            let start = chat.start_time.map(|t| t.to_rfc3339()).unwrap_or_default();
            println!(
                "  {} {start} {} messages",
                chat.id,
                chat.message_count.unwrap_or(0)
            );
        }
    }
    Ok(())
}

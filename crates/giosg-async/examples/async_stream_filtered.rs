//! Streams every chat matching a filter: ended real conversations in a time range.
//!
//! Against giosg: `GIOSG_API_TOKEN=... cargo run -p giosg-async --example async_stream_filtered -- <ORG_ID>`.
//! Without an organisation id it runs against an embedded giosg-mock.

use futures_util::TryStreamExt;
use giosg_async::{time, ChatFilter, Client, Uuid};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, org, _mock) = match std::env::args().nth(1) {
        Some(org) => (Client::builder().build()?, Uuid::parse_str(&org)?, None),
        None => {
            let mock = giosg_mock::MockServer::builder()
                .generated(1, 800)
                .start()?;
            let client = Client::builder()
                .base_url(mock.base_url())
                .token(mock.token())
                .build()?;
            (client, mock.org(), Some(mock))
        }
    };
    let filter = ChatFilter::new()
        .is_real_conversation(true)
        .only_ended(true)
        .start_time(time::parse("2025-01-02T00:00:00Z")?)
        .end_time(time::parse("2025-01-04T00:00:00Z")?)
        .page_size(100);
    let mut chats = client.chats(org).filter(filter).concurrency(8).stream();
    let mut n = 0;
    while let Some(chat) = chats.try_next().await? {
        n += 1;
        println!("{} {:?} -> {:?}", chat.id, chat.start_time, chat.end_time);
    }
    println!("{n} ended real conversations");
    Ok(())
}

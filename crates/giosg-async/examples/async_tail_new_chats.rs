//! Tailing: fetch the chats after the last one seen, remember where it stopped.
//!
//! Against giosg: `GIOSG_API_TOKEN=... cargo run -p giosg-async --example async_tail_new_chats -- <ORG_ID> [SINCE_ID]`.
//! Without an organisation id it runs against an embedded giosg-mock, twice, with new chats
//! arriving in between.

use futures_util::TryStreamExt;
use giosg_async::{ChatFilter, Client, GiosgError, Uuid};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(org) = args.first() {
        let since = args.get(1).map(|s| Uuid::parse_str(s)).transpose()?;
        let cursor = tail(&Client::builder().build()?, Uuid::parse_str(org)?, since).await?;
        println!(
            "next time: {}",
            cursor.map(|c| c.to_string()).unwrap_or_default()
        );
        return Ok(());
    }
    let mock = giosg_mock::MockServer::builder()
        .generated(1, 230)
        .start()?;
    let client = Client::builder()
        .base_url(mock.base_url())
        .token(mock.token())
        .build()?;
    let cursor = tail(&client, mock.org(), None).await?;
    let last_start = mock
        .chats()
        .last()
        .and_then(|c| c.start_time)
        .expect("generated chats start");
    let mut generator = giosg_mock::Generator::new(2, last_start);
    mock.push_chats((0..7).map(|_| generator.chat()).collect());
    tail(&client, mock.org(), cursor).await?;
    Ok(())
}

/// Fetches every chat after `since`; returns the cursor to resume from.
async fn tail(client: &Client, org: Uuid, since: Option<Uuid>) -> Result<Option<Uuid>, GiosgError> {
    let mut chats = client.chats(org).filter(ChatFilter::new()).tail(since);
    let (mut n, mut cursor) = (0, since);
    while let Some(chat) = chats.try_next().await? {
        n += 1;
        cursor = Some(chat.id);
    }
    println!("{n} new chats, cursor {cursor:?}");
    Ok(cursor)
}

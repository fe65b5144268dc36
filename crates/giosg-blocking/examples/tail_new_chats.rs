//! Tailing: fetch the chats after the last one seen, remember where it stopped.
//!
//! Against giosg: `GIOSG_API_TOKEN=... cargo run -p giosg-blocking --example tail_new_chats -- <ORG_ID> [SINCE_ID]`.
//! Without an organisation id it runs against an embedded giosg-mock, twice, with new chats
//! arriving in between.

use giosg_blocking::{ChatFilter, Client, Uuid};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(org) = args.first() {
        let since = args.get(1).map(|s| Uuid::parse_str(s)).transpose()?;
        let cursor = tail(&Client::builder().build()?, Uuid::parse_str(org)?, since)?;
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
    let cursor = tail(&client, mock.org(), None)?;
    let last_start = mock
        .chats()
        .last()
        .and_then(|c| c.start_time)
        .expect("generated chats start");
    let mut generator = giosg_mock::Generator::new(2, last_start);
    mock.push_chats((0..7).map(|_| generator.chat()).collect());
    tail(&client, mock.org(), cursor)?;
    Ok(())
}

/// Fetches every chat after `since`; returns the cursor to resume from.
fn tail(
    client: &Client,
    org: Uuid,
    since: Option<Uuid>,
) -> Result<Option<Uuid>, giosg_blocking::GiosgError> {
    let mut tail = client.chats(org).filter(ChatFilter::new()).tail(since);
    let mut n = 0;
    for chat in tail.by_ref() {
        chat?;
        n += 1;
    }
    println!("{n} new chats, cursor {:?}", tail.cursor());
    Ok(tail.cursor())
}

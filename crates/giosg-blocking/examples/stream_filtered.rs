//! Streams every chat matching a filter: tagged, with sales, newest first.
//!
//! Against giosg: `GIOSG_API_TOKEN=... cargo run -p giosg-blocking --example stream_filtered -- <ORG_ID> [TAG]`.
//! Without an organisation id it runs against an embedded giosg-mock.

use giosg_blocking::{ChatFilter, Client, OrderBy, SortField, Uuid};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (client, org, _mock) = match args.first() {
        Some(org) => (Client::builder().build()?, Uuid::parse_str(org)?, None),
        None => {
            let mock = giosg_mock::MockServer::builder()
                .generated(1, 500)
                .start()?;
            let client = Client::builder()
                .base_url(mock.base_url())
                .token(mock.token())
                .build()?;
            (client, mock.org(), Some(mock))
        }
    };
    let tag = args.get(1).map_or("Premium", String::as_str);
    let filter = ChatFilter::new()
        .tag(tag)
        .has_sales(true)
        .ordering(OrderBy::desc(SortField::StartTime))
        .page_size(100);
    let mut n = 0;
    for chat in client.chats(org).filter(filter).iter() {
        let chat = chat?;
        n += 1;
        let totals: Vec<String> = chat
            .sales_totals()?
            .iter()
            .map(|(c, t)| format!("{t} {c}"))
            .collect();
        println!("{} {:?} {}", chat.id, chat.start_time, totals.join(", "));
    }
    println!("{n} chats tagged {tag:?} with sales");
    Ok(())
}

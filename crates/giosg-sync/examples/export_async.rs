//! Exports an organisation's chats to a JSON Lines file, resumably, with the async client.
//!
//! Against giosg: `GIOSG_API_TOKEN=... cargo run -p giosg-sync --example export_async -- <ORG_ID> chats.jsonl`.
//! Without an organisation id it runs against an embedded giosg-mock, in a temporary
//! directory, twice: the second run appends only what is new.

use giosg_async::{ChatFilter, Client, Uuid};
use giosg_sync::{Export, Format};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(org) = args.first() {
        let out = args.get(1).map_or("chats.jsonl", String::as_str);
        let export = Export::new(Uuid::parse_str(org)?, ChatFilter::new(), out, Format::Jsonl)
            .concurrency(8);
        let report = export.run(&Client::builder().build()?, &mut ()).await?;
        println!(
            "{} new and {} updated chats in {out}",
            report.written, report.updated
        );
        return Ok(());
    }
    let mock = giosg_mock::MockServer::builder()
        .generated(1, 2_000)
        .start()?;
    let client = Client::builder()
        .base_url(mock.base_url())
        .token(mock.token())
        .build()?;
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("chats.jsonl");
    let export = Export::new(mock.org(), ChatFilter::new(), &out, Format::Jsonl).concurrency(8);
    for run in ["first", "second"] {
        let report = export.run(&client, &mut ()).await?;
        println!(
            "{run} run: {} new, {} updated, {} requests",
            report.written, report.updated, report.completeness.requests
        );
    }
    Ok(())
}

//! Keeps a SQLite copy of an organisation's chats true, with the blocking client.
//!
//! Against giosg: `GIOSG_API_TOKEN=... cargo run -p giosg-sync --example sync_blocking -- <ORG_ID> chats.db`.
//! Without an organisation id it runs against an embedded giosg-mock, in a temporary
//! directory: a first sync, then one after some chats ended and new ones came.

use giosg_blocking::{ChatFilter, Client, Uuid};
use giosg_sync::{Location, Observer, Store, SyncOptions};

/// Prints a dot every 1,000 chats.
#[derive(Default)]
struct Dots(u64);

impl Observer for Dots {
    fn chats(&mut self, n: u64) {
        let before = self.0 / 1_000;
        self.0 += n;
        for _ in before..self.0 / 1_000 {
            eprint!(".");
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(org) = args.first() {
        let db = args.get(1).map_or("chats.db", String::as_str);
        let options = SyncOptions::new(Uuid::parse_str(org)?, ChatFilter::new());
        // A SQLite file, or a postgres:// URL (with giosg-sync's feature `postgres`).
        let mut store = Store::open(Location::parse(db)?, &options.listing())?;
        let report = giosg_sync::sync_blocking(
            &Client::builder().build()?,
            &mut store,
            &options,
            &mut Dots::default(),
        )?;
        println!("\nsynced {report} into {db}");
        return Ok(());
    }
    let mock = giosg_mock::MockServer::builder()
        .generated(1, 3_000)
        .start()?;
    let client = Client::builder()
        .base_url(mock.base_url())
        .token(mock.token())
        .build()?;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("chats.db");
    let options = SyncOptions::new(mock.org(), ChatFilter::new());
    let mut store = Store::open(&db, &options.listing())?;
    let report = giosg_sync::sync_blocking(&client, &mut store, &options, &mut Dots::default())?;
    println!("\nfirst sync: {report}");

    // Every chat still going on ends, with one message more; ten new chats come.
    let mut changed: Vec<_> = mock
        .chats()
        .into_iter()
        .filter(|c| c.end_time.is_none())
        .map(|mut c| {
            c.end_time = c.start_time;
            c.logs.push(giosg_blocking::ChatLog::new());
            c
        })
        .collect();
    let last = mock.chats().iter().filter_map(|c| c.start_time).max();
    let mut generator = giosg_mock::Generator::new(
        2,
        last.unwrap_or_else(giosg_mock::epoch) + chrono::TimeDelta::minutes(1),
    );
    changed.extend((0..10).map(|_| generator.chat()));
    mock.push_chats(changed);
    let report = giosg_sync::sync_blocking(&client, &mut store, &options, &mut Dots::default())?;
    println!("second sync: {report}");
    let (stored, missing) = store.counts()?;
    println!(
        "{} holds {stored} chats ({missing} no longer served)",
        db.display()
    );
    Ok(())
}

//! `giosg chats sync`: keeps a copy (a SQLite file, or a PostgreSQL database) true to the API, with the copy library
//! ([`giosg_sync::sync`]); here are its flags, messages, progress and exit codes.

use crate::args::SyncArgs;
use crate::connect;
use crate::error::CliError;
use crate::progress::Progress;
use giosg_sync::{Location, Refresh, Store, SyncOptions};
use std::io::{self, IsTerminal};
use std::time::Instant;

/// Runs `giosg chats sync`, then says on stderr what it did.
pub(crate) async fn run(args: &SyncArgs) -> Result<(), CliError> {
    if args.filter.ordering.is_some() || args.filter.since_id.is_some() {
        return Err(CliError::usage(
            "sync lists in the default order (start time) from where it got: leave out --ordering and --since-id",
        ));
    }
    let filter = args.filter.to_filter()?;
    let db = connect::location(&args.db, args.db_schema.as_deref())?;
    // A key that cannot be read is refused before any request.
    let keyring = crate::decrypt::keyring(&args.keys)?;
    let client = connect::client(&args.api)?;
    let mut options = SyncOptions::new(connect::org(&args.api, &client).await?, filter)
        .refresh(Refresh::lookback(args.follow.lookback))
        .full(args.full)
        .concurrency(args.concurrency.into());
    if let Some(keyring) = &keyring {
        options = options.decrypt(keyring.clone());
    }
    let listing = options.listing();
    let store = if args.full {
        Store::adopt(&db, &listing)
    } else {
        Store::open(&db, &listing)
    }
    .map_err(|e| CliError::store(&db, &e))?;
    say_opened(&db, &store);
    let started = Instant::now();
    let mut progress = Progress::new(io::stderr().is_terminal());
    let outcome = giosg_sync::sync(&client, store, &options, &mut progress).await;
    progress.end(outcome.is_ok());
    let (_, report) = outcome.map_err(|e| CliError::copy(&e, options.org, &db))?;
    eprintln!(
        "giosg: synced {report} into {db} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    crate::decrypt::conclude(&report.decryption, keyring.is_some())
}

/// Says on stderr that a database others could read was made owner-only.
fn say_opened(db: &Location, store: &Store) {
    if let Some(mode) = store.opened().tightened_from {
        eprintln!(
            "giosg: {db} could be read by others (mode {mode:o}); it holds conversations and personal data, so it is now readable by its owner only (600)"
        );
    }
}

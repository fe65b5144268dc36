//! `giosg chats sync`: keeps a local SQLite copy ([`giosg_store`]) true to the API.
//!
//! Each run lists, in start-time windows fetched concurrently, every chat that started since
//! the earliest of: the last chat of the last complete listing (so new chats come), the
//! earliest chat stored while still open (so it is seen to end), and now minus the lookback
//! (so tags, carts and messages added to recent chats come). Each page is upserted in one
//! transaction: a changed chat's rows are replaced, children included. Killed at any instant,
//! a rerun lists the same again: the store keeps what it has, and nothing is lost. `--full`
//! lists everything and marks the chats the server no longer serves as missing.

use crate::args::SyncArgs;
use crate::connect;
use crate::error::{CliError, Failure};
use crate::warn;
use chrono::TimeDelta;
use futures_util::TryStreamExt;
use giosg_async::{ChatFilter, Client, DateTime, Utc, Uuid};
use giosg_store::{Store, Upserted};
use indicatif::ProgressBar;
use std::collections::HashSet;
use std::io::{self, IsTerminal};
use std::path::Path;
use std::time::Instant;

/// Runs `giosg chats sync`, then says on stderr what it did.
pub async fn run(args: &SyncArgs) -> Result<(), CliError> {
    if args.filter.ordering.is_some() || args.filter.since_id.is_some() {
        return Err(CliError::usage(
            "sync lists in the default order (start time) from where it got: leave out --ordering and --since-id",
        ));
    }
    let filter = args.filter.to_filter()?;
    let mut store = open(&args.db, args.api.org, &filter)?;
    let client = connect::client(&args.api)?;
    let sync = Sync {
        org: args.api.org,
        filter,
        lookback: (args.lookback > TimeDelta::zero()).then_some(args.lookback),
        full: args.full,
        concurrency: args.concurrency.into(),
    };
    let started = Instant::now();
    let report = sync
        .run(&client, &mut store, io::stderr().is_terminal(), &args.db)
        .await?;
    eprintln!(
        "giosg: {} in {:.1} s",
        report.describe(&args.db),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Opens a store, saying clearly why one cannot be.
pub fn open(path: &Path, org: Uuid, filter: &ChatFilter) -> Result<Store, CliError> {
    Store::open(path, org, filter).map_err(|e| store_error(path, &e))
}

/// A store failure as a command failure: another listing's file is a usage error.
pub fn store_error(path: &Path, e: &giosg_store::Error) -> CliError {
    let mut message = format!("{}: {e}", path.display());
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    match e {
        giosg_store::Error::OtherListing { .. } | giosg_store::Error::NewerSchema(_) => {
            CliError::usage(message)
        }
        _ => CliError::new(Failure::Local, message),
    }
}

/// A sync to run.
#[derive(Debug, Clone)]
pub struct Sync {
    /// The organisation.
    pub org: Uuid,
    /// The filters the store is for.
    pub filter: ChatFilter,
    /// Chats that started within this long are listed again (`None`: no lookback).
    pub lookback: Option<TimeDelta>,
    /// List everything, and mark what the server no longer serves.
    pub full: bool,
    /// Requests at once.
    pub concurrency: usize,
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// New, updated and unchanged chats.
    pub upserted: Upserted,
    /// Chats newly marked missing (full syncs).
    pub missing: u64,
}

impl Report {
    /// `synced 120 chats into FILE: 3 new, 2 updated, 115 unchanged`.
    pub fn describe(&self, db: &Path) -> String {
        let u = &self.upserted;
        let total = u.new + u.updated + u.unchanged;
        let mut line = format!(
            "synced {total} chats into {}: {} new, {} updated, {} unchanged",
            db.display(),
            u.new,
            u.updated,
            u.unchanged
        );
        if self.missing > 0 {
            line.push_str(&format!(
                ", {} no longer served (marked missing)",
                self.missing
            ));
        }
        line
    }
}

impl Sync {
    /// Where this run lists from: `None` for everything.
    fn from(&self, store: &Store, db: &Path) -> Result<Option<DateTime<Utc>>, CliError> {
        if self.full {
            return Ok(None);
        }
        let err = |e: giosg_store::Error| store_error(db, &e);
        let Some(until) = store.listed_until().map_err(err)? else {
            return Ok(None);
        };
        let mut from = until;
        if let Some(open) = store.earliest_open().map_err(err)? {
            from = from.min(open);
        }
        if let Some(lookback) = self.lookback {
            from = from.min(DateTime::<Utc>::from(std::time::SystemTime::now()) - lookback);
        }
        Ok(Some(from))
    }

    /// Lists and stores; with `progress`, draws a progress bar on stderr.
    pub async fn run(
        &self,
        client: &Client,
        store: &mut Store,
        progress: bool,
        db: &Path,
    ) -> Result<Report, CliError> {
        let err = |e: giosg_store::Error| store_error(db, &e);
        let from = self.from(store, db)?;
        let previous = store.listed_until().map_err(err)?;
        let mut filter = self.filter.clone();
        if let Some(from) = from {
            filter.start_time = Some(filter.start_time.map_or(from, |s| s.max(from)));
        }
        tracing::debug!(org = %self.org, ?from, full = self.full, "syncing chats");
        let mut pages = client
            .chats(self.org)
            .filter(filter)
            .concurrency(self.concurrency)
            .unordered()
            .pages();
        let bar = if progress {
            crate::export::progress_bar()
        } else {
            ProgressBar::hidden()
        };
        let mut report = Report::default();
        let mut seen: HashSet<Uuid> = HashSet::new();
        let mut last = previous;
        loop {
            let page = match pages.try_next().await {
                Ok(Some(page)) => page,
                Ok(None) => break,
                Err(e) => {
                    bar.abandon();
                    let u = &report.upserted;
                    return Err(CliError::from_giosg(&e, Some(self.org)).context(format!(
                        "{} new and {} updated chats stored; run the same command again to go on",
                        u.new, u.updated
                    )));
                }
            };
            // One transaction per page: a kill leaves whole pages stored.
            report.upserted += store.upsert(&page.results).map_err(err)?;
            for chat in &page.results {
                last = last.max(chat.start_time);
                if self.full {
                    seen.insert(chat.id);
                }
            }
            bar.inc(page.results.len() as u64);
            if let Some(expected) = pages.completeness().expected {
                bar.set_length(expected);
            }
        }
        bar.finish_and_clear();
        let completeness = pages.completeness();
        warn::completeness(&completeness);
        if self.full && completeness.finished {
            report.missing = store.mark_missing(&seen).map_err(err)?;
        }
        store.complete(last, self.full).map_err(err)?;
        Ok(report)
    }
}

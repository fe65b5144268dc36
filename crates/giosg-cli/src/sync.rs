//! `giosg chats sync`: keeps a local SQLite copy ([`giosg_store`]) true to the API.
//!
//! Each run lists, in start-time windows fetched concurrently, every chat that started since
//! the earliest of: the last chat of the last complete listing (so new chats come), and the
//! chats [`crate::follow`] says may have changed (open ones, to see them end; recent ones, for
//! the tags, carts and messages added to them). Each page is upserted in one
//! transaction: a changed chat's rows are replaced, children included. Killed at any instant,
//! a rerun lists the same again: the store keeps what it has, and nothing is lost. `--full`
//! lists everything and marks the chats the server no longer serves as missing.

use crate::args::SyncArgs;
use crate::connect;
use crate::error::{CliError, Failure};
use crate::follow::Follow;
use crate::warn;
use chrono::TimeDelta;
use futures_util::TryStreamExt;
use giosg_async::{Chat, ChatFilter, Client, Completeness, DateTime, Utc, Uuid};
use giosg_store::{Store, Upserted};
use indicatif::ProgressBar;
use std::collections::HashSet;
use std::io::{self, IsTerminal};
use std::path::Path;
use std::time::Instant;
use tokio::sync::mpsc;

/// Runs `giosg chats sync`, then says on stderr what it did.
pub(crate) async fn run(args: &SyncArgs) -> Result<(), CliError> {
    if args.filter.ordering.is_some() || args.filter.since_id.is_some() {
        return Err(CliError::usage(
            "sync lists in the default order (start time) from where it got: leave out --ordering and --since-id",
        ));
    }
    let filter = args.filter.to_filter()?;
    let store = open(&args.db, args.api.org, &filter)?;
    let client = connect::client(&args.api)?;
    let sync = Sync {
        org: args.api.org,
        filter,
        lookback: args.follow.lookback,
        full: args.full,
        concurrency: args.concurrency.into(),
    };
    let started = Instant::now();
    let (_, report) = sync
        .run(&client, store, io::stderr().is_terminal(), &args.db)
        .await?;
    eprintln!(
        "giosg: {} in {:.1} s",
        report.describe(&args.db),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Opens a store, saying clearly why one cannot be.
pub(crate) fn open(path: &Path, org: Uuid, filter: &ChatFilter) -> Result<Store, CliError> {
    Store::open(path, org, filter).map_err(|e| store_error(path, &e))
}

/// A store failure as a command failure: another listing's file is a usage error.
pub(crate) fn store_error(path: &Path, e: &giosg_store::Error) -> CliError {
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
pub(crate) struct Sync {
    /// The organisation.
    pub org: Uuid,
    /// The filters the store is for.
    pub filter: ChatFilter,
    /// Chats that started within this long are listed again (zero: none).
    pub lookback: TimeDelta,
    /// List everything, and mark what the server no longer serves.
    pub full: bool,
    /// Requests at once.
    pub concurrency: usize,
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Report {
    /// New, updated and unchanged chats.
    pub upserted: Upserted,
    /// Chats newly marked missing (full syncs).
    pub missing: u64,
}

impl Report {
    /// `synced 120 chats into FILE: 3 new, 2 updated, 115 unchanged`.
    pub(crate) fn describe(&self, db: &Path) -> String {
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
        let follow = Follow::now(self.lookback);
        let open = store.earliest_open(follow.open_since()).map_err(err)?;
        Ok(Some(until.min(follow.from(open))))
    }

    /// Lists and stores; with `progress`, draws a progress bar on stderr.
    ///
    /// The store writes on a thread of its own, a few pages behind the listing, so that
    /// fetching and decoding go on while SQLite writes.
    pub(crate) async fn run(
        &self,
        client: &Client,
        store: Store,
        progress: bool,
        db: &Path,
    ) -> Result<(Store, Report), CliError> {
        let from = self.from(&store, db)?;
        let previous = store.listed_until().map_err(|e| store_error(db, &e))?;
        let mut filter = self.filter.clone();
        if let Some(from) = from {
            filter.start_time = Some(filter.start_time.map_or(from, |s| s.max(from)));
        }
        tracing::debug!(org = %self.org, ?from, full = self.full, "syncing chats");
        let pages = client
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
        let (to_writer, writer) = Writer::start(store, bar.clone());
        let listed = self.list(pages, to_writer, &bar, previous).await;
        // The writer ends once the listing drops its end of the channel.
        let (mut store, written) = writer.finish().map_err(|e| store_error(db, &e))?;
        let (completeness, seen, last) = match listed {
            Ok(listed) => listed,
            Err(e) => {
                bar.abandon();
                return Err(CliError::from_giosg(&e, Some(self.org)).context(format!(
                    "{} new and {} updated chats stored; run the same command again to go on",
                    written.new, written.updated
                )));
            }
        };
        bar.finish_and_clear();
        warn::completeness(&completeness);
        let err = |e: giosg_store::Error| store_error(db, &e);
        let mut report = Report {
            upserted: written,
            missing: 0,
        };
        if self.full && completeness.finished {
            report.missing = store.mark_missing(&seen).map_err(err)?;
        }
        store.complete(last, self.full).map_err(err)?;
        Ok((store, report))
    }

    /// Hands every page to the writer; returns how complete the listing was, the chats it
    /// brought (full syncs) and the start time of the last one. A writer that stopped (it
    /// failed) ends the listing early: its error is the one to tell.
    async fn list(
        &self,
        mut pages: giosg_async::PageStream<giosg_async::ReqwestTransport>,
        to_writer: mpsc::Sender<Vec<Chat>>,
        bar: &ProgressBar,
        previous: Option<DateTime<Utc>>,
    ) -> Result<(Completeness, HashSet<Uuid>, Option<DateTime<Utc>>), giosg_async::Error> {
        let mut seen: HashSet<Uuid> = HashSet::new();
        let mut last = previous;
        while let Some(page) = pages.try_next().await? {
            for chat in &page.results {
                last = last.max(chat.start_time);
                if self.full {
                    seen.insert(chat.id);
                }
            }
            if let Some(expected) = pages.completeness().expected {
                bar.set_length(expected);
            }
            if to_writer.send(page.results).await.is_err() {
                break;
            }
        }
        Ok((pages.completeness(), seen, last))
    }
}

/// The thread that stores pages, one transaction each, as the listing hands them over.
struct Writer {
    thread: std::thread::JoinHandle<(Store, Result<Upserted, giosg_store::Error>)>,
}

impl Writer {
    /// Pages the listing may run ahead of the store.
    const AHEAD: usize = 8;

    fn start(mut store: Store, bar: ProgressBar) -> (mpsc::Sender<Vec<Chat>>, Writer) {
        let (tx, mut rx) = mpsc::channel::<Vec<Chat>>(Self::AHEAD);
        let thread = std::thread::spawn(move || {
            let mut total = Upserted::default();
            while let Some(chats) = rx.blocking_recv() {
                // One transaction per page: a kill leaves whole pages stored.
                match store.upsert(&chats) {
                    Ok(u) => total += u,
                    Err(e) => return (store, Err(e)),
                }
                bar.inc(chats.len() as u64);
            }
            (store, Ok(total))
        });
        (tx, Writer { thread })
    }

    /// Waits for the writer to store what it was given.
    fn finish(self) -> Result<(Store, Upserted), giosg_store::Error> {
        let (store, result) = self
            .thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        result.map(|u| (store, u))
    }
}

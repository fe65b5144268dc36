//! `giosg chats export`: every matching chat appended to a file, in parallel, resumably and
//! crash-safely.
//!
//! - Pages come from start-time windows fetched concurrently (keyset paging), in no particular
//!   order; chats are encoded in memory and appended with a single `write_all` per batch:
//!   whole lines only.
//! - Beside the file, `<file>.giosg-state` records the listing (organisation, filters,
//!   format), how many bytes of the file are complete, and the listing's [`Checkpoint`]: the
//!   windows still open and the last chat handed out from each. It is replaced atomically
//!   (write, sync, rename) once [`SYNC_INTERVAL`] has passed, right after the file is synced,
//!   and at the end, so it never claims a byte that is not on disk.
//! - On start, anything past the recorded length (a torn line, or chats appended after the
//!   last state) is cut, and the listing resumes from the checkpoint. So a run killed at any
//!   instant, with windows in flight, and rerun with the same options leaves every chat in the
//!   file exactly once. A rerun with other filters, ordering or format is refused.
//! - A finished export's checkpoint keeps the open-ended window: a rerun appends what was
//!   added since. A file without a state (written by an earlier version) resumes after its
//!   last complete record ([`crate::resume`]).
//! - Updates are followed: the state also keeps a fingerprint of each chat written that
//!   [`crate::follow`] says may still change (recent, or still going on). A rerun of a finished
//!   export lists those again once the new chats are in, and appends the newer version of each
//!   one whose record changed: the last record of an id is its newest state.

use crate::args::{ExportArgs, ExportFormat};
use crate::connect;
use crate::error::CliError;
use crate::follow::Follow;
use crate::output::{CsvEncoder, Encoder, JsonlEncoder};
use crate::resume::{self, Layout, ResumeError};
use crate::warn;
use futures_util::{FutureExt, TryStreamExt};
use giosg_async::{ChatFilter, Checkpoint, Client, PageStream, ReqwestTransport, Uuid};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fs::{File, OpenOptions};
use std::io::{self, IsTerminal, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod state;

use state::{describe, sync_parent, State, Written};

/// How long appending goes on between two syncs to disk (and saves of the state): a time
/// rather than a count of chats, so that a fast export does not spend its time waiting for
/// the disk.
pub(crate) const SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// The most encoded chats held before they are appended, in bytes.
const MAX_BATCH: usize = 1 << 20;

/// Runs `giosg chats export`, then says on stderr what it did.
pub(crate) async fn run(args: &ExportArgs) -> Result<(), CliError> {
    if args.csv_logs && args.format != ExportFormat::Csv {
        return Err(CliError::usage("--csv-logs needs --format csv"));
    }
    let filter = args.filter.to_filter()?;
    let client = connect::client(&args.api)?;
    let export = Export {
        org: args.api.org,
        filter,
        out: args.out.clone(),
        format: args.format,
        csv_logs: args.csv_logs,
        lookback: args.follow.lookback,
        concurrency: args.concurrency.into(),
    };
    let report = export.run(&client, io::stderr().is_terminal()).await?;
    eprintln!("giosg: {}", report.describe(&args.out));
    Ok(())
}

/// An export to run: what to fetch, and where to write it.
#[derive(Debug, Clone)]
pub(crate) struct Export {
    /// The organisation.
    pub org: Uuid,
    /// The filter; its `since_id` is where a new file starts.
    pub filter: ChatFilter,
    /// The file.
    pub out: PathBuf,
    /// jsonl or csv.
    pub format: ExportFormat,
    /// With csv: a row per message.
    pub csv_logs: bool,
    /// A rerun lists again the chats that started within this long (zero: none).
    pub lookback: chrono::TimeDelta,
    /// Requests in flight at most.
    pub concurrency: usize,
}

/// What an export did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    /// Chats appended by this run that the file did not hold.
    pub written: u64,
    /// Newer versions of chats the file held, appended by this run.
    pub updated: u64,
    /// Whether the file held an earlier run's chats, which this run continued.
    pub resumed: bool,
    /// Bytes of a torn or unrecorded tail that were cut.
    pub cut: u64,
}

impl Report {
    /// One line: `exported 12 new chats to FILE (resumed ...)`.
    pub(crate) fn describe(&self, out: &Path) -> String {
        let s = if self.written == 1 { "" } else { "s" };
        let mut line = format!("exported {} new chat{s}", self.written);
        if self.updated > 0 {
            line.push_str(&format!(" and {} updated", self.updated));
        }
        line.push_str(&format!(" to {}", out.display()));
        if self.resumed {
            line.push_str(" (resumed where the last run stopped)");
        }
        if self.cut > 0 {
            line.push_str(&format!(
                " (cut an incomplete tail of {} bytes first)",
                self.cut
            ));
        }
        line
    }
}

/// Whole encoded chats waiting to be appended to the file, and when it was last synced.
struct Appender {
    file: File,
    /// The file's length.
    len: u64,
    /// Chats appended so far.
    written: u64,
    /// Encoded chats (whole lines or records) not yet appended.
    buf: Vec<u8>,
    /// How many chats `buf` holds.
    pending: u64,
    synced: Instant,
}

impl Appender {
    /// Appends the waiting chats in one write.
    fn append(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.file.write_all(&self.buf)?;
        self.len += self.buf.len() as u64;
        self.buf.clear();
        self.written += self.pending;
        self.pending = 0;
        Ok(())
    }
}

impl Export {
    /// Appends every chat not in the file yet; with `progress`, draws a progress bar on
    /// stderr.
    pub(crate) async fn run(&self, client: &Client, progress: bool) -> Result<Report, CliError> {
        // A rerun continues after the chats in the file: keyset paging from a cursor.
        giosg_async::query::validate_keyset(self.filter.ordering.as_ref()).map_err(|e| {
            CliError::usage(format!(
                "export resumes by keyset: {e}; export in an ascending order (the default) and sort afterwards"
            ))
        })?;
        let (mut encoder, header): (Box<dyn Encoder>, Option<Vec<u8>>) = match self.format {
            ExportFormat::Jsonl => (Box::new(JsonlEncoder), None),
            ExportFormat::Csv => {
                let csv = CsvEncoder::new(self.csv_logs);
                let header = csv.header();
                (Box::new(csv), Some(header))
            }
        };
        let (mut out, mut state, cut, resumed) = self.open(header.as_deref())?;
        tracing::debug!(org = %self.org, resumed, cut, "exporting chats");
        let mut chats = client
            .chats(self.org)
            .filter(self.filter.clone())
            .concurrency(self.concurrency)
            .unordered();
        if let Some(checkpoint) = state.checkpoint.clone() {
            chats = chats.resume(checkpoint);
        }
        let mut pages = chats.pages();
        let bar = if progress {
            progress_bar()
        } else {
            ProgressBar::hidden()
        };
        let follow = Follow::now(self.lookback);
        loop {
            // What has arrived is appended in one write before waiting for more: a page of
            // chats costs one system call, not one per chat.
            let next = match pages.try_next().now_or_never() {
                Some(next) => next,
                None => {
                    self.flush(&mut out, &mut state, Some(&pages), &follow, false)?;
                    pages.try_next().await
                }
            };
            let page = match next {
                Ok(Some(page)) => page,
                Ok(None) => break,
                Err(e) => {
                    return Err(self.stopped(
                        &e,
                        &mut out,
                        &mut state,
                        Some(&pages),
                        &follow,
                        &bar,
                    ));
                }
            };
            for chat in &page.results {
                let at = out.buf.len();
                encoder
                    .chat(chat, &mut out.buf)
                    .map_err(|e| self.io_error(&e))?;
                if follow.follows_chat(chat) {
                    state
                        .followed
                        .insert(chat.id, Written::of(chat, &out.buf[at..]));
                }
                tracing::debug!(target: "giosg::export", id = %chat.id, "chat encoded");
            }
            out.pending += page.results.len() as u64;
            bar.inc(page.results.len() as u64);
            if let (false, Some(expected)) = (resumed, pages.completeness().expected) {
                bar.set_length(expected);
            }
            if out.buf.len() >= MAX_BATCH {
                self.flush(&mut out, &mut state, Some(&pages), &follow, false)?;
            }
        }
        self.flush(&mut out, &mut state, Some(&pages), &follow, true)?;
        warn::completeness(&pages.completeness());
        let updated = if resumed {
            self.follow_updates(
                client,
                &follow,
                encoder.as_mut(),
                &mut out,
                &mut state,
                &bar,
            )
            .await?
        } else {
            0
        };
        bar.finish_and_clear();
        Ok(Report {
            written: out.written - updated,
            updated,
            resumed,
            cut,
        })
    }

    /// Lists again, from the earliest of them, the chats followed (that may have changed since
    /// they were written), and appends the newer version of each whose record differs (or of a chat the
    /// file does not hold yet, that arrived meanwhile). Returns how many were updated.
    async fn follow_updates(
        &self,
        client: &Client,
        follow: &Follow,
        encoder: &mut dyn Encoder,
        out: &mut Appender,
        state: &mut State,
        bar: &ProgressBar,
    ) -> Result<u64, CliError> {
        // Only the chats followed can have changed (new ones came above): list from the
        // earliest of them.
        let Some(from) = state.followed.values().filter_map(|w| w.start).min() else {
            return Ok(0);
        };
        let mut filter = self.filter.clone();
        filter.since_id = None;
        filter.start_time = Some(filter.start_time.map_or(from, |s| s.max(from)));
        tracing::debug!(%from, followed = state.followed.len(), "listing again for updates");
        let mut pages = client
            .chats(self.org)
            .filter(filter)
            .concurrency(self.concurrency)
            .unordered()
            .pages();
        let mut updated = 0;
        let mut record = Vec::new();
        loop {
            let page = match pages.try_next().await {
                Ok(Some(page)) => page,
                Ok(None) => break,
                Err(e) => return Err(self.stopped(&e, out, state, None, follow, bar)),
            };
            for chat in &page.results {
                record.clear();
                encoder
                    .chat(chat, &mut record)
                    .map_err(|e| self.io_error(&e))?;
                let now = Written::of(chat, &record);
                let newer = match state.followed.get(&chat.id) {
                    Some(was) => was.record != now.record,
                    // Not followed: written already unless it is one to follow (it arrived
                    // since the listing above, or is an open chat never written).
                    None => follow.follows_chat(chat),
                };
                if !newer {
                    continue;
                }
                if state.followed.contains_key(&chat.id) {
                    updated += 1;
                }
                out.buf.extend_from_slice(&record);
                out.pending += 1;
                state.followed.insert(chat.id, now);
                bar.inc(1);
            }
            if out.buf.len() >= MAX_BATCH {
                self.flush(out, state, None, follow, false)?;
            }
        }
        self.flush(out, state, None, follow, true)?;
        warn::completeness(&pages.completeness());
        Ok(updated)
    }

    /// After a failed request: saves what was written, and says how far the export got.
    fn stopped(
        &self,
        e: &giosg_async::Error,
        out: &mut Appender,
        state: &mut State,
        listing: Option<&PageStream<ReqwestTransport>>,
        follow: &Follow,
        bar: &ProgressBar,
    ) -> CliError {
        let saved = self.flush(out, state, listing, follow, true);
        bar.abandon();
        if let Err(saving) = saved {
            return saving;
        }
        let written = out.written;
        let s = if written == 1 { "" } else { "s" };
        CliError::from_giosg(e, Some(self.org)).context(format!(
            "{written} chat{s} written to {}; run the same command again to resume",
            self.out.display()
        ))
    }

    /// Appends what waits; once [`SYNC_INTERVAL`] has passed (or when `force`d), syncs the
    /// file and then records the state: the file's length, the work left of the `listing` of
    /// new chats (`None` during the update pass, which leaves it as that listing ended) and
    /// the chats still followed.
    fn flush(
        &self,
        out: &mut Appender,
        state: &mut State,
        listing: Option<&PageStream<ReqwestTransport>>,
        follow: &Follow,
        force: bool,
    ) -> Result<(), CliError> {
        out.append().map_err(|e| self.io_error(&e))?;
        if !force && out.synced.elapsed() < SYNC_INTERVAL {
            return Ok(());
        }
        out.file.sync_data().map_err(|e| self.io_error(&e))?;
        state.offset = out.len;
        if let Some(listing) = listing {
            state.checkpoint = listing.checkpoint();
        }
        state
            .followed
            .retain(|_, w| follow.follows(w.start, w.open));
        self.save(state)?;
        out.synced = Instant::now();
        Ok(())
    }

    /// Opens (or creates) the file and its state, cuts what the state does not account for,
    /// and leaves the file positioned at its end. Returns the appender, the state, the bytes
    /// cut and whether an earlier run is being continued.
    fn open(&self, header: Option<&[u8]>) -> Result<(Appender, State, u64, bool), CliError> {
        let created = !self.out.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.out)
            .map_err(|e| self.io_error(&e))?;
        let len = file.metadata().map_err(|e| self.io_error(&e))?.len();
        let fresh = self.fresh_state(None);
        let (state, keep, resumed) = match self.load()? {
            Some(saved) => {
                let mut expected = saved.clone();
                expected.offset = fresh.offset;
                expected.checkpoint = None;
                expected.followed.clear();
                if expected != fresh {
                    return Err(CliError::usage(format!(
                        "{} was started with other options ({}); rerun with the same filters, ordering and --format, or choose another --out",
                        self.out.display(),
                        describe(&saved)
                    )));
                }
                if saved.offset > len {
                    return Err(CliError::usage(format!(
                        "{} is shorter ({len} bytes) than its state says ({} bytes): it was changed by something else; choose another --out",
                        self.out.display(),
                        saved.offset
                    )));
                }
                let offset = saved.offset;
                (saved, offset, offset > header.map_or(0, <[u8]>::len) as u64)
            }
            None if len == 0 => (fresh, 0, false),
            None => {
                // A file from before states existed: resume after its last complete record.
                let layout = match header {
                    None => Layout::Jsonl,
                    Some(header) => Layout::Csv {
                        header,
                        per_message: self.csv_logs,
                    },
                };
                let point = resume::inspect(&mut file, len, layout).map_err(|e| match e {
                    ResumeError::Io(e) => self.io_error(&e),
                    ResumeError::Foreign(why) => CliError::usage(format!(
                        "{} cannot be resumed: {why}; choose another --out, or the --format it was written with",
                        self.out.display()
                    )),
                })?;
                let cursor = point.cursor.or(self.filter.since_id);
                let state = self.fresh_state(Some(Checkpoint::after(cursor)));
                (state, point.keep, point.cursor.is_some())
            }
        };
        let cut = len - keep;
        if cut > 0 {
            tracing::info!(bytes = cut, "cutting an incomplete tail");
            file.set_len(keep)
                .and_then(|()| file.sync_all())
                .map_err(|e| self.io_error(&e))?;
        }
        if created {
            sync_parent(&self.out);
        }
        file.seek(SeekFrom::End(0)).map_err(|e| self.io_error(&e))?;
        let mut out = Appender {
            file,
            len: keep,
            written: 0,
            buf: Vec::new(),
            pending: 0,
            synced: Instant::now(),
        };
        let mut state = state;
        if keep == 0 {
            if let Some(header) = header {
                out.buf.extend_from_slice(header);
                out.append().map_err(|e| self.io_error(&e))?;
            }
        }
        out.file.sync_data().map_err(|e| self.io_error(&e))?;
        state.offset = out.len;
        self.save(&state)?;
        Ok((out, state, cut, resumed))
    }

    /// A local failure on the output file.
    fn io_error(&self, e: &io::Error) -> CliError {
        CliError::io(self.out.display(), e)
    }
}

/// A progress bar of the chats fetched: done / count (once known), rate, ETA.
pub(crate) fn progress_bar() -> ProgressBar {
    let style = ProgressStyle::with_template(
        "{spinner} [{bar:30}] {human_pos}/{human_len} chats  {rate}  ETA {eta}",
    )
    .expect("a valid template")
    .with_key(
        "rate",
        |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0} chats/s", state.per_sec());
        },
    )
    .progress_chars("=> ");
    ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(style)
}

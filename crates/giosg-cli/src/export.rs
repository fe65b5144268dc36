//! `giosg chats export`: every matching chat appended to a file, resumably and crash-safely.
//!
//! - Chats are encoded in memory and appended with a single `write_all` per batch (the chats
//!   received before waiting for more, usually a page): whole lines only.
//! - The file is synced to disk as chats are appended, once [`SYNC_INTERVAL`] has passed since
//!   the last sync, and at the end.
//! - On start, [`crate::resume`] finds the last complete record; anything after it (a torn
//!   line from a kill or a crash) is cut, and keyset paging (`since_id`) continues after that
//!   chat, in the filter's ordering. So a run killed at any instant and rerun with the same
//!   options leaves every chat in the file exactly once.

use crate::args::{ExportArgs, ExportFormat};
use crate::connect;
use crate::error::CliError;
use crate::output::{CsvEncoder, Encoder, JsonlEncoder};
use crate::resume::{self, Layout, ResumeError, ResumePoint};
use futures_util::{FutureExt, TryStreamExt};
use giosg_async::{ChatFilter, Client, Uuid};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fs::{File, OpenOptions};
use std::io::{self, IsTerminal, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long appending goes on between two syncs to disk: a time rather than a count of chats,
/// so that a fast export does not spend its time waiting for the disk.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// The most encoded chats held before they are appended, in bytes.
const MAX_BATCH: usize = 1 << 20;

/// Runs `giosg chats export`, then says on stderr what it did.
pub async fn run(args: &ExportArgs) -> Result<(), CliError> {
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
    };
    let report = export.run(&client, io::stderr().is_terminal()).await?;
    eprintln!("giosg: {}", report.describe(&args.out));
    Ok(())
}

/// An export to run: what to fetch, and where to write it.
#[derive(Debug, Clone)]
pub struct Export {
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
}

/// What an export did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Chats appended by this run.
    pub written: u64,
    /// The chat the file ended with, after which this run continued.
    pub resumed_after: Option<Uuid>,
    /// Bytes of a torn or incomplete tail that were cut.
    pub cut: u64,
}

impl Report {
    /// One line: `exported 12 new chats to FILE (resumed after chat ...)`.
    pub fn describe(&self, out: &Path) -> String {
        let s = if self.written == 1 { "" } else { "s" };
        let mut line = format!("exported {} new chat{s} to {}", self.written, out.display());
        if let Some(id) = self.resumed_after {
            line.push_str(&format!(" (resumed after chat {id})"));
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
    /// Chats appended so far.
    written: u64,
    /// Encoded chats (whole lines or records) not yet appended.
    buf: Vec<u8>,
    /// Their ids.
    ids: Vec<Uuid>,
    synced: Instant,
}

impl Appender {
    /// Appends the waiting chats in one write, and syncs the file if [`SYNC_INTERVAL`] has
    /// passed since the last sync.
    fn append(&mut self, file: &mut File) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        file.write_all(&self.buf)?;
        self.buf.clear();
        self.written += self.ids.len() as u64;
        for id in self.ids.drain(..) {
            tracing::debug!(target: "giosg::export", %id, "chat written");
        }
        if self.synced.elapsed() >= SYNC_INTERVAL {
            file.sync_data()?;
            self.synced = Instant::now();
        }
        Ok(())
    }
}

impl Export {
    /// Appends every chat after the file's last one; with `progress`, draws a progress bar on
    /// stderr (which costs one small request for the count).
    pub async fn run(&self, client: &Client, progress: bool) -> Result<Report, CliError> {
        let (mut encoder, header): (Box<dyn Encoder>, Option<Vec<u8>>) = match self.format {
            ExportFormat::Jsonl => (Box::new(JsonlEncoder), None),
            ExportFormat::Csv => {
                let csv = CsvEncoder::new(self.csv_logs);
                let header = csv.header();
                (Box::new(csv), Some(header))
            }
        };
        let (mut file, point, cut) = self.open(header.as_deref())?;
        if let (Some(header), false) = (&header, point.has_header) {
            file.write_all(header)
                .and_then(|()| file.sync_data())
                .map_err(|e| self.io_error(&e))?;
        }
        let cursor = point.cursor.or(self.filter.since_id);
        tracing::debug!(org = %self.org, ?cursor, cut, "exporting chats");
        let bar = if progress {
            self.progress_bar(client, cursor).await?
        } else {
            ProgressBar::hidden()
        };

        let mut chats = client
            .chats(self.org)
            .filter(self.filter.clone())
            .sync_from(cursor);
        let mut out = Appender {
            written: 0,
            buf: Vec::new(),
            ids: Vec::new(),
            synced: Instant::now(),
        };
        loop {
            // What has arrived is appended in one write before waiting for more: a page of
            // chats costs one system call, not one per chat.
            let next = match chats.try_next().now_or_never() {
                Some(next) => next,
                None => {
                    out.append(&mut file).map_err(|e| self.io_error(&e))?;
                    chats.try_next().await
                }
            };
            let chat = match next {
                Ok(Some(chat)) => chat,
                Ok(None) => break,
                Err(e) => {
                    let appended = out.append(&mut file);
                    let _ = file.sync_data();
                    bar.abandon();
                    appended.map_err(|e| self.io_error(&e))?;
                    let written = out.written;
                    let s = if written == 1 { "" } else { "s" };
                    return Err(CliError::from_giosg(&e, Some(self.org)).context(format!(
                        "{written} new chat{s} written to {}; run the same command again to resume",
                        self.out.display()
                    )));
                }
            };
            encoder
                .chat(&chat, &mut out.buf)
                .map_err(|e| self.io_error(&e))?;
            out.ids.push(chat.id);
            if out.buf.len() >= MAX_BATCH {
                out.append(&mut file).map_err(|e| self.io_error(&e))?;
            }
            bar.inc(1);
        }
        out.append(&mut file).map_err(|e| self.io_error(&e))?;
        let written = out.written;
        file.sync_data().map_err(|e| self.io_error(&e))?;
        bar.finish_and_clear();
        Ok(Report {
            written,
            resumed_after: point.cursor,
            cut,
        })
    }

    /// Opens (or creates) the file, finds where to resume, cuts what follows, and leaves the
    /// file positioned at its end.
    fn open(&self, header: Option<&[u8]>) -> Result<(File, ResumePoint, u64), CliError> {
        let created = !self.out.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.out)
            .map_err(|e| self.io_error(&e))?;
        let len = file.metadata().map_err(|e| self.io_error(&e))?.len();
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
        let cut = len - point.keep;
        if cut > 0 {
            tracing::info!(bytes = cut, "cutting an incomplete tail");
            file.set_len(point.keep)
                .and_then(|()| file.sync_all())
                .map_err(|e| self.io_error(&e))?;
        }
        if created {
            sync_parent(&self.out);
        }
        file.seek(SeekFrom::End(0)).map_err(|e| self.io_error(&e))?;
        Ok((file, point, cut))
    }

    /// A progress bar of the chats still to export: done / count, rate, ETA.
    async fn progress_bar(
        &self,
        client: &Client,
        cursor: Option<Uuid>,
    ) -> Result<ProgressBar, CliError> {
        let mut filter = self.filter.clone();
        filter.since_id = cursor;
        filter.page = None;
        filter.page_size = Some(1);
        let count = client
            .chats(self.org)
            .filter(filter)
            .first_page()
            .await
            .map_err(|e| CliError::from_giosg(&e, Some(self.org)))?
            .count;
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
        Ok(
            ProgressBar::with_draw_target(Some(count), ProgressDrawTarget::stderr())
                .with_style(style),
        )
    }

    /// A local failure on the output file.
    fn io_error(&self, e: &io::Error) -> CliError {
        CliError::io(self.out.display(), e)
    }
}

/// Syncs the directory holding a new file, so that the file's name survives a crash too.
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Ok(dir) = File::open(parent) {
            let _ = dir.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

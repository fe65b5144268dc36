//! An export: every chat of a listing appended to a file (JSON Lines or CSV), in parallel,
//! resumably and crash-safely, its updates followed.
//!
//! - Pages come from start-time windows fetched concurrently (keyset paging), in no particular
//!   order; chats are encoded in memory and appended in one write per batch: whole records.
//! - Beside the file, `<file>.giosg-state` records the listing ([`ListingIdentity`]), the
//!   format, how many bytes of the file are complete, the listing's [`Checkpoint`], and the
//!   chats that may still change ([`Refresh`]) with a fingerprint of their record. It is
//!   replaced atomically once [`SYNC_INTERVAL`] has passed, right after the file is synced,
//!   and at the end, so it never claims a byte that is not on disk.
//! - On start, anything past the recorded length (a torn record) is cut, and the listing
//!   resumes from the checkpoint: a run killed at any instant and rerun leaves every chat in
//!   the file exactly once. A rerun with another listing or format is refused.
//! - A rerun of a finished export lists what is new, and reads again, in narrow windows, the
//!   chats that may have changed (still going on when written, at any age, or recent); it
//!   appends the newer record of each one whose record differs: the last record of an id is
//!   its newest state. New chats and updated ones come from one listing, recorded by one
//!   checkpoint.
//! - Only files the export made are written: a non-empty file without a state of this export
//!   is refused untouched, and so is a symbolic link (at the file or at its state); files are
//!   created owner-only (0600), and an existing export file others could read is made so.

use crate::format::{CsvEncoder, Encoder, RoomNames};
use crate::refresh::Refresh;
use crate::{Error, Format, Observer};
use giosg_model::{Chat, ChatFilter, DateTime, Utc, Uuid};
use giosg_query::{Checkpoint, Completeness, ListingIdentity, MAX_PAGE_SIZE};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod state;

use state::{State, Written, STATE_VERSION};

/// How long appending goes on between two syncs to disk (and saves of the state): a time
/// rather than a count of chats, so that a fast export does not spend its time waiting for
/// the disk.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// The most encoded chats held before they are appended, in bytes.
#[cfg(feature = "async")]
const MAX_BATCH: usize = 1 << 20;

/// An export to run: what to list, and where to write it.
///
/// ```
/// use giosg_blocking::{ChatFilter, Client};
/// use giosg_sync::{Export, Format};
///
/// let mock = giosg_mock::MockServer::builder().generated(1, 120).start()?;
/// let client = Client::builder().base_url(mock.base_url()).token(mock.token()).build()?;
/// let dir = tempfile::tempdir()?;
/// let export = Export::new(mock.org(), ChatFilter::new(), dir.path().join("chats.jsonl"), Format::Jsonl);
/// assert_eq!(export.run_blocking(&client, &mut ())?.written, 120);
/// // A rerun appends only what is new or changed.
/// assert_eq!(export.run_blocking(&client, &mut ())?.written, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Export {
    /// The organisation.
    pub org: Uuid,
    /// The filter; its `since_id` is where a new file starts.
    pub filter: ChatFilter,
    /// The file.
    pub out: PathBuf,
    /// The format.
    pub format: Format,
    /// Which chats a rerun reads again.
    pub refresh: Refresh,
    /// Requests in flight at most (the async client).
    pub concurrency: usize,
    /// With a CSV format, text cells as the API sent them, formulas included (by default a
    /// cell a spreadsheet would evaluate is neutralised; see [`crate::format::CsvEncoder`]).
    pub csv_raw: bool,
    /// The private keys that decrypt encrypted chats before they are written; without, they
    /// are written as they came (and counted).
    pub keyring: Option<std::sync::Arc<giosg_decrypt::Keyring>>,
}

/// What an export did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportReport {
    /// Chats appended by this run that the file did not hold.
    pub written: u64,
    /// Newer records of chats the file held, appended by this run.
    pub updated: u64,
    /// Whether the file held an earlier run's chats, which this run continued.
    pub resumed: bool,
    /// Bytes of a torn tail (past what the state accounts for) that were cut.
    pub cut: u64,
    /// How the listing went: requests, chats read again, anomalies.
    pub completeness: Completeness,
    /// Encrypted chats met, decrypted, and those that could not be (written as they came).
    pub decryption: giosg_decrypt::Tally,
}

impl Export {
    /// An export of `org`'s chats with `filter` into `out`: a 3-day lookback, 4 requests at
    /// once.
    pub fn new(org: Uuid, filter: ChatFilter, out: impl Into<PathBuf>, format: Format) -> Self {
        Export {
            org,
            filter,
            out: out.into(),
            format,
            refresh: Refresh::default(),
            concurrency: 4,
            csv_raw: false,
            keyring: None,
        }
    }

    /// Decrypts encrypted chats with these keys before they are written
    /// ([`giosg_decrypt::decrypt_all`]): the text goes into each log's `message`,
    /// `encrypted_message` stays as the server sent it; a chat that cannot be decrypted is
    /// written as it came and named in [`ExportReport::decryption`].
    pub fn decrypt(mut self, keyring: std::sync::Arc<giosg_decrypt::Keyring>) -> Self {
        self.keyring = Some(keyring);
        self
    }

    /// Writes CSV text cells as the API sent them (`raw`), or neutralises those a spreadsheet
    /// would evaluate (the default).
    pub fn csv_raw(mut self, raw: bool) -> Self {
        self.csv_raw = raw;
        self
    }

    /// The format as the state records it: its name, `-raw` for raw CSV.
    fn format_name(&self) -> String {
        match (self.format, self.csv_raw) {
            (Format::Csv | Format::CsvLogs, true) => format!("{}-raw", self.format.name()),
            (format, _) => format.name().to_owned(),
        }
    }

    /// Sets the refresh rule.
    pub fn refresh(mut self, refresh: Refresh) -> Self {
        self.refresh = refresh;
        self
    }

    /// Sets the requests in flight at most (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// The listing the file holds.
    pub fn listing(&self) -> ListingIdentity {
        ListingIdentity::new(self.org, &self.filter)
    }

    /// Runs the export with the blocking client.
    #[cfg(feature = "blocking")]
    pub fn run_blocking<T: giosg_transport::Transport>(
        &self,
        client: &giosg_transport::Client<T>,
        observer: &mut dyn Observer,
    ) -> Result<ExportReport, Error> {
        // The file is checked (and refused) before any request.
        let (mut session, resume) = Session::open(self)?;
        if self.format.names_rooms() {
            let listed = client
                .rooms(self.org)
                .include_deleted(true)
                .iter()
                .collect();
            session.encoder = self
                .format
                .encoder(self.csv_raw, room_names(listed, observer));
        }
        let mut listing = client.chats(self.org).filter(self.filter.clone());
        if let Some(checkpoint) = resume {
            listing = listing.resume(checkpoint);
        }
        let mut pages = listing.pages();
        while let Some(page) = pages.next() {
            let mut page = match page {
                Ok(page) => page,
                Err(e) => return Err(session.stopped(e, pages.checkpoint())),
            };
            session.tell_expected(observer, &pages.completeness());
            session.decrypt(self, &mut page.results);
            session.page(&page.results, observer)?;
            session.flush(pages.checkpoint(), false)?;
        }
        session.finish(pages.checkpoint(), pages.completeness(), observer)
    }

    /// Runs the export with the async client, `concurrency` requests at once.
    ///
    /// ```
    /// use giosg_async::{ChatFilter, Client};
    /// use giosg_sync::{Export, Format};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mock = giosg_mock::MockServer::builder().generated(1, 120).start()?;
    /// let client = Client::builder().base_url(mock.base_url()).token(mock.token()).build()?;
    /// let dir = tempfile::tempdir()?;
    /// let export = Export::new(mock.org(), ChatFilter::new(), dir.path().join("chats.csv"), Format::Csv)
    ///     .concurrency(8);
    /// assert_eq!(export.run(&client, &mut ()).await?.written, 120);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "async")]
    pub async fn run<T: giosg_transport::AsyncTransport + 'static>(
        &self,
        client: &giosg_transport::AsyncClient<T>,
        observer: &mut (dyn Observer + Send),
    ) -> Result<ExportReport, Error> {
        use futures_util::{FutureExt, TryStreamExt};
        // The file is checked (and refused) before any request.
        let (mut session, resume) = Session::open(self)?;
        if self.format.names_rooms() {
            let listed = client
                .rooms(self.org)
                .include_deleted(true)
                .stream()
                .try_collect()
                .await;
            session.encoder = self
                .format
                .encoder(self.csv_raw, room_names(listed, observer));
        }
        let mut listing = client
            .chats(self.org)
            .filter(self.filter.clone())
            .concurrency(self.concurrency)
            .unordered();
        if let Some(checkpoint) = resume {
            listing = listing.resume(checkpoint);
        }
        let mut pages = listing.pages();
        loop {
            // What has arrived is appended in one write before waiting for more: a page of
            // chats costs one system call, not one per chat.
            let next = match pages.try_next().now_or_never() {
                Some(next) => next,
                None => {
                    session.flush(pages.checkpoint(), false)?;
                    pages.try_next().await
                }
            };
            let mut page = match next {
                Ok(Some(page)) => page,
                Ok(None) => break,
                Err(e) => return Err(session.stopped(e, pages.checkpoint())),
            };
            session.tell_expected(observer, &pages.completeness());
            session.decrypt(self, &mut page.results);
            session.page(&page.results, observer)?;
            if session.buf.len() >= MAX_BATCH {
                session.flush(pages.checkpoint(), false)?;
            }
        }
        session.finish(pages.checkpoint(), pages.completeness(), observer)
    }
}

/// An export file open for appending, with its state.
struct Session {
    out: PathBuf,
    file: File,
    /// The file's length.
    len: u64,
    /// Encoded chats (whole records) not yet appended.
    buf: Vec<u8>,
    encoder: Box<dyn Encoder + Send>,
    state: State,
    refresh: Refresh,
    now: DateTime<Utc>,
    synced: Instant,
    report: ExportReport,
    /// Whether this run created the file (removed again if it stops before writing a chat).
    created: bool,
    told_expected: bool,
    /// A chat's record, reused.
    record: Vec<u8>,
}

impl Session {
    /// Opens (or creates) the file and its state, refusing a file that is not this export's,
    /// cuts what the state does not account for, and plans what to list: the checkpoint to
    /// resume from (`None`: the whole listing, from the filter's `since_id`).
    fn open(export: &Export) -> Result<(Session, Option<Checkpoint>), Error> {
        let out = export.out.clone();
        if export.filter.page.is_some() {
            return Err(Error::Unsupported(
                "an export lists by keyset from where it got: leave out the page",
            ));
        }
        if giosg_query::query::validate_keyset(export.filter.ordering.as_ref()).is_err() {
            return Err(Error::Unsupported(
                "an export resumes by keyset: export in an ascending order (the default) and sort afterwards",
            ));
        }
        let listing = export.listing();
        let fresh = State {
            version: STATE_VERSION,
            listing: listing.clone(),
            format: export.format_name(),
            offset: 0,
            checkpoint: None,
            boundary: None,
            chats: 0,
            first_start: None,
            last_start: None,
            followed: Default::default(),
        };
        // The state says whose the file is: checked before the file is opened or created.
        let saved = state::load(&out)?;
        if let Some(saved) = &saved {
            if saved.listing != fresh.listing || saved.format != fresh.format {
                let query = if saved.listing.query().is_empty() {
                    "no filters"
                } else {
                    saved.listing.query()
                };
                return Err(Error::refused(
                    &out,
                    format!(
                        "was started with other options (format {}, {query}); rerun with the same filters, ordering and format (csv-raw: --csv-raw), or choose another --out",
                        saved.format
                    ),
                ));
            }
        }
        let (mut file, opened) = giosg_store::file::open_private(&out).map_err(|e| match e {
            giosg_store::Error::Symlink => Error::refused(
                &out,
                "is a symbolic link: an export writes only a file of its own; give the file's own path",
            ),
            giosg_store::Error::File(e) => Error::file(&out, e),
            other => Error::Store(other),
        })?;
        if let Some(mode) = opened.tightened_from {
            tracing::info!(
                mode = format!("{mode:o}"),
                "made the export file owner-only"
            );
        }
        let len = file.metadata().map_err(|e| Error::file(&out, e))?.len();
        let header = match export.format {
            Format::Jsonl => None,
            Format::Csv => Some(CsvEncoder::new(false).header()),
            Format::CsvLogs => Some(CsvEncoder::new(true).header()),
        };
        let (state, resumed) = match saved {
            Some(saved) if saved.offset > len => {
                return Err(Error::refused(
                    &out,
                    format!(
                        "is shorter ({len} bytes) than its state says ({} bytes): it was changed by something else; choose another --out",
                        saved.offset
                    ),
                ));
            }
            Some(saved) => {
                let resumed = saved.offset > header.as_ref().map_or(0, Vec::len) as u64;
                (saved, resumed)
            }
            None if len > 0 => {
                return Err(Error::refused(
                    &out,
                    format!(
                        "exists and is not an export of giosg's (it has no {}): nothing was changed; choose another --out, or remove the file",
                        state::path_of(&out).display()
                    ),
                ));
            }
            None => {
                // Recorded before a byte is written: whatever is written from here on is
                // proven ours.
                state::save(&out, &fresh)?;
                (fresh, false)
            }
        };
        let keep = state.offset;
        let cut = len - keep;
        if cut > 0 {
            tracing::info!(bytes = cut, "cutting an incomplete tail");
            file.set_len(keep)
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::file(&out, e))?;
        }
        if opened.created {
            state::sync_dir(&out);
        }
        file.seek(SeekFrom::End(0))
            .map_err(|e| Error::file(&out, e))?;
        let now = crate::refresh::now();
        let mut session = Session {
            out,
            file,
            len: keep,
            buf: Vec::new(),
            encoder: export.format.encoder(export.csv_raw, RoomNames::default()),
            state,
            refresh: export.refresh,
            now,
            synced: Instant::now(),
            report: ExportReport {
                resumed,
                cut,
                ..ExportReport::default()
            },
            created: opened.created,
            told_expected: false,
            record: Vec::new(),
        };
        if keep == 0 {
            if let Some(header) = header {
                session.buf.extend_from_slice(&header);
            }
        }
        let resume = session.plan(export);
        session.flush(resume.clone(), true)?;
        Ok((session, resume))
    }

    /// What to list: the whole listing for a new file; the checkpoint of a run that did not
    /// finish as it is; otherwise the checkpoint continued with narrow windows around the
    /// chats written that may have changed.
    fn plan(&mut self, export: &Export) -> Option<Checkpoint> {
        let checkpoint = self.state.checkpoint.clone()?;
        if self.state.boundary.is_some() {
            return Some(checkpoint);
        }
        let now = self.now;
        let rule = self.refresh;
        let around: Vec<DateTime<Utc>> = self
            .state
            .followed
            .values()
            .filter(|w| rule.rereads(w.start, w.open, now))
            .filter_map(|w| w.start)
            .collect();
        // The copy holds no index of the file: estimate the chats in a window from the density
        // of those written.
        let density = match (self.state.first_start, self.state.last_start) {
            (Some(first), Some(last)) if last > first => {
                self.state.chats as f64 / (last - first).num_milliseconds().max(1) as f64
            }
            _ => 0.0,
        };
        let page_size = export.filter.page_size.unwrap_or(MAX_PAGE_SIZE);
        let followed = &self.state.followed;
        let chats_in = |lo: DateTime<Utc>, hi: DateTime<Utc>| {
            let estimate = ((hi - lo).num_milliseconds() as f64 * density).ceil() as u64;
            let known = followed
                .values()
                .filter(|w| w.start.is_some_and(|t| t >= lo && t < hi))
                .count() as u64;
            estimate.max(known)
        };
        match checkpoint.revisit(&around, page_size, chats_in) {
            Some((plan, boundary)) => {
                self.state.boundary = Some(boundary);
                self.state.checkpoint = Some(plan.clone());
                Some(plan)
            }
            None => Some(checkpoint),
        }
    }

    fn tell_expected(&mut self, observer: &mut dyn Observer, completeness: &Completeness) {
        if let (false, false, Some(expected)) = (
            self.told_expected,
            self.report.resumed,
            completeness.expected,
        ) {
            observer.expected(expected);
            self.told_expected = true;
        }
    }

    /// Decrypts a page's encrypted chats with the export's keys (or counts them).
    fn decrypt(&mut self, export: &Export, chats: &mut [Chat]) {
        let tally = giosg_decrypt::decrypt_all(export.keyring.as_deref(), chats);
        self.report.decryption.add(tally);
    }

    /// Encodes a page's chats: a chat after the boundary (or any, without one) is new; one at
    /// or before it was written by an earlier run and is appended again only if its record
    /// changed.
    fn page(&mut self, chats: &[Chat], observer: &mut dyn Observer) -> Result<(), Error> {
        let mut handled = 0;
        for chat in chats {
            self.record.clear();
            self.encoder
                .chat(chat, &mut self.record)
                .map_err(|e| Error::file(&self.out, e))?;
            let now = Written::of(chat, &self.record);
            let old = match (self.state.boundary, chat.start_time) {
                (Some(b), Some(start)) => (start, chat.id) <= b,
                _ => false,
            };
            if old {
                match self.state.followed.get(&chat.id) {
                    Some(was) if was.record != now.record => self.report.updated += 1,
                    // Unchanged, or not followed (written, and not expected to change).
                    _ => continue,
                }
            } else {
                self.report.written += 1;
                self.state.chats += 1;
                if let Some(t) = chat.start_time {
                    self.state.first_start = Some(self.state.first_start.map_or(t, |a| a.min(t)));
                    self.state.last_start = Some(self.state.last_start.map_or(t, |a| a.max(t)));
                }
            }
            self.buf.extend_from_slice(&self.record);
            if self.refresh.rereads_chat(chat, self.now) {
                self.state.followed.insert(chat.id, now);
            } else {
                self.state.followed.remove(&chat.id);
            }
            handled += 1;
        }
        observer.chats(handled);
        Ok(())
    }

    /// Appends what waits; once [`SYNC_INTERVAL`] has passed (or when `force`d), syncs the
    /// file and then records the state: the file's length, the listing's checkpoint and the
    /// chats still followed.
    fn flush(&mut self, checkpoint: Option<Checkpoint>, force: bool) -> Result<(), Error> {
        if !self.buf.is_empty() {
            self.file
                .write_all(&self.buf)
                .map_err(|e| Error::file(&self.out, e))?;
            self.len += self.buf.len() as u64;
            self.buf.clear();
        }
        if !force && self.synced.elapsed() < SYNC_INTERVAL {
            return Ok(());
        }
        self.file
            .sync_data()
            .map_err(|e| Error::file(&self.out, e))?;
        self.state.offset = self.len;
        if checkpoint.is_some() {
            self.state.checkpoint = checkpoint;
        }
        let (rule, now) = (self.refresh, self.now);
        self.state
            .followed
            .retain(|_, w| rule.rereads(w.start, w.open, now));
        state::save(&self.out, &self.state)?;
        self.synced = Instant::now();
        Ok(())
    }

    /// After a failed request: saves what was written, or removes the file and its state if
    /// this run made them and wrote no chat; the error to return.
    fn stopped(&mut self, e: giosg_query::Error, checkpoint: Option<Checkpoint>) -> Error {
        if self.created && self.report.written == 0 && self.report.updated == 0 {
            let _ = std::fs::remove_file(&self.out);
            let _ = std::fs::remove_file(state::path_of(&self.out));
            state::sync_dir(&self.out);
            return Error::Stopped { source: e, done: 0 };
        }
        match self.flush(checkpoint, true) {
            Ok(()) => Error::Stopped {
                source: e,
                done: self.report.written + self.report.updated,
            },
            Err(saving) => saving,
        }
    }

    /// Ends a listing that completed: the run is over (the next one plans anew).
    fn finish(
        mut self,
        checkpoint: Option<Checkpoint>,
        completeness: Completeness,
        observer: &mut dyn Observer,
    ) -> Result<ExportReport, Error> {
        self.state.boundary = None;
        self.flush(checkpoint, true)?;
        observer.listed(&completeness);
        self.report.completeness = completeness;
        Ok(self.report)
    }
}

/// The rooms' names to show by id, or none (and a warning) when they could not be read: the
/// export goes on with empty `room_name` cells.
fn room_names(
    listed: Result<Vec<giosg_model::Room>, giosg_query::Error>,
    observer: &mut dyn Observer,
) -> RoomNames {
    match listed {
        Ok(rooms) => crate::format::room_names(rooms),
        Err(e) => {
            observer.warning(&format!(
                "the rooms could not be read ({}); room_name is left empty",
                e.display_chain()
            ));
            RoomNames::default()
        }
    }
}

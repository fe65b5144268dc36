//! The sync: keeps a [`Store`] true to the API.
//!
//! A run is planned from what the store holds ([`plan`]), then listed page by page, each page
//! committed with the listing's checkpoint after it ([`Store::store_page`]), then finished
//! ([`Store::finish_run`]):
//! - a run left unfinished (killed, or its listing failed) is continued from its checkpoint:
//!   no page it committed is listed again;
//! - otherwise a new run lists every chat the first time, or with `full`; later, every chat
//!   that started since the last complete run got or within the lookback, and each chat stored
//!   while it was still going on, at any age, in a narrow window around it
//!   ([`Checkpoint::revisiting`]);
//! - a full run marks, once it completes, every stored chat it did not list as missing.

use crate::{Error, Observer, Refresh};
use giosg_decrypt::{decrypt_all, Keyring, Tally};
#[cfg(feature = "async")]
use giosg_model::Chat;
use giosg_model::{ChatFilter, DateTime, Utc, Uuid};
use giosg_query::{Checkpoint, Completeness, ListingIdentity, MAX_PAGE_SIZE};
use giosg_store::{Run, Store, Upserted};
use std::fmt;
use std::sync::Arc;

/// What to sync, and how.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SyncOptions {
    /// The organisation.
    pub org: Uuid,
    /// The filters the copy is for (in the default order, without `since_id`).
    pub filter: ChatFilter,
    /// Which chats are read again.
    pub refresh: Refresh,
    /// List everything, and mark what the server no longer serves.
    pub full: bool,
    /// Requests in flight at most (the async client; the blocking one sends one at a time).
    pub concurrency: usize,
    /// The private keys that decrypt encrypted chats before they are stored; without, they
    /// are stored as they came (and counted).
    pub keyring: Option<Arc<Keyring>>,
}

impl SyncOptions {
    /// A sync of `org`'s chats with `filter`: incremental, a 3-day lookback, 4 requests at once.
    pub fn new(org: Uuid, filter: ChatFilter) -> Self {
        SyncOptions {
            org,
            filter,
            refresh: Refresh::default(),
            full: false,
            concurrency: 4,
            keyring: None,
        }
    }

    /// Decrypts encrypted chats with these keys before they are stored
    /// ([`giosg_decrypt::decrypt_all`]): the text goes into each log's `message`,
    /// `encrypted_message` stays as the server sent it; a chat that cannot be decrypted is
    /// stored as it came and named in [`SyncReport::decryption`].
    pub fn decrypt(mut self, keyring: Arc<Keyring>) -> Self {
        self.keyring = Some(keyring);
        self
    }

    /// Sets the refresh rule.
    pub fn refresh(mut self, refresh: Refresh) -> Self {
        self.refresh = refresh;
        self
    }

    /// Lists everything and marks what the server no longer serves.
    pub fn full(mut self, full: bool) -> Self {
        self.full = full;
        self
    }

    /// Sets the requests in flight at most (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// The listing the store must be for.
    pub fn listing(&self) -> ListingIdentity {
        ListingIdentity::new(self.org, &self.filter)
    }
}

/// What a sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncReport {
    /// New, updated and unchanged chats stored by this run (by this process).
    pub stored: Upserted,
    /// Chats newly marked missing (a full sync).
    pub missing: u64,
    /// Whether this run continued one that was killed or failed.
    pub continued: bool,
    /// How the listing went: requests made, chats read again in narrow windows and the
    /// requests they took, anomalies resolved.
    pub completeness: Completeness,
    /// Rooms stored (deleted ones included), `None` when they could not be read.
    pub rooms: Option<u64>,
    /// Users stored (deleted ones included), `None` when they could not be read.
    pub users: Option<u64>,
    /// Encrypted chats met, decrypted, and those that could not be (stored as they came).
    pub decryption: Tally,
}

impl fmt::Display for SyncReport {
    /// `120 chats: 3 new, 2 updated, 115 unchanged; re-read 4 chats in 4 requests`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let u = &self.stored;
        let total = u.new + u.updated + u.unchanged;
        let s = if total == 1 { "" } else { "s" };
        write!(
            f,
            "{total} chat{s}: {} new, {} updated, {} unchanged",
            u.new, u.updated, u.unchanged
        )?;
        let c = &self.completeness;
        if c.revisit_requests > 0 {
            write!(
                f,
                "; {} chats read again around those open at the last run, in {} requests",
                c.revisited, c.revisit_requests
            )?;
        }
        write!(f, "; {} requests", c.requests)?;
        if let (Some(rooms), Some(users)) = (self.rooms, self.users) {
            write!(f, "; {rooms} rooms and {users} users")?;
        }
        if self.missing > 0 {
            write!(f, "; {} no longer served (marked missing)", self.missing)?;
        }
        if self.decryption.encrypted > 0 {
            write!(f, "; {}", self.decryption)?;
        }
        if self.continued {
            f.write_str(" (continued where the last run stopped)")?;
        }
        Ok(())
    }
}

/// A run to list: the store's record of it, and where its listing starts (`None`: the whole
/// listing, fresh).
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) run: Run,
    pub(crate) resume: Option<Checkpoint>,
    pub(crate) continued: bool,
}

/// Plans the next run at `now`: continues the run in progress, or begins one.
pub(crate) fn plan(
    store: &mut Store,
    options: &SyncOptions,
    now: DateTime<Utc>,
) -> Result<Plan, Error> {
    if options.filter.ordering.is_some() || options.filter.since_id.is_some() {
        return Err(Error::Unsupported(
            "a sync lists in the default order (start time) from where it got: leave out the ordering and since_id",
        ));
    }
    let listing = options.listing();
    if let Some(run) = store.run_in_progress()? {
        // A run in progress goes on, unless a full one is asked of a run that is not.
        if run.full || !options.full {
            let resume = Some(run.checkpoint.clone());
            return Ok(Plan {
                run,
                resume,
                continued: true,
            });
        }
    }
    let from = match store.listed_until()? {
        Some(until) if !options.full => Some(until.min(options.refresh.recent_since(now))),
        _ => None,
    };
    let Some(from) = from else {
        let run = store.begin_run(options.full, &Checkpoint::after(listing, None))?;
        return Ok(Plan {
            run,
            resume: None,
            continued: false,
        });
    };
    let open = store.open_chat_starts()?;
    let page_size = options.filter.page_size.unwrap_or(MAX_PAGE_SIZE);
    let mut failed = None;
    let checkpoint = Checkpoint::revisiting(listing, Some(from), &open, page_size, |lo, hi| {
        store.chats_started_in(lo, hi).unwrap_or_else(|e| {
            failed.get_or_insert(e);
            u64::MAX
        })
    });
    if let Some(e) = failed {
        return Err(e.into());
    }
    let run = store.begin_run(false, &checkpoint)?;
    Ok(Plan {
        run,
        resume: Some(checkpoint),
        continued: false,
    })
}

/// Ends a run whose listing completed.
fn finish(
    store: &mut Store,
    plan: &Plan,
    stored: Upserted,
    completeness: Completeness,
    observer: &mut dyn Observer,
) -> Result<SyncReport, Error> {
    let missing = store.finish_run(&plan.run)?;
    observer.listed(&completeness);
    Ok(SyncReport {
        stored,
        missing,
        continued: plan.continued,
        completeness,
        rooms: None,
        users: None,
        decryption: Tally::default(),
    })
}

/// Stores what a directory listing brought, or says on the observer why it could not be read
/// (a token without the permission, say): the chats are synced all the same.
fn directory<R>(
    what: &str,
    listed: Result<Vec<R>, giosg_query::Error>,
    store: impl FnOnce(&[R]) -> Result<u64, giosg_store::Error>,
    observer: &mut dyn Observer,
) -> Result<Option<u64>, Error> {
    match listed {
        Ok(items) => {
            store(&items)?;
            Ok(Some(items.len() as u64))
        }
        Err(e) => {
            observer.warning(&format!(
                "the {what} could not be read ({}); chats are synced without their names",
                e.display_chain()
            ));
            Ok(None)
        }
    }
}

/// Syncs `store` with the blocking client: plans the run, lists and stores page by page,
/// finishes it. On an error, what was stored stays, and the next sync continues from there.
///
/// ```
/// use giosg_blocking::{ChatFilter, Client};
/// use giosg_sync::{Store, SyncOptions};
///
/// let mock = giosg_mock::MockServer::builder().generated(1, 250).start()?;
/// let client = Client::builder().base_url(mock.base_url()).token(mock.token()).build()?;
/// let dir = tempfile::tempdir()?;
/// let options = SyncOptions::new(mock.org(), ChatFilter::new());
/// let mut store = Store::open(&dir.path().join("chats.db"), &options.listing())?;
/// let report = giosg_sync::sync_blocking(&client, &mut store, &options, &mut ())?;
/// assert_eq!(report.stored.new, 250);
/// let again = giosg_sync::sync_blocking(&client, &mut store, &options, &mut ())?;
/// assert_eq!(again.stored.new, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "blocking")]
pub fn sync_blocking<T: giosg_transport::Transport>(
    client: &giosg_transport::Client<T>,
    store: &mut Store,
    options: &SyncOptions,
    observer: &mut dyn Observer,
) -> Result<SyncReport, Error> {
    let plan = plan(store, options, crate::refresh::now())?;
    let mut listing = client.chats(options.org).filter(options.filter.clone());
    if let Some(checkpoint) = &plan.resume {
        listing = listing.resume(checkpoint.clone());
    }
    let mut pages = listing.pages();
    let mut stored = Upserted::default();
    let mut told = false;
    let mut decryption = Tally::default();
    while let Some(page) = pages.next() {
        let mut page = page.map_err(|source| Error::Stopped {
            source,
            done: stored.new + stored.updated + stored.unchanged,
        })?;
        tell_expected(observer, &mut told, &pages.completeness());
        let checkpoint = pages
            .checkpoint()
            .expect("keyset listings have checkpoints");
        decryption.add(decrypt_all(options.keyring.as_deref(), &mut page.results));
        stored += store.store_page(&plan.run, &page.results, &checkpoint)?;
        observer.chats(page.results.len() as u64);
    }
    let mut report = finish(store, &plan, stored, pages.completeness(), observer)?;
    report.decryption = decryption;
    let rooms = client
        .rooms(options.org)
        .include_deleted(true)
        .iter()
        .collect();
    report.rooms = directory("rooms", rooms, |r| store.store_rooms(r), observer)?;
    let users = client
        .users(options.org)
        .include_deleted(true)
        .iter()
        .collect();
    report.users = directory("users", users, |u| store.store_users(u), observer)?;
    Ok(report)
}

fn tell_expected(observer: &mut dyn Observer, told: &mut bool, completeness: &Completeness) {
    if let (false, Some(expected)) = (*told, completeness.expected) {
        observer.expected(expected);
        *told = true;
    }
}

/// Syncs `store` with the async client, `options.concurrency` requests at once; the store
/// writes on a thread of its own, a few pages behind the listing. Returns the store with the
/// report. On an error, what was stored stays, and the next sync continues from there.
///
/// ```
/// use giosg_async::{ChatFilter, Client};
/// use giosg_sync::{Store, SyncOptions};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mock = giosg_mock::MockServer::builder().generated(1, 250).start()?;
/// let client = Client::builder().base_url(mock.base_url()).token(mock.token()).build()?;
/// let dir = tempfile::tempdir()?;
/// let options = SyncOptions::new(mock.org(), ChatFilter::new()).concurrency(8);
/// let store = Store::open(&dir.path().join("chats.db"), &options.listing())?;
/// let (_store, report) = giosg_sync::sync(&client, store, &options, &mut ()).await?;
/// assert_eq!(report.stored.new, 250);
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "async")]
pub async fn sync<T: giosg_transport::AsyncTransport + 'static>(
    client: &giosg_transport::AsyncClient<T>,
    mut store: Store,
    options: &SyncOptions,
    observer: &mut (dyn Observer + Send),
) -> Result<(Store, SyncReport), Error> {
    use futures_util::TryStreamExt;
    let plan = plan(&mut store, options, crate::refresh::now())?;
    let mut listing = client
        .chats(options.org)
        .filter(options.filter.clone())
        .concurrency(options.concurrency)
        .unordered();
    if let Some(checkpoint) = &plan.resume {
        listing = listing.resume(checkpoint.clone());
    }
    let mut pages = listing.pages();
    let (to_writer, writer) = Writer::start(store, plan.run.clone(), options.keyring.clone());
    let mut told = false;
    // The rooms and users are read while the chats are listed: at a real network's latency
    // their requests cost nothing more.
    let listing = async {
        let listed: Result<(), giosg_query::Error> = async {
            while let Some(page) = pages.try_next().await? {
                tell_expected(observer, &mut told, &pages.completeness());
                let n = page.results.len() as u64;
                let checkpoint = pages
                    .checkpoint()
                    .expect("keyset listings have checkpoints");
                if to_writer.send((page.results, checkpoint)).await.is_err() {
                    // The writer failed: its error is the one to tell.
                    break;
                }
                observer.chats(n);
            }
            Ok(())
        }
        .await;
        drop(to_writer);
        listed
    };
    let directories = futures_util::future::join(
        client
            .rooms(options.org)
            .include_deleted(true)
            .stream()
            .try_collect::<Vec<_>>(),
        client
            .users(options.org)
            .include_deleted(true)
            .stream()
            .try_collect::<Vec<_>>(),
    );
    let (listed, (rooms, users)) = futures_util::future::join(listing, directories).await;
    let (mut store, stored) = writer.finish();
    let (stored, decryption) = stored?;
    listed.map_err(|source| Error::Stopped {
        source,
        done: stored.new + stored.updated + stored.unchanged,
    })?;
    let mut report = finish(&mut store, &plan, stored, pages.completeness(), observer)?;
    report.decryption = decryption;
    report.rooms = directory("rooms", rooms, |r| store.store_rooms(r), observer)?;
    report.users = directory("users", users, |u| store.store_users(u), observer)?;
    Ok((store, report))
}

/// The thread that decrypts (with the keys given) and stores pages, each in one transaction
/// with its checkpoint.
#[cfg(feature = "async")]
struct Writer {
    thread: std::thread::JoinHandle<(Store, Result<Written, giosg_store::Error>)>,
}

/// What the writer stored, and what its decryption did.
#[cfg(feature = "async")]
type Written = (Upserted, Tally);

#[cfg(feature = "async")]
impl Writer {
    /// Pages the listing may run ahead of the store (and the most one transaction holds).
    const AHEAD: usize = 8;

    fn start(
        mut store: Store,
        run: Run,
        keyring: Option<Arc<Keyring>>,
    ) -> (tokio::sync::mpsc::Sender<(Vec<Chat>, Checkpoint)>, Writer) {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<(Vec<Chat>, Checkpoint)>(Self::AHEAD);
        let thread = std::thread::spawn(move || {
            let mut total = Upserted::default();
            let mut decryption = Tally::default();
            while let Some((mut chats, mut checkpoint)) = rx.blocking_recv() {
                // The pages that wait go in the same transaction, with the checkpoint after
                // the last of them: fewer commits when the store is behind.
                while let Ok((more, after)) = rx.try_recv() {
                    chats.extend(more);
                    checkpoint = after;
                }
                decryption.add(decrypt_all(keyring.as_deref(), &mut chats));
                match store.store_page(&run, &chats, &checkpoint) {
                    Ok(u) => total += u,
                    Err(e) => return (store, Err(e)),
                }
            }
            (store, Ok((total, decryption)))
        });
        (tx, Writer { thread })
    }

    /// Waits for the writer to store what it was given.
    fn finish(self) -> (Store, Result<Written, Error>) {
        let (store, result) = self
            .thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (store, result.map_err(Error::from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use giosg_model::time;

    fn store(name: &str, options: &SyncOptions) -> (tempfile::TempDir, Store) {
        let dir = tempfile::Builder::new().prefix(name).tempdir().unwrap();
        let store = Store::open(dir.path().join("chats.db"), &options.listing()).unwrap();
        (dir, store)
    }

    /// The plan, from the store's state: the whole listing first; then new and recent chats,
    /// and narrow windows around the chats stored while open, at any age.
    #[test]
    fn a_run_lists_what_is_new_recent_or_was_open() {
        let options = SyncOptions::new(Uuid::from_u128(1), ChatFilter::new());
        let (_dir, mut store) = store("plan", &options);
        let now = time::parse("2026-11-24T12:00:00Z").unwrap();
        let first = plan(&mut store, &options, now).unwrap();
        assert!(first.resume.is_none() && !first.continued);
        let mut chats = giosg_mock::generate(3, 40);
        for (i, c) in chats.iter_mut().enumerate() {
            c.start_time = Some(now - chrono::TimeDelta::days(800 - 10 * i as i64));
            c.end_time = (i % 10 != 0).then_some(c.start_time.unwrap());
        }
        let cp = Checkpoint::after(options.listing(), None);
        store.store_page(&first.run, &chats, &cp).unwrap();
        // Killed before it finished: the next plan continues it.
        let again = plan(&mut store, &options, now).unwrap();
        assert!(again.continued);
        assert_eq!(again.run.id, first.run.id);
        // A full sync asked meanwhile begins a run of its own.
        let full = plan(&mut store, &options.clone().full(true), now).unwrap();
        assert!(!full.continued && full.run.full && full.resume.is_none());
        store.store_page(&full.run, &chats, &cp).unwrap();
        assert_eq!(store.finish_run(&full.run).unwrap(), 0);
        let next = plan(&mut store, &options, now).unwrap();
        let checkpoint = next.resume.expect("a planned listing");
        // 4 open chats among 40 stored: one page holds them all, one window.
        assert_eq!(checkpoint.revisit_windows(), 1);
        store.finish_run(&next.run).unwrap();
        // In pages of 5, 10 chats apart: 4 narrow windows, the rest, no start time.
        let mut small = options.clone();
        small.filter.page_size = Some(5);
        let checkpoint = plan(&mut store, &small, now).unwrap().resume.unwrap();
        assert_eq!(checkpoint.revisit_windows(), 4);
        assert_eq!(checkpoint.window_count(), 6);
    }

    #[test]
    fn another_order_or_a_cursor_is_refused() {
        let options = SyncOptions::new(Uuid::from_u128(1), ChatFilter::new());
        let (_dir, mut store) = store("refuse", &options);
        let mut bad = options.clone();
        bad.filter.since_id = Some(Uuid::from_u128(5));
        assert!(matches!(
            plan(&mut store, &bad, refresh_now()),
            Err(Error::Unsupported(_))
        ));
    }

    fn refresh_now() -> DateTime<Utc> {
        crate::refresh::now()
    }
}

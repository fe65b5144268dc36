//! A local SQLite copy of an organisation's giosg chats, as `giosg chats sync` keeps it.
//!
//! The file is SQLite 3 (the bundled library: no system SQLite is needed) in WAL mode,
//! created readable by its owner only (it holds conversations and personal data), and opens
//! in `sqlite3`, DuckDB (`ATTACH 'chats.db' (TYPE sqlite)`) or any SQLite tool.
//!
//! Schema version 4 ([`SCHEMA`], `PRAGMA user_version`; an older file is migrated when
//! opened): `chats` has every scalar field of a chat as a column plus the chat's full JSON as
//! the API sent it (`json`, with members the model does not know), when it was fetched and,
//! for a chat the server no longer serves, since when it is missing (`missing_since`). Its
//! children (`chat_logs`, `chat_tags`, `chat_api_data`, `shopping_carts`, `cart_products`)
//! are keyed by the chat row's number (`chat_seq`, joining `chats.seq`) and their position,
//! carry the chat's id (`chat_id`), and go with it. Times are UTC text in SQLite's own form
//! (`2025-01-02 03:04:05.678`, always milliseconds: `WHERE start_time >= datetime('now', '-7
//! days')` compares right), a message's sender and kind are words (`chat_logs.sender`:
//! `operator`, `visitor`; `chat_logs.kind`: `message`, `autosuggest`) beside their codes, money
//! is exact decimal text (`"83.00"`), ids are canonical UUID text. `sync_state` holds the
//! listing the file was made for (organisation and filters, a
//! [`ListingIdentity`]) and how far the last complete sync got; `sync_runs` is the history of
//! syncs, each with its checkpoint, committed together with every page of chats, so that a sync
//! killed at any instant is continued where it stood.
//!
//! The store keeps rows; which chats to list, and when a run is over, are the copy library's
//! (`giosg-sync`) to say.
//!
//! ```
//! use giosg_model::{Chat, ChatFilter, Uuid};
//! use giosg_query::{Checkpoint, ListingIdentity};
//! use giosg_store::{Store, Upserted};
//!
//! let dir = std::env::temp_dir().join(format!("giosg-store-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("chats.db");
//! let listing = ListingIdentity::new(Uuid::from_u128(7), &ChatFilter::new());
//! let mut store = Store::open(&path, &listing)?;
//! let run = store.begin_run(false, &Checkpoint::after(listing.clone(), None))?;
//! let chat = Chat::new(Uuid::from_u128(1));
//! let checkpoint = Checkpoint::after(listing.clone(), Some(chat.id));
//! let first: Upserted = store.store_page(&run, &[chat.clone()], &checkpoint)?;
//! assert_eq!((first.new, first.updated, first.unchanged), (1, 0, 0));
//! assert_eq!(store.store_page(&run, &[chat], &checkpoint)?.unchanged, 1);
//! store.finish_run(&run)?;
//! // Another listing is refused: another organisation, or other filters.
//! drop(store);
//! let unsold = ListingIdentity::new(Uuid::from_u128(7), &ChatFilter::new().has_sales(false));
//! assert!(Store::open(&path, &unsold).is_err());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use giosg_model::{Chat, DateTime, Utc};
use giosg_query::{Checkpoint, ListingIdentity};

pub mod file;
mod location;
#[cfg(feature = "postgres")]
mod postgres;
mod rows;
mod schema;
mod sqlite;

pub use file::Opened;
pub use location::{Location, DEFAULT_SCHEMA};
pub use schema::{SCHEMA, SCHEMA_VERSION};

/// Everything that can go wrong with a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQLite failed (the file is not a database, the disk is full, ...).
    #[error("{0}")]
    Sqlite(DatabaseError),
    /// PostgreSQL refused something: the login, a statement, a permission.
    #[error("PostgreSQL: {0}")]
    Postgres(DatabaseError),
    /// The PostgreSQL server cannot be reached, or the connection to it broke (the server
    /// stopped, the network failed, TLS failed).
    #[error("PostgreSQL connection: {0}")]
    Connection(DatabaseError),
    /// Another sync is writing the same PostgreSQL copy and did not finish within a few
    /// seconds: two never interleave.
    #[error("another giosg sync is writing schema {schema} of this database{} and did not finish within 5 s; try again when it is done", .holder.map(|p| format!(" (server process {p})")).unwrap_or_default())]
    Busy {
        /// The schema the copy is in.
        schema: String,
        /// The server process of the session that holds it, when known.
        holder: Option<i32>,
    },
    /// The location of a store cannot be used as it is written (a bad PostgreSQL URL, an
    /// unknown `sslmode`, a schema name that is not a plain identifier, PostgreSQL asked of a
    /// build without it).
    #[error("{0}")]
    Location(String),
    /// The file could not be created, opened or inspected.
    #[error("cannot open the file")]
    File(#[source] std::io::Error),
    /// The path is a symbolic link: the store opens only the file itself, never where a link
    /// points.
    #[error("the path is a symbolic link; give the file's own path")]
    Symlink,
    /// The file was made for another listing.
    #[error("the database was made for {found}; this sync is for {wanted}: use another file")]
    OtherListing {
        /// What the file holds.
        found: String,
        /// What was asked for.
        wanted: String,
    },
    /// The file was written by an older giosg whose record of its filters left out every
    /// `false` one: it cannot be proven to hold this listing.
    #[error("the database was written by an older giosg that recorded its filters as {recorded:?} (leaving out any that were false), so it cannot be proven to hold {wanted}: sync into a new file, or run one full sync (--full) with the filters it was made with to adopt it")]
    UnprovenListing {
        /// What the file recorded.
        recorded: String,
        /// What was asked for.
        wanted: String,
    },
    /// The file's schema is newer than this version knows.
    #[error("the database has schema version {0}, newer than {SCHEMA_VERSION}: update giosg")]
    NewerSchema(i64),
    /// A stored chat's or checkpoint's JSON does not decode (the file was edited by hand?).
    #[error("stored {what} does not decode")]
    Corrupt {
        /// What: a chat (with its id), or the checkpoint.
        what: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// A failure of the database library, in plain words; the library's own error is its source.
/// Its type is not part of this crate's API: an upgrade of the library is not a breaking
/// change here.
#[derive(Debug)]
pub struct DatabaseError {
    words: String,
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl std::fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.words)
    }
}

impl std::error::Error for DatabaseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // The words already say what the source says when they are its own text.
        if self.words == self.source.to_string() {
            None
        } else {
            Some(&*self.source)
        }
    }
}

/// A SQLite failure as this crate's error (a function, not a `From`: rusqlite's type stays
/// out of this crate's API).
pub(crate) fn sqlite(e: rusqlite::Error) -> Error {
    Error::Sqlite(DatabaseError {
        words: sqlite_words(&e),
        source: Box::new(e),
    })
}

/// What a SQLite failure means for the person who ran the command, in plain words.
fn sqlite_words(e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode as C;
    let plain = match e.sqlite_error_code() {
        Some(C::NotADatabase) => "this file is not a giosg database (not an SQLite file): give the path of one `giosg chats sync` made",
        Some(C::DatabaseBusy | C::DatabaseLocked) => "the database is busy: another program is writing it; try again when it is done",
        Some(C::ReadOnly) => "the database cannot be written (a read-only file or directory): sync into a file you may write, or read it with `summary --db`",
        Some(C::CannotOpen) => "the database cannot be opened: check that its directory exists and may be read",
        Some(C::DiskFull) => "the disk is full",
        Some(C::DatabaseCorrupt) => "the database is damaged: sync into a new file",
        Some(C::PermissionDenied) => "permission denied: check the file's and its directory's permissions",
        _ => return format!("SQLite: {e}"),
    };
    plain.to_owned()
}

/// How many chats were added, replaced, and found unchanged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Upserted {
    /// Chats not in the store before.
    pub new: u64,
    /// Chats whose content changed: their rows were replaced.
    pub updated: u64,
    /// Chats stored as they are.
    pub unchanged: u64,
}

impl std::ops::AddAssign for Upserted {
    fn add_assign(&mut self, other: Self) {
        self.new += other.new;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

/// A sync run as the store records it (`sync_runs`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Run {
    /// Its number.
    pub id: i64,
    /// A full sync: everything is listed, and what is not is marked missing when it finishes.
    pub full: bool,
    /// Where its listing stands, as of the last page stored.
    pub checkpoint: Checkpoint,
    /// What it stored so far.
    pub stored: Upserted,
}

/// A store: one SQLite file, or one schema of a PostgreSQL database, holding one listing of
/// an organisation's chats.
#[derive(Debug)]
pub struct Store {
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    Sqlite(sqlite::Sqlite),
    #[cfg(feature = "postgres")]
    Postgres(postgres::Postgres),
}

/// A time as the store writes it: `2025-01-02 03:04:05.678`, UTC, milliseconds (SQLite's own
/// form, so that `datetime()` and `date()` compare with it).
pub fn sql_time(t: &DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    // Written by hand: a format string is parsed again on every call, and this runs for every
    // time of every chat stored.
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.timestamp_subsec_millis().min(999)
    )
}

/// A time the store wrote ([`sql_time`]).
pub fn parse_sql_time(s: &str) -> Option<DateTime<Utc>> {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

pub(crate) fn ts(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| sql_time(&t))
}

/// Calls the same method on whichever backend the store is.
macro_rules! dispatch {
    ($self:expr, $b:ident => $call:expr) => {
        match $self {
            Backend::Sqlite($b) => $call,
            #[cfg(feature = "postgres")]
            Backend::Postgres($b) => $call,
        }
    };
}

impl Store {
    /// Opens the store at `location` for this listing, creating it and migrating its schema
    /// as needed: a SQLite file (created readable by its owner only; a symbolic link is
    /// refused, and an existing file that others may read is made owner-only, which
    /// [`Store::opened`] says), or a PostgreSQL schema (see [`Location`]; the copy is locked
    /// for this session, so that two syncs never interleave: [`Error::Busy`]). A store made
    /// for another listing is refused, and so is one whose listing an older giosg recorded
    /// ambiguously ([`Error::UnprovenListing`]; see [`Store::adopt`]).
    pub fn open(location: impl Into<Location>, listing: &ListingIdentity) -> Result<Store, Error> {
        Self::open_with(location.into(), listing, false)
    }

    /// Like [`Store::open`], but a store whose listing is unproven is taken for `listing`:
    /// for a full sync, after which the store holds exactly that listing (what it held beyond
    /// it is marked missing).
    pub fn adopt(location: impl Into<Location>, listing: &ListingIdentity) -> Result<Store, Error> {
        Self::open_with(location.into(), listing, true)
    }

    fn open_with(
        location: Location,
        listing: &ListingIdentity,
        adopt: bool,
    ) -> Result<Store, Error> {
        let backend = match location.into_target()? {
            location::Target::File(path) => Backend::Sqlite(if adopt {
                sqlite::Sqlite::adopt(&path, listing)?
            } else {
                sqlite::Sqlite::open(&path, listing)?
            }),
            #[cfg(feature = "postgres")]
            location::Target::Postgres(target) => {
                Backend::Postgres(postgres::Postgres::open(target, listing)?)
            }
        };
        Ok(Store { backend })
    }

    /// Opens an existing store to write it, whatever listing it holds: for work on the copy
    /// itself ([`Store::replace`]), not for a sync.
    pub fn open_existing(location: impl Into<Location>) -> Result<Store, Error> {
        let backend = match location.into().into_target()? {
            location::Target::File(path) => Backend::Sqlite(sqlite::Sqlite::open_existing(&path)?),
            #[cfg(feature = "postgres")]
            location::Target::Postgres(target) => {
                Backend::Postgres(postgres::Postgres::open_existing(target)?)
            }
        };
        Ok(Store { backend })
    }

    /// Opens an existing store to read it only, whatever listing it holds: nothing is written,
    /// not even a file's permissions or schema, so a SQLite file in a read-only directory, or
    /// a read-only file, opens too (as an immutable file when SQLite cannot share it), and a
    /// PostgreSQL role that may only read the schema is enough.
    pub fn open_read_only(location: impl Into<Location>) -> Result<Store, Error> {
        let backend = match location.into().into_target()? {
            location::Target::File(path) => Backend::Sqlite(sqlite::Sqlite::open_read_only(&path)?),
            #[cfg(feature = "postgres")]
            location::Target::Postgres(target) => {
                Backend::Postgres(postgres::Postgres::open_read_only(target)?)
            }
        };
        Ok(Store { backend })
    }

    /// The organisation the store holds chats of.
    pub fn organisation(&self) -> Result<Option<String>, Error> {
        dispatch!(&self.backend, b => b.organisation())
    }

    /// What opening a SQLite file found and did (created it, tightened its permissions); for
    /// PostgreSQL, nothing.
    pub fn opened(&self) -> Opened {
        match &self.backend {
            Backend::Sqlite(b) => *b.opened(),
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => Opened::default(),
        }
    }

    /// The run in progress: one that began and did not finish (it was killed, or its listing
    /// failed), to be continued from its checkpoint.
    pub fn run_in_progress(&self) -> Result<Option<Run>, Error> {
        dispatch!(&self.backend, b => b.run_in_progress())
    }

    /// Begins a run that lists from `checkpoint`; a run left in progress is closed as
    /// abandoned (its pages stay stored).
    pub fn begin_run(&mut self, full: bool, checkpoint: &Checkpoint) -> Result<Run, Error> {
        dispatch!(&mut self.backend, b => b.begin_run(full, checkpoint))
    }

    /// Stores a page of a run's listing in one transaction, together with the checkpoint after
    /// it: a chat not stored yet is inserted, a chat whose content changed has its rows
    /// (children included) replaced, an unchanged one is left as it is; a chat found again is
    /// no longer missing. Killed at any instant, the store holds whole pages and the checkpoint
    /// that accounts for exactly them. A chat given twice is stored as it is given last.
    pub fn store_page(
        &mut self,
        run: &Run,
        chats: &[Chat],
        checkpoint: &Checkpoint,
    ) -> Result<Upserted, Error> {
        dispatch!(&mut self.backend, b => b.store_page(run, chats, checkpoint))
    }

    /// Finishes a run whose listing completed: how far it got becomes where the next sync
    /// lists new chats from, and a full run marks every stored chat it did not list as missing
    /// since now (the server no longer serves it). Returns how many were newly marked.
    pub fn finish_run(&mut self, run: &Run) -> Result<u64, Error> {
        dispatch!(&mut self.backend, b => b.finish_run(run))
    }

    /// Stores the organisation's rooms as the rooms listing returned them, in one transaction:
    /// each room's row is replaced, and a stored room the listing no longer returns is marked
    /// missing (not deleted: chats still name it). Returns how many were newly marked.
    pub fn store_rooms(&mut self, rooms: &[giosg_model::Room]) -> Result<u64, Error> {
        dispatch!(&mut self.backend, b => b.store_rooms(rooms))
    }

    /// Stores the organisation's users as the users listing returned them; see
    /// [`Store::store_rooms`].
    pub fn store_users(&mut self, users: &[giosg_model::User]) -> Result<u64, Error> {
        dispatch!(&mut self.backend, b => b.store_users(users))
    }

    /// The stored rooms' names to show, by id (`display_name`, else `name`; none in a SQLite
    /// file older than schema 4, read as it is).
    pub fn room_names(&self) -> Result<std::collections::HashMap<String, String>, Error> {
        dispatch!(&self.backend, b => b.room_names())
    }

    /// The stored users' full names, by id (none in a SQLite file older than schema 4, read
    /// as it is).
    pub fn user_names(&self) -> Result<std::collections::HashMap<String, String>, Error> {
        dispatch!(&self.backend, b => b.user_names())
    }

    /// Where the next sync lists new chats from at the latest: the start time of the last
    /// chat of the last complete listing (`None` before the first one completed).
    pub fn listed_until(&self) -> Result<Option<DateTime<Utc>>, Error> {
        dispatch!(&self.backend, b => b.listed_until())
    }

    /// The start times of the chats stored while they were still going on (no end time), and
    /// still served: they end, with more messages, and are read again.
    pub fn open_chat_starts(&self) -> Result<Vec<DateTime<Utc>>, Error> {
        dispatch!(&self.backend, b => b.open_chat_starts())
    }

    /// How many stored chats started in `[lo, hi)`.
    pub fn chats_started_in(&self, lo: DateTime<Utc>, hi: DateTime<Utc>) -> Result<u64, Error> {
        dispatch!(&self.backend, b => b.chats_started_in(lo, hi))
    }

    /// Calls `f` with every chat the server still serves, decoded from its stored JSON, in
    /// start time order.
    pub fn for_each_live(&self, f: impl FnMut(Chat)) -> Result<(), Error> {
        dispatch!(&self.backend, b => b.for_each_live(f))
    }

    /// Replaces the rows of chats already stored with these versions (decrypted ones, say), in
    /// one transaction, keeping when each went missing and which run listed it; chats not
    /// stored are left out. Returns how many were replaced.
    pub fn replace(&mut self, chats: &[Chat]) -> Result<u64, Error> {
        dispatch!(&mut self.backend, b => b.replace(chats))
    }

    /// How many chats are stored, and how many of them are missing upstream.
    pub fn counts(&self) -> Result<(u64, u64), Error> {
        dispatch!(&self.backend, b => b.counts())
    }
}

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
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

pub mod file;
mod rows;
mod schema;

pub use file::Opened;
use rows::Statements;
use schema::migrate;
pub use schema::{SCHEMA, SCHEMA_VERSION};

/// Everything that can go wrong with a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQLite failed (the file is not a database, the disk is full, ...).
    #[error("{}", sqlite_words(.0))]
    Sqlite(rusqlite::Error),
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

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Sqlite(e)
    }
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

/// A store: one SQLite file holding one listing of an organisation's chats.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    opened: Opened,
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

impl Store {
    /// Opens the store at `path` for this listing, creating it (readable by its owner only)
    /// and migrating its schema as needed. A file made for another listing is refused, and
    /// so is one whose listing an older giosg recorded ambiguously ([`Error::UnprovenListing`];
    /// see [`Store::adopt`]). A symbolic link is refused; an existing file that others may
    /// read is made owner-only ([`Store::opened`] says so).
    pub fn open(path: &Path, listing: &ListingIdentity) -> Result<Store, Error> {
        Self::open_with(path, listing, false)
    }

    /// Like [`Store::open`], but a file whose listing is unproven is taken for `listing`:
    /// for a full sync, after which the file holds exactly that listing (what it held beyond
    /// it is marked missing).
    pub fn adopt(path: &Path, listing: &ListingIdentity) -> Result<Store, Error> {
        Self::open_with(path, listing, true)
    }

    fn open_with(path: &Path, listing: &ListingIdentity, adopt: bool) -> Result<Store, Error> {
        let opened = file::prepare(path)?;
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "page_size", 8192)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // In WAL mode NORMAL is safe against a killed process (a power cut may lose the last
        // transactions, never consistency); a 32 MiB page cache keeps the indexes in memory.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "cache_size", -32_768)?;
        // Checkpoint the WAL every 64 MiB rather than 4 MiB: fewer syncs to disk while a big
        // sync writes.
        conn.pragma_update(None, "wal_autocheckpoint", 16_384)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        let org = listing.org().to_string();
        let found: Option<(String, Option<String>, Option<String>)> = conn
            .query_row(
                "SELECT org, listing, legacy_filter FROM sync_state WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let other = |found: String| Error::OtherListing {
            found,
            wanted: listing.to_string(),
        };
        match found {
            None => {
                conn.execute(
                    "INSERT INTO sync_state (id, org, listing) VALUES (1, ?1, ?2)",
                    params![org, listing.query()],
                )?;
            }
            Some((found_org, Some(found), _)) => {
                if found_org != org || found != listing.query() {
                    let query = if found.is_empty() {
                        "no filters"
                    } else {
                        &found
                    };
                    return Err(other(format!("organisation {found_org} with {query}")));
                }
            }
            Some((found_org, None, legacy)) => {
                if found_org != org {
                    return Err(other(format!("organisation {found_org}")));
                }
                if !adopt {
                    return Err(Error::UnprovenListing {
                        recorded: legacy.unwrap_or_default(),
                        wanted: listing.to_string(),
                    });
                }
                // Adopted for a full sync: proven by the time it finishes.
                conn.execute(
                    "UPDATE sync_state SET listing = ?1, listed_until = NULL WHERE id = 1",
                    [listing.query()],
                )?;
            }
        }
        Ok(Store { conn, opened })
    }

    /// Opens an existing store to read it only, whatever listing it holds: nothing is written,
    /// not even its permissions or schema, so a file in a read-only directory, or a read-only
    /// file, opens too (as an immutable file when SQLite cannot share it).
    pub fn open_read_only(path: &Path) -> Result<Store, Error> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let check = |conn: Connection| -> Result<Store, Error> {
            let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
            if version > SCHEMA_VERSION {
                return Err(Error::NewerSchema(version));
            }
            // A query that needs the tables: a file that is not a store fails here.
            conn.query_row("SELECT count(*) FROM sync_state", [], |r| {
                r.get::<_, i64>(0)
            })?;
            Ok(Store {
                conn,
                opened: Opened::default(),
            })
        };
        if !path.exists() {
            return Err(Error::File(std::io::Error::from(
                std::io::ErrorKind::NotFound,
            )));
        }
        let plain = Connection::open_with_flags(path, flags)
            .map_err(Error::from)
            .and_then(check);
        match plain {
            Ok(store) => Ok(store),
            Err(Error::Sqlite(_)) => {
                // WAL needs to create its shared-memory file beside the database: in a
                // read-only directory that fails, and an immutable open needs none.
                let uri = format!("file:{}?immutable=1", uri_path(path));
                let conn = Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)?;
                check(conn)
            }
            Err(e) => Err(e),
        }
    }

    /// The file's schema version (`PRAGMA user_version`).
    fn version(&self) -> Result<i64, Error> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// The organisation the file holds chats of.
    pub fn organisation(&self) -> Result<Option<String>, Error> {
        Ok(self
            .conn
            .query_row("SELECT org FROM sync_state WHERE id = 1", [], |r| r.get(0))
            .optional()?)
    }

    /// What opening the file found and did (created it, tightened its permissions).
    pub fn opened(&self) -> &Opened {
        &self.opened
    }

    /// The run in progress: one that began and did not finish (it was killed, or its listing
    /// failed), to be continued from its checkpoint.
    pub fn run_in_progress(&self) -> Result<Option<Run>, Error> {
        let row: Option<(i64, bool, String, i64, i64, i64)> = self
            .conn
            .query_row(
                "SELECT id, full, checkpoint, new, updated, unchanged FROM sync_runs
                 WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, full, checkpoint, new, updated, unchanged)) = row else {
            return Ok(None);
        };
        let checkpoint = serde_json::from_str(&checkpoint).map_err(|source| Error::Corrupt {
            what: format!("checkpoint of sync run {id}"),
            source,
        })?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(Some(Run {
            id,
            full,
            checkpoint,
            stored: Upserted {
                new: count(new),
                updated: count(updated),
                unchanged: count(unchanged),
            },
        }))
    }

    /// Begins a run that lists from `checkpoint`; a run left in progress is closed as
    /// abandoned (its pages stay stored).
    pub fn begin_run(&mut self, full: bool, checkpoint: &Checkpoint) -> Result<Run, Error> {
        let now = now();
        let json = serde_json::to_string(checkpoint).expect("a checkpoint serialises");
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE sync_runs SET finished_at = ?1 WHERE finished_at IS NULL",
            [&now],
        )?;
        tx.execute(
            "INSERT INTO sync_runs (started_at, full, checkpoint) VALUES (?1, ?2, ?3)",
            params![now, full, json],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(Run {
            id,
            full,
            checkpoint: checkpoint.clone(),
            stored: Upserted::default(),
        })
    }

    /// Stores a page of a run's listing in one transaction, together with the checkpoint after
    /// it: a chat not stored yet is inserted, a chat whose content changed has its rows
    /// (children included) replaced, an unchanged one is left as it is; a chat found again is
    /// no longer missing. Killed at any instant, the file holds whole pages and the checkpoint
    /// that accounts for exactly them.
    pub fn store_page(
        &mut self,
        run: &Run,
        chats: &[Chat],
        checkpoint: &Checkpoint,
    ) -> Result<Upserted, Error> {
        let now = now();
        let tx = self.conn.transaction()?;
        let mut counts = Upserted::default();
        {
            let mut statements = Statements::prepare(&tx)?;
            let mut seen = tx.prepare("UPDATE chats SET seen_run = ?1 WHERE id = ?2")?;
            for chat in chats {
                let json = serde_json::to_string(chat).expect("a chat serialises");
                let id = chat.id.to_string();
                let stored: Option<(String, Option<String>)> = statements
                    .select
                    .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                match stored {
                    Some((old, None)) if old == json => counts.unchanged += 1,
                    Some(_) => {
                        // The children go with the old row (ON DELETE CASCADE).
                        statements.delete.execute([&id])?;
                        statements.insert(chat, &json, &now)?;
                        counts.updated += 1;
                    }
                    None => {
                        statements.insert(chat, &json, &now)?;
                        counts.new += 1;
                    }
                }
                if run.full {
                    seen.execute(params![run.id, id])?;
                }
            }
        }
        let last = chats.iter().filter_map(|c| c.start_time).max();
        tx.execute(
            "UPDATE sync_runs SET checkpoint = ?1, new = new + ?2, updated = updated + ?3,
                 unchanged = unchanged + ?4,
                 listed_until = CASE WHEN listed_until IS NULL OR ?5 > listed_until
                     THEN coalesce(?5, listed_until) ELSE listed_until END
             WHERE id = ?6",
            params![
                serde_json::to_string(checkpoint).expect("a checkpoint serialises"),
                counts.new,
                counts.updated,
                counts.unchanged,
                ts(last),
                run.id
            ],
        )?;
        tx.commit()?;
        Ok(counts)
    }

    /// Finishes a run whose listing completed: how far it got becomes where the next sync
    /// lists new chats from, and a full run marks every stored chat it did not list as missing
    /// since now (the server no longer serves it). Returns how many were newly marked.
    pub fn finish_run(&mut self, run: &Run) -> Result<u64, Error> {
        let now = now();
        let tx = self.conn.transaction()?;
        let missing = if run.full {
            tx.execute(
                "UPDATE chats SET missing_since = ?1
                 WHERE missing_since IS NULL AND (seen_run IS NULL OR seen_run != ?2)",
                params![now, run.id],
            )? as u64
        } else {
            0
        };
        tx.execute(
            "UPDATE sync_state SET
                 listed_until = CASE WHEN listed_until IS NULL
                     OR (SELECT listed_until FROM sync_runs WHERE id = ?3) > listed_until
                     THEN coalesce((SELECT listed_until FROM sync_runs WHERE id = ?3), listed_until)
                     ELSE listed_until END,
                 last_sync_at = ?1,
                 last_full_sync_at = CASE WHEN ?2 THEN ?1 ELSE last_full_sync_at END
             WHERE id = 1",
            params![now, run.full, run.id],
        )?;
        tx.execute(
            "UPDATE sync_runs SET finished_at = ?1, missing = ?2 WHERE id = ?3",
            params![now, missing, run.id],
        )?;
        tx.commit()?;
        Ok(missing)
    }

    /// Stores the organisation's rooms as the rooms listing returned them, in one transaction:
    /// each room's row is replaced, and a stored room the listing no longer returns is marked
    /// missing (not deleted: chats still name it). Returns how many were newly marked.
    pub fn store_rooms(&mut self, rooms: &[giosg_model::Room]) -> Result<u64, Error> {
        let now = now();
        let tx = self.conn.transaction()?;
        {
            let mut put = tx.prepare(
                "INSERT OR REPLACE INTO rooms (id, name, display_name, domain, organization_id,
                     is_shared, is_deleted, json, fetched_at, missing_since)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL)",
            )?;
            for r in rooms {
                put.execute(params![
                    r.id.to_string(),
                    r.name,
                    r.display_name,
                    r.domain,
                    r.organization_id.map(|o| o.to_string()),
                    r.is_shared,
                    r.is_deleted,
                    serde_json::to_string(r).expect("a room serialises"),
                    now,
                ])?;
            }
        }
        let listed: std::collections::HashSet<String> =
            rooms.iter().map(|x| x.id.to_string()).collect();
        let missing = mark_missing(&tx, "rooms", &listed, &now)?;
        tx.commit()?;
        Ok(missing)
    }

    /// Stores the organisation's users as the users listing returned them; see
    /// [`Store::store_rooms`].
    pub fn store_users(&mut self, users: &[giosg_model::User]) -> Result<u64, Error> {
        let now = now();
        let tx = self.conn.transaction()?;
        {
            let mut put = tx.prepare(
                "INSERT OR REPLACE INTO users (id, full_name, first_name, last_name, alias, email,
                     is_bot, deleted_at, json, fetched_at, missing_since)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL)",
            )?;
            for u in users {
                put.execute(params![
                    u.id.to_string(),
                    u.full_name,
                    u.first_name,
                    u.last_name,
                    u.alias,
                    u.email,
                    u.is_bot,
                    ts(u.deleted_at),
                    serde_json::to_string(u).expect("a user serialises"),
                    now,
                ])?;
            }
        }
        let listed: std::collections::HashSet<String> =
            users.iter().map(|x| x.id.to_string()).collect();
        let missing = mark_missing(&tx, "users", &listed, &now)?;
        tx.commit()?;
        Ok(missing)
    }

    /// The stored rooms' names to show, by id (`display_name`, else `name`; none in a file
    /// older than schema 4, read as it is).
    pub fn room_names(&self) -> Result<std::collections::HashMap<String, String>, Error> {
        if self.version()? < 4 {
            return Ok(Default::default());
        }
        let mut stmt = self
            .conn
            .prepare("SELECT id, coalesce(display_name, name) FROM rooms WHERE coalesce(display_name, name) IS NOT NULL")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The stored users' full names, by id (none in a file older than schema 4, read as it
    /// is).
    pub fn user_names(&self) -> Result<std::collections::HashMap<String, String>, Error> {
        if self.version()? < 4 {
            return Ok(Default::default());
        }
        let mut stmt = self
            .conn
            .prepare("SELECT id, full_name FROM users WHERE full_name IS NOT NULL")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Where the next sync lists new chats from at the latest: the start time of the last
    /// chat of the last complete listing (`None` before the first one completed).
    pub fn listed_until(&self) -> Result<Option<DateTime<Utc>>, Error> {
        let t: Option<String> = self.conn.query_row(
            "SELECT listed_until FROM sync_state WHERE id = 1",
            [],
            |r| r.get(0),
        )?;
        Ok(t.and_then(|t| parse_sql_time(&t)))
    }

    /// The start times of the chats stored while they were still going on (no end time), and
    /// still served: they end, with more messages, and are read again.
    pub fn open_chat_starts(&self) -> Result<Vec<DateTime<Utc>>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT start_time FROM chats
             WHERE end_time IS NULL AND missing_since IS NULL AND start_time IS NOT NULL
             ORDER BY start_time",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for t in rows {
            if let Some(t) = parse_sql_time(&t?) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// How many stored chats started in `[lo, hi)`.
    pub fn chats_started_in(&self, lo: DateTime<Utc>, hi: DateTime<Utc>) -> Result<u64, Error> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM chats WHERE start_time >= ?1 AND start_time < ?2",
            [sql_time(&lo), sql_time(&hi)],
            |r| r.get(0),
        )?)
    }

    /// Calls `f` with every chat the server still serves, decoded from its stored JSON, in
    /// start time order.
    pub fn for_each_live(&self, mut f: impl FnMut(Chat)) -> Result<(), Error> {
        let mut stmt = self.conn.prepare(
            "SELECT id, json FROM chats WHERE missing_since IS NULL ORDER BY start_time, id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let json: String = row.get(1)?;
            let chat = serde_json::from_str(&json).map_err(|source| Error::Corrupt {
                what: format!("chat {}", row.get::<_, String>(0).unwrap_or_default()),
                source,
            })?;
            f(chat);
        }
        Ok(())
    }

    /// How many chats are stored, and how many of them are missing upstream.
    pub fn counts(&self) -> Result<(u64, u64), Error> {
        Ok(self.conn.query_row(
            "SELECT count(*), count(missing_since) FROM chats",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// The connection, for queries of one's own.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Marks the live rows of `table` whose id is not in `listed` as missing since `now`; returns
/// how many.
fn mark_missing(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    listed: &std::collections::HashSet<String>,
    now: &str,
) -> Result<u64, Error> {
    let live: Vec<String> = tx
        .prepare(&format!(
            "SELECT id FROM {table} WHERE missing_since IS NULL"
        ))?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut mark = tx.prepare(&format!(
        "UPDATE {table} SET missing_since = ?1 WHERE id = ?2"
    ))?;
    let mut n = 0;
    for id in live.iter().filter(|id| !listed.contains(*id)) {
        mark.execute(params![now, id])?;
        n += 1;
    }
    Ok(n)
}

/// A path as a URI's path: percent-encoded where a URI needs it.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for b in path.to_string_lossy().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The current time as the store writes it (SQLite has no say in it: the times are ours).
fn now() -> String {
    sql_time(&DateTime::<Utc>::from(std::time::SystemTime::now()))
}

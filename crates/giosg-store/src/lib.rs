//! A local SQLite copy of an organisation's giosg chats, as `giosg chats sync` keeps it.
//!
//! The file is SQLite 3 (the bundled library: no system SQLite is needed) in WAL mode,
//! created readable by its owner only (it holds conversations and personal data), and opens
//! in `sqlite3`, DuckDB (`ATTACH 'chats.db' (TYPE sqlite)`) or any SQLite tool.
//!
//! Schema version 2 ([`SCHEMA`], `PRAGMA user_version`; a version 1 file is migrated when
//! opened): `chats` has every scalar field of a chat as a column plus the chat's full JSON as
//! the API sent it (`json`, with members the model does not know), when it was fetched and,
//! for a chat the server no longer serves, since when it is missing (`missing_since`). Its
//! children (`chat_logs`, `chat_tags`, `chat_api_data`, `shopping_carts`, `cart_products`)
//! are keyed by the chat row's number (`chat_seq`, joining `chats.seq`) and their position,
//! carry the chat's id (`chat_id`), and go with it. Times are ISO-8601 UTC text (`2025-01-02T03:04:05.678Z`), money
//! is exact decimal text (`"83.00"`), ids are canonical UUID text. `sync_state` holds the
//! organisation and filters the file was made for, and how far the last complete sync got.
//!
//! ```
//! use giosg_model::{Chat, ChatFilter, Uuid};
//! use giosg_store::{Store, Upserted};
//!
//! let dir = std::env::temp_dir().join(format!("giosg-store-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("chats.db");
//! let org = Uuid::from_u128(7);
//! let mut store = Store::open(&path, org, &ChatFilter::new())?;
//! let chat = Chat::new(Uuid::from_u128(1));
//! let first: Upserted = store.upsert(&[chat.clone()])?;
//! assert_eq!((first.new, first.updated, first.unchanged), (1, 0, 0));
//! assert_eq!(store.upsert(&[chat])?.unchanged, 1);
//! // Another organisation's listing is refused.
//! drop(store);
//! assert!(Store::open(&path, Uuid::from_u128(8), &ChatFilter::new()).is_err());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use giosg_model::{time, Chat, ChatFilter, DateTime, Utc, Uuid};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashSet;
use std::path::Path;

mod rows;
mod schema;

use rows::Statements;
use schema::migrate;
pub use schema::{SCHEMA, SCHEMA_VERSION};

/// Everything that can go wrong with a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQLite failed (the file is not a database, the disk is full, ...).
    #[error("SQLite")]
    Sqlite(#[from] rusqlite::Error),
    /// The file could not be created.
    #[error("cannot create the database file")]
    Create(#[source] std::io::Error),
    /// The file was made for another organisation or other filters.
    #[error("the database was made for {found}; this sync is for {wanted}: use another file")]
    OtherListing {
        /// What the file holds.
        found: String,
        /// What was asked for.
        wanted: String,
    },
    /// The file's schema is newer than this version knows.
    #[error("the database has schema version {0}, newer than {SCHEMA_VERSION}: update giosg")]
    NewerSchema(i64),
    /// A stored chat's JSON does not decode (the file was edited by hand?).
    #[error("stored chat {id} does not decode")]
    Corrupt {
        /// The chat.
        id: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// How many chats an upsert added, replaced, and found unchanged.
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

/// A store: one SQLite file holding one organisation's chats for one set of filters.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

pub(crate) fn ts(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| time::format(&t))
}

/// The listing a file is made for, as stored: the organisation, and the filters as the API's
/// query string without what does not change which chats are listed (page, page size).
fn identity(filter: &ChatFilter) -> String {
    let pairs: Vec<String> = serde_json::to_value(filter.selection())
        .ok()
        .and_then(|v| v.as_object().cloned())
        .into_iter()
        .flatten()
        .filter(|(_, v)| !v.is_null() && *v != serde_json::Value::Bool(false))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    pairs.join("&")
}

impl Store {
    /// Opens the store at `path` for this organisation and filters, creating it (readable by
    /// its owner only) and migrating its schema as needed. A file made for another
    /// organisation or other filters is refused.
    pub fn open(path: &Path, org: Uuid, filter: &ChatFilter) -> Result<Store, Error> {
        create_private(path)?;
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
        let wanted_filter = identity(filter);
        let found: Option<(String, String)> = conn
            .query_row("SELECT org, filter FROM sync_state WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        match found {
            None => {
                conn.execute(
                    "INSERT INTO sync_state (id, org, filter) VALUES (1, ?1, ?2)",
                    params![org.to_string(), wanted_filter],
                )?;
            }
            Some((found_org, found_filter))
                if found_org != org.to_string() || found_filter != wanted_filter =>
            {
                let show = |o: &str, f: &str| {
                    let f = if f.is_empty() { "no filters" } else { f };
                    format!("organisation {o} with {f}")
                };
                return Err(Error::OtherListing {
                    found: show(&found_org, &found_filter),
                    wanted: show(&org.to_string(), &wanted_filter),
                });
            }
            Some(_) => {}
        }
        Ok(Store { conn })
    }

    /// Stores chats in one transaction: a chat not stored yet is inserted, a chat whose
    /// content changed has its rows (children included) replaced, an unchanged one is left as
    /// it is. A chat found again is no longer missing.
    pub fn upsert(&mut self, chats: &[Chat]) -> Result<Upserted, Error> {
        let now = now();
        let tx = self.conn.transaction()?;
        let mut counts = Upserted::default();
        {
            let mut statements = Statements::prepare(&tx)?;
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
            }
        }
        tx.commit()?;
        Ok(counts)
    }

    /// Where the next sync must list from at the latest: the start time of the last chat of
    /// the last complete listing (`None` before the first one completed).
    pub fn listed_until(&self) -> Result<Option<DateTime<Utc>>, Error> {
        let t: Option<String> = self.conn.query_row(
            "SELECT listed_until FROM sync_state WHERE id = 1",
            [],
            |r| r.get(0),
        )?;
        Ok(t.and_then(|t| time::parse(&t).ok()))
    }

    /// Records a complete listing: the start time of its last chat (kept as it was when
    /// `None`), and whether it was a full one.
    pub fn complete(&mut self, until: Option<DateTime<Utc>>, full: bool) -> Result<(), Error> {
        let now = now();
        self.conn.execute(
            "UPDATE sync_state SET listed_until = coalesce(?1, listed_until), last_sync_at = ?2,
                 last_full_sync_at = CASE WHEN ?3 THEN ?2 ELSE last_full_sync_at END
             WHERE id = 1",
            params![ts(until), now, full],
        )?;
        Ok(())
    }

    /// The start time of the earliest chat stored while it was still going on (no end time)
    /// that started at `since` or later: a sync lists again from there, to see it end.
    pub fn earliest_open(&self, since: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, Error> {
        let t: Option<String> = self.conn.query_row(
            "SELECT min(start_time) FROM chats
             WHERE end_time IS NULL AND missing_since IS NULL AND start_time >= ?1",
            [time::format(&since)],
            |r| r.get(0),
        )?;
        Ok(t.and_then(|t| time::parse(&t).ok()))
    }

    /// After a complete full listing: marks every stored chat it did not bring as missing
    /// since now (the server no longer serves it); returns how many were newly marked.
    pub fn mark_missing(&mut self, seen: &HashSet<Uuid>) -> Result<u64, Error> {
        let now = now();
        let tx = self.conn.transaction()?;
        let mut missing = Vec::new();
        {
            let mut stmt = tx.prepare("SELECT id FROM chats WHERE missing_since IS NULL")?;
            let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
            for id in ids {
                let id = id?;
                if Uuid::parse_str(&id).is_ok_and(|u| !seen.contains(&u)) {
                    missing.push(id);
                }
            }
        }
        for id in &missing {
            tx.execute(
                "UPDATE chats SET missing_since = ?1 WHERE id = ?2",
                params![now, id],
            )?;
        }
        tx.commit()?;
        Ok(missing.len() as u64)
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
                id: row.get(0).unwrap_or_default(),
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

/// The current time as the store writes it (SQLite has no say in it: the times are ours).
fn now() -> String {
    time::format(&DateTime::<Utc>::from(std::time::SystemTime::now()))
}

/// Creates the file readable and writable by its owner only, if it does not exist.
fn create_private(path: &Path) -> Result<(), Error> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::Create(e)),
    }
}

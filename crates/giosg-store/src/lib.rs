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
#![deny(missing_docs)]

use giosg_model::{time, Chat, ChatFilter, DateTime, Utc, Uuid};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::collections::HashSet;
use std::path::Path;

/// The schema's version, kept in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 2;

/// The current schema's text: [`SCHEMA`], and part of the migration from the one before.
macro_rules! schema {
    () => {
        "
CREATE TABLE sync_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    org TEXT NOT NULL,           -- the organisation the file was made for
    filter TEXT NOT NULL,        -- its filters, as the API's query string (page size aside)
    listed_until TEXT,           -- start time of the last chat of the last complete listing
    last_sync_at TEXT,
    last_full_sync_at TEXT
);
CREATE TABLE chats (
    seq INTEGER PRIMARY KEY,     -- this stored version's row number: children refer to it
    id TEXT NOT NULL UNIQUE,
    token TEXT,
    start_time TEXT,
    end_time TEXT,
    updated_at TEXT,
    is_private INTEGER,
    is_real_conversation INTEGER,
    is_autosuggested INTEGER,
    room_id TEXT,
    operator_message_count INTEGER,
    visitor_message_count INTEGER,
    message_count INTEGER,
    start_url TEXT,
    start_url_title TEXT,
    autosuggest_url TEXT,
    autosuggest_url_title TEXT,
    json TEXT NOT NULL,          -- the whole chat as the API sent it (unknown members included)
    fetched_at TEXT NOT NULL,    -- when this version was stored
    missing_since TEXT           -- when a full sync found the server no longer serves it
);
CREATE INDEX chats_by_start_time ON chats (start_time);
CREATE INDEX chats_by_room ON chats (room_id, start_time);
CREATE INDEX chats_open ON chats (start_time) WHERE end_time IS NULL;
CREATE TABLE chat_logs (
    chat_seq INTEGER NOT NULL REFERENCES chats (seq) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    chat_id TEXT NOT NULL,
    created_at TEXT,
    sender_type INTEGER,
    sender_id TEXT,
    type INTEGER,
    message TEXT,
    display_name TEXT,
    PRIMARY KEY (chat_seq, position)
) WITHOUT ROWID;
CREATE TABLE chat_tags (
    chat_seq INTEGER NOT NULL REFERENCES chats (seq) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    chat_id TEXT NOT NULL,
    name TEXT,
    PRIMARY KEY (chat_seq, position)
) WITHOUT ROWID;
CREATE INDEX chat_tags_by_name ON chat_tags (name);
CREATE TABLE chat_api_data (
    chat_seq INTEGER NOT NULL REFERENCES chats (seq) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    chat_id TEXT NOT NULL,
    name TEXT,
    value TEXT,
    PRIMARY KEY (chat_seq, position)
) WITHOUT ROWID;
CREATE TABLE shopping_carts (
    chat_seq INTEGER NOT NULL REFERENCES chats (seq) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    chat_id TEXT NOT NULL,
    id TEXT,
    opened_at TEXT,
    total_price TEXT,
    monthly_total_price TEXT,
    currency TEXT,
    locked_at TEXT,
    PRIMARY KEY (chat_seq, position)
) WITHOUT ROWID;
CREATE TABLE cart_products (
    chat_seq INTEGER NOT NULL REFERENCES chats (seq) ON DELETE CASCADE,
    cart_position INTEGER NOT NULL,
    position INTEGER NOT NULL,
    chat_id TEXT NOT NULL,
    id TEXT,
    name TEXT,
    description TEXT,
    category TEXT,
    product_number TEXT,
    price TEXT,
    quantity INTEGER,
    monthly_price TEXT,
    monthly_quantity INTEGER,
    stock_balance INTEGER,
    added_at TEXT,
    deleted_at TEXT,
    PRIMARY KEY (chat_seq, cart_position, position)
) WITHOUT ROWID;
"
    };
}

/// The current schema (version 2).
///
/// Every child row refers to its chat by `chat_seq`, the chat row's own number (`chats.seq`,
/// new for each stored version of a chat), and carries the chat's id too (`chat_id`) for
/// reading. Keying the children by a number that only grows keeps each page's writes at the
/// end of the tables: random UUID keys would rewrite index pages all over the file on every
/// page of chats. Join a chat's children on `chat_seq = chats.seq`.
pub const SCHEMA: &str = schema!();

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

fn ts(t: Option<DateTime<Utc>>) -> Option<String> {
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

/// Brings the schema to [`SCHEMA_VERSION`].
fn migrate(conn: &mut Connection) -> Result<(), Error> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(Error::NewerSchema(version));
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    // Tables are renamed and dropped: their foreign keys must not act meanwhile (the pragma
    // is a no-op inside a transaction, so it goes around it).
    conn.pragma_update(None, "foreign_keys", false)?;
    let tx = conn.transaction()?;
    match version {
        0 => tx.execute_batch(SCHEMA)?,
        1 => tx.execute_batch(MIGRATE_1_TO_2)?,
        _ => unreachable!("versions above {SCHEMA_VERSION} are refused above"),
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

/// From schema 1 (children keyed by the chat's UUID text) to 2 (by the chat row's number):
/// the old tables are renamed, the new ones made, every row copied, the old ones dropped.
const MIGRATE_1_TO_2: &str = concat!(
    "
DROP INDEX chats_by_start_time;
DROP INDEX chats_by_room;
DROP INDEX chats_open;
DROP INDEX chat_tags_by_name;
ALTER TABLE sync_state RENAME TO v1_sync_state;
ALTER TABLE chats RENAME TO v1_chats;
ALTER TABLE chat_logs RENAME TO v1_chat_logs;
ALTER TABLE chat_tags RENAME TO v1_chat_tags;
ALTER TABLE chat_api_data RENAME TO v1_chat_api_data;
ALTER TABLE shopping_carts RENAME TO v1_shopping_carts;
ALTER TABLE cart_products RENAME TO v1_cart_products;
",
    schema!(),
    "
INSERT INTO sync_state SELECT * FROM v1_sync_state;
INSERT INTO chats (id, token, start_time, end_time, updated_at, is_private,
        is_real_conversation, is_autosuggested, room_id, operator_message_count,
        visitor_message_count, message_count, start_url, start_url_title, autosuggest_url,
        autosuggest_url_title, json, fetched_at, missing_since)
    SELECT id, token, start_time, end_time, updated_at, is_private, is_real_conversation,
        is_autosuggested, room_id, operator_message_count, visitor_message_count,
        message_count, start_url, start_url_title, autosuggest_url, autosuggest_url_title,
        json, fetched_at, missing_since
    FROM v1_chats ORDER BY start_time, id;
INSERT INTO chat_logs (chat_seq, position, chat_id, created_at, sender_type, sender_id, type,
        message, display_name)
    SELECT c.seq, o.position, o.chat_id, o.created_at, o.sender_type, o.sender_id, o.type,
        o.message, o.display_name
    FROM v1_chat_logs o JOIN chats c ON c.id = o.chat_id;
INSERT INTO chat_tags (chat_seq, position, chat_id, name)
    SELECT c.seq, o.position, o.chat_id, o.name FROM v1_chat_tags o JOIN chats c ON c.id = o.chat_id;
INSERT INTO chat_api_data (chat_seq, position, chat_id, name, value)
    SELECT c.seq, o.position, o.chat_id, o.name, o.value
    FROM v1_chat_api_data o JOIN chats c ON c.id = o.chat_id;
INSERT INTO shopping_carts (chat_seq, position, chat_id, id, opened_at, total_price,
        monthly_total_price, currency, locked_at)
    SELECT c.seq, o.position, o.chat_id, o.id, o.opened_at, o.total_price,
        o.monthly_total_price, o.currency, o.locked_at
    FROM v1_shopping_carts o JOIN chats c ON c.id = o.chat_id;
INSERT INTO cart_products (chat_seq, cart_position, position, chat_id, id, name, description,
        category, product_number, price, quantity, monthly_price, monthly_quantity,
        stock_balance, added_at, deleted_at)
    SELECT c.seq, o.cart_position, o.position, o.chat_id, o.id, o.name, o.description,
        o.category, o.product_number, o.price, o.quantity, o.monthly_price,
        o.monthly_quantity, o.stock_balance, o.added_at, o.deleted_at
    FROM v1_cart_products o JOIN chats c ON c.id = o.chat_id;
DROP TABLE v1_cart_products;
DROP TABLE v1_shopping_carts;
DROP TABLE v1_chat_api_data;
DROP TABLE v1_chat_tags;
DROP TABLE v1_chat_logs;
DROP TABLE v1_chats;
DROP TABLE v1_sync_state;
"
);

/// The statements an upsert runs, prepared once per transaction.
struct Statements<'c> {
    select: rusqlite::Statement<'c>,
    delete: rusqlite::Statement<'c>,
    chat: rusqlite::Statement<'c>,
    log: rusqlite::Statement<'c>,
    tag: rusqlite::Statement<'c>,
    api_data: rusqlite::Statement<'c>,
    cart: rusqlite::Statement<'c>,
    product: rusqlite::Statement<'c>,
}

impl<'c> Statements<'c> {
    fn prepare(tx: &'c Transaction<'_>) -> Result<Self, Error> {
        Ok(Statements {
            select: tx.prepare("SELECT json, missing_since FROM chats WHERE id = ?1")?,
            delete: tx.prepare("DELETE FROM chats WHERE id = ?1")?,
            chat: tx.prepare(
                "INSERT INTO chats (id, token, start_time, end_time, updated_at, is_private,
                     is_real_conversation, is_autosuggested, room_id, operator_message_count,
                     visitor_message_count, message_count, start_url, start_url_title,
                     autosuggest_url, autosuggest_url_title, json, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18)",
            )?,
            log: tx.prepare(
                "INSERT INTO chat_logs (chat_seq, chat_id, position, created_at, sender_type,
                     sender_id, type, message, display_name)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?,
            tag: tx.prepare(
                "INSERT INTO chat_tags (chat_seq, chat_id, position, name) VALUES (?1, ?2, ?3, ?4)",
            )?,
            api_data: tx.prepare(
                "INSERT INTO chat_api_data (chat_seq, chat_id, position, name, value)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
            cart: tx.prepare(
                "INSERT INTO shopping_carts (chat_seq, chat_id, position, id, opened_at,
                     total_price, monthly_total_price, currency, locked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?,
            product: tx.prepare(
                "INSERT INTO cart_products (chat_seq, chat_id, cart_position, position, id, name,
                     description, category, product_number, price, quantity, monthly_price,
                     monthly_quantity, stock_balance, added_at, deleted_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )?,
        })
    }

    /// Writes a chat and its children (none may be stored for it).
    fn insert(&mut self, chat: &Chat, json: &str, now: &str) -> Result<(), Error> {
        let id = chat.id.to_string();
        let seq = self.chat.insert(params![
            id,
            chat.token,
            ts(chat.start_time),
            ts(chat.end_time),
            ts(chat.updated_at),
            chat.is_private,
            chat.is_real_conversation,
            chat.is_autosuggested,
            chat.room_id.map(|r| r.to_string()),
            chat.operator_message_count.map(|n| n as i64),
            chat.visitor_message_count.map(|n| n as i64),
            chat.message_count.map(|n| n as i64),
            chat.start_url,
            chat.start_url_title,
            chat.autosuggest_url,
            chat.autosuggest_url_title,
            json,
            now,
        ])?;
        for (i, log) in chat.logs.iter().enumerate() {
            self.log.execute(params![
                seq,
                id,
                i as i64,
                ts(log.created_at),
                log.sender_type.map(i64::from),
                log.sender_id,
                log.message_type.map(i64::from),
                log.message,
                log.display_name,
            ])?;
        }
        for (i, tag) in chat.tags.iter().enumerate() {
            self.tag.execute(params![seq, id, i as i64, tag.name])?;
        }
        for (i, data) in chat.api_data.iter().enumerate() {
            self.api_data
                .execute(params![seq, id, i as i64, data.name, data.value])?;
        }
        for (c, cart) in chat.shopping_carts.iter().enumerate() {
            self.cart.execute(params![
                seq,
                id,
                c as i64,
                cart.id.map(|u| u.to_string()),
                ts(cart.opened_at),
                cart.total_price.map(|d| d.to_string()),
                cart.monthly_total_price.map(|d| d.to_string()),
                cart.currency,
                ts(cart.locked_at),
            ])?;
            for (p, product) in cart.products.iter().enumerate() {
                self.product.execute(params![
                    seq,
                    id,
                    c as i64,
                    p as i64,
                    product.id.map(|u| u.to_string()),
                    product.name,
                    product.description,
                    product.category,
                    product.product_number,
                    product.price.map(|d| d.to_string()),
                    product.quantity,
                    product.monthly_price.map(|d| d.to_string()),
                    product.monthly_quantity,
                    product.stock_balance,
                    ts(product.added_at),
                    ts(product.deleted_at),
                ])?;
            }
        }
        Ok(())
    }
}

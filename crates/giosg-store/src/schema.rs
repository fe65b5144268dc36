//! The schema: its text, its version, and the migrations from older versions.

use crate::Error;
use rusqlite::Connection;

/// The schema's version, kept in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 5;

/// Schema 2's text: with [`MIGRATE_2_TO_3`], the current [`SCHEMA`]; and part of the migration
/// from schema 1.
macro_rules! schema_v2 {
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

/// From schema 2 to 3: the listing a file is for is recorded exactly (its
/// [`ListingIdentity`](giosg_query::ListingIdentity); schema 2's record dropped every `false`
/// filter, so an older file's listing is unproven until a full sync adopts it), and each sync
/// is a run of its own (`sync_runs`) whose checkpoint is committed with every page.
macro_rules! migrate_2_to_3 {
    () => {
        "
ALTER TABLE sync_state RENAME TO v2_sync_state;
CREATE TABLE sync_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    org TEXT NOT NULL,           -- the organisation the file was made for
    listing TEXT,                -- its listing: the query as sent (page size aside); NULL while
                                 -- unproven (a schema 2 file, until a full sync adopts it)
    legacy_filter TEXT,          -- a schema 2 file's record of its filters (false ones dropped)
    listed_until TEXT,           -- start time of the last chat of the last complete listing
    last_sync_at TEXT,
    last_full_sync_at TEXT
);
INSERT INTO sync_state (id, org, listing, legacy_filter, listed_until, last_sync_at,
        last_full_sync_at)
    SELECT id, org, NULL, filter, listed_until, last_sync_at, last_full_sync_at
    FROM v2_sync_state;
DROP TABLE v2_sync_state;
ALTER TABLE chats ADD COLUMN seen_run INTEGER; -- the last full sync that listed it
CREATE TABLE sync_runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,            -- NULL: in progress (or killed; the next sync continues it)
    full INTEGER NOT NULL,       -- a full sync: lists everything, marks what is gone
    checkpoint TEXT NOT NULL,    -- where the listing stands, committed with each page
    listed_until TEXT,           -- the latest start time listed so far
    new INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    missing INTEGER NOT NULL DEFAULT 0
);
"
    };
}

/// From schema 3 to 4: times in the form SQLite's own functions write and compare with
/// (`2025-01-02 03:04:05.678`, UTC, always milliseconds: `WHERE start_time >= datetime('now',
/// '-7 days')` is right), and the kinds of a message in words beside their codes
/// (`chat_logs.sender`, `chat_logs.kind`); the organisation's rooms and users (`rooms`, `users`),
/// and the views `chats_named` (a chat with its room's name) and `chat_logs_named` (a message
/// with its operator's name).
macro_rules! migrate_3_to_4 {
    () => {
        "
UPDATE chats SET start_time = strftime('%Y-%m-%d %H:%M:%f', start_time), end_time = strftime('%Y-%m-%d %H:%M:%f', end_time), updated_at = strftime('%Y-%m-%d %H:%M:%f', updated_at), fetched_at = strftime('%Y-%m-%d %H:%M:%f', fetched_at), missing_since = strftime('%Y-%m-%d %H:%M:%f', missing_since);
UPDATE chat_logs SET created_at = strftime('%Y-%m-%d %H:%M:%f', created_at);
UPDATE shopping_carts SET opened_at = strftime('%Y-%m-%d %H:%M:%f', opened_at), locked_at = strftime('%Y-%m-%d %H:%M:%f', locked_at);
UPDATE cart_products SET added_at = strftime('%Y-%m-%d %H:%M:%f', added_at), deleted_at = strftime('%Y-%m-%d %H:%M:%f', deleted_at);
UPDATE sync_state SET listed_until = strftime('%Y-%m-%d %H:%M:%f', listed_until), last_sync_at = strftime('%Y-%m-%d %H:%M:%f', last_sync_at), last_full_sync_at = strftime('%Y-%m-%d %H:%M:%f', last_full_sync_at);
UPDATE sync_runs SET started_at = strftime('%Y-%m-%d %H:%M:%f', started_at), finished_at = strftime('%Y-%m-%d %H:%M:%f', finished_at), listed_until = strftime('%Y-%m-%d %H:%M:%f', listed_until);
CREATE TABLE rooms (
    id TEXT PRIMARY KEY,
    name TEXT,
    display_name TEXT,            -- the name to show (a shared room's may differ from name)
    domain TEXT,
    organization_id TEXT,
    is_shared INTEGER,
    is_deleted INTEGER,
    json TEXT NOT NULL,           -- the room as the API sent it
    fetched_at TEXT NOT NULL,
    missing_since TEXT            -- when a sync found the rooms listing no longer returns it
);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    full_name TEXT,
    first_name TEXT,
    last_name TEXT,
    alias TEXT,                   -- the name visitors see
    email TEXT,
    is_bot INTEGER,
    deleted_at TEXT,
    json TEXT NOT NULL,           -- the user as the API sent it
    fetched_at TEXT NOT NULL,
    missing_since TEXT            -- when a sync found the users listing no longer returns it
);
-- Chats with their room's name, and messages with their operator's name.
CREATE VIEW chats_named AS
    SELECT c.*, coalesce(r.display_name, r.name) AS room_name
    FROM chats c LEFT JOIN rooms r ON r.id = c.room_id;
CREATE VIEW chat_logs_named AS
    SELECT l.*, u.full_name AS user_full_name, u.email AS user_email
    FROM chat_logs l LEFT JOIN users u ON u.id = l.sender_id AND l.sender = 'operator';
ALTER TABLE chat_logs ADD COLUMN sender TEXT; -- sender_type as a word: operator, visitor
ALTER TABLE chat_logs ADD COLUMN kind TEXT;   -- type as a word: message, autosuggest
UPDATE chat_logs SET
    sender = CASE sender_type WHEN 1 THEN 'operator' WHEN 2 THEN 'visitor' ELSE CAST(sender_type AS TEXT) END,
    kind = CASE type WHEN 1 THEN 'message' WHEN 2 THEN 'autosuggest' ELSE CAST(type AS TEXT) END;
"
    };
}

/// From schema 4 to 5: whether each message was encrypted and its text is here
/// (`chat_logs.decrypted`: NULL when it was not encrypted, 0 while its text is only in the
/// chat's JSON as `encrypted_message`, 1 once decrypted), read from the stored JSON for the
/// rows already there.
macro_rules! migrate_4_to_5 {
    () => {
        "
ALTER TABLE chat_logs ADD COLUMN decrypted INTEGER; -- NULL: not encrypted; 0: still encrypted; 1: decrypted
UPDATE chat_logs SET decrypted = (
    SELECT CASE WHEN coalesce(json_extract(c.json, '$.logs[' || chat_logs.position || '].encrypted_message'), '') = ''
        THEN NULL WHEN chat_logs.message IS NULL THEN 0 ELSE 1 END
    FROM chats c WHERE c.seq = chat_logs.chat_seq);
"
    };
}

/// From schema 4 to 5; see [`SCHEMA`].
const MIGRATE_4_TO_5: &str = migrate_4_to_5!();

/// From schema 3 to 4; see [`SCHEMA`].
const MIGRATE_3_TO_4: &str = migrate_3_to_4!();

/// From schema 2 to 3; see [`SCHEMA`].
const MIGRATE_2_TO_3: &str = migrate_2_to_3!();

/// The current schema (version 4).
///
/// Every child row refers to its chat by `chat_seq`, the chat row's own number (`chats.seq`,
/// new for each stored version of a chat), and carries the chat's id too (`chat_id`) for
/// reading. Keying the children by a number that only grows keeps each page's writes at the
/// end of the tables: random UUID keys would rewrite index pages all over the file on every
/// page of chats. Join a chat's children on `chat_seq = chats.seq`.
pub const SCHEMA: &str = concat!(
    schema_v2!(),
    migrate_2_to_3!(),
    migrate_3_to_4!(),
    migrate_4_to_5!()
);

/// Brings the schema to [`SCHEMA_VERSION`].
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), Error> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(crate::sqlite)?;
    if version > SCHEMA_VERSION {
        return Err(Error::NewerSchema(version));
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    // Tables are renamed and dropped: their foreign keys must not act meanwhile (the pragma
    // is a no-op inside a transaction, so it goes around it).
    conn.pragma_update(None, "foreign_keys", false)
        .map_err(crate::sqlite)?;
    let tx = conn.transaction().map_err(crate::sqlite)?;
    match version {
        0 => tx.execute_batch(SCHEMA).map_err(crate::sqlite)?,
        1..=4 => {
            let steps = [
                MIGRATE_1_TO_2,
                MIGRATE_2_TO_3,
                MIGRATE_3_TO_4,
                MIGRATE_4_TO_5,
            ];
            for step in &steps[(version - 1) as usize..] {
                tx.execute_batch(step).map_err(crate::sqlite)?;
            }
        }
        _ => unreachable!("versions above {SCHEMA_VERSION} are refused above"),
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(crate::sqlite)?;
    tx.commit().map_err(crate::sqlite)?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(crate::sqlite)?;
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
    schema_v2!(),
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

//! The PostgreSQL schema: its text, its version, the writer's lock, and the listing it holds.

use super::{pg, LOCK_CLASS};
use crate::Error;
use giosg_query::ListingIdentity;
use postgres::Client;

/// The PostgreSQL schema's version, in its table `schema_version`.
pub(crate) const VERSION: i32 = 1;

/// Version 1: the SQLite store's tables and columns ([`SCHEMA`](crate::SCHEMA)) in native
/// types. The children carry no foreign key (checking one per row was most of a load's
/// time): the store deletes a chat's children with it, in the same statement.
const SCHEMA_1: &str = "
CREATE TABLE schema_version (version integer NOT NULL);
CREATE TABLE sync_state (
    id integer PRIMARY KEY CHECK (id = 1),
    org uuid NOT NULL,                 -- the organisation the copy is of
    listing text NOT NULL,             -- its listing: the query as sent (page size aside)
    listed_until timestamptz,          -- start time of the last chat of the last complete listing
    last_sync_at timestamptz,
    last_full_sync_at timestamptz
);
CREATE TABLE sync_runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,           -- NULL: in progress (or killed; the next sync continues it)
    \"full\" boolean NOT NULL,           -- a full sync: lists everything, marks what is gone
    checkpoint jsonb NOT NULL,         -- where the listing stands, committed with each page
    listed_until timestamptz,          -- the latest start time listed so far
    new bigint NOT NULL DEFAULT 0,
    updated bigint NOT NULL DEFAULT 0,
    unchanged bigint NOT NULL DEFAULT 0,
    missing bigint NOT NULL DEFAULT 0
);
CREATE TABLE chats (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- this stored version's row number
    id uuid NOT NULL UNIQUE,
    token text,
    start_time timestamptz,
    end_time timestamptz,
    updated_at timestamptz,
    is_private boolean,
    is_real_conversation boolean,
    is_autosuggested boolean,
    room_id uuid,
    operator_message_count bigint,
    visitor_message_count bigint,
    message_count bigint,
    start_url text,
    start_url_title text,
    autosuggest_url text,
    autosuggest_url_title text,
    json jsonb NOT NULL,               -- the whole chat as the API sent it (unknown members included)
    json_sha256 bytea NOT NULL,        -- SHA-256 of the JSON as giosg wrote it: tells a changed chat
    fetched_at timestamptz NOT NULL,   -- when this version was stored
    missing_since timestamptz,         -- when a full sync found the server no longer serves it
    seen_run bigint                    -- the last full sync that listed it
);
-- lz4 compresses a chat's JSON several times faster than PostgreSQL's default (where the
-- server was built with it, from version 14).
DO $$ BEGIN
    EXECUTE 'ALTER TABLE chats ALTER COLUMN json SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN NULL;
END $$;
CREATE INDEX chats_by_start_time ON chats (start_time);
CREATE INDEX chats_by_room ON chats (room_id, start_time);
CREATE INDEX chats_open ON chats (start_time) WHERE end_time IS NULL;
CREATE TABLE chat_logs (
    chat_seq bigint NOT NULL,          -- joins chats.seq
    position integer NOT NULL,
    chat_id uuid NOT NULL,
    created_at timestamptz,
    sender_type integer,
    sender_id text,
    type integer,
    message text,
    display_name text,
    sender text,                       -- sender_type as a word: operator, visitor
    kind text,                         -- type as a word: message, autosuggest
    decrypted boolean,                 -- NULL: not encrypted; false: still encrypted; true: decrypted
    PRIMARY KEY (chat_seq, position)
);
CREATE TABLE chat_tags (
    chat_seq bigint NOT NULL,          -- joins chats.seq
    position integer NOT NULL,
    chat_id uuid NOT NULL,
    name text,
    PRIMARY KEY (chat_seq, position)
);
CREATE INDEX chat_tags_by_name ON chat_tags (name);
CREATE TABLE chat_api_data (
    chat_seq bigint NOT NULL,          -- joins chats.seq
    position integer NOT NULL,
    chat_id uuid NOT NULL,
    name text,
    value text,
    PRIMARY KEY (chat_seq, position)
);
CREATE TABLE shopping_carts (
    chat_seq bigint NOT NULL,          -- joins chats.seq
    position integer NOT NULL,
    chat_id uuid NOT NULL,
    id uuid,
    opened_at timestamptz,
    total_price numeric,
    monthly_total_price numeric,
    currency text,
    locked_at timestamptz,
    PRIMARY KEY (chat_seq, position)
);
CREATE TABLE cart_products (
    chat_seq bigint NOT NULL,          -- joins chats.seq
    cart_position integer NOT NULL,
    position integer NOT NULL,
    chat_id uuid NOT NULL,
    id uuid,
    name text,
    description text,
    category text,
    product_number text,
    price numeric,
    quantity bigint,
    monthly_price numeric,
    monthly_quantity bigint,
    stock_balance bigint,
    added_at timestamptz,
    deleted_at timestamptz,
    PRIMARY KEY (chat_seq, cart_position, position)
);
CREATE TABLE rooms (
    id uuid PRIMARY KEY,
    name text,
    display_name text,                 -- the name to show (a shared room's may differ from name)
    domain text,
    organization_id uuid,
    is_shared boolean,
    is_deleted boolean,
    json jsonb NOT NULL,               -- the room as the API sent it
    fetched_at timestamptz NOT NULL,
    missing_since timestamptz          -- when a sync found the rooms listing no longer returns it
);
CREATE TABLE users (
    id uuid PRIMARY KEY,
    full_name text,
    first_name text,
    last_name text,
    alias text,                        -- the name visitors see
    email text,
    is_bot boolean,
    deleted_at timestamptz,
    json jsonb NOT NULL,               -- the user as the API sent it
    fetched_at timestamptz NOT NULL,
    missing_since timestamptz          -- when a sync found the users listing no longer returns it
);
CREATE VIEW chats_named AS
    SELECT c.*, coalesce(r.display_name, r.name) AS room_name
    FROM chats c LEFT JOIN rooms r ON r.id = c.room_id;
CREATE VIEW chat_logs_named AS
    SELECT l.*, u.full_name AS user_full_name, u.email AS user_email
    FROM chat_logs l LEFT JOIN users u ON u.id::text = l.sender_id AND l.sender = 'operator';
INSERT INTO schema_version (version) VALUES (1);
";

/// The schema's name quoted as an identifier (it is a plain one: [`Location::schema`](crate::Location::schema)).
fn quoted(schema: &str) -> String {
    format!("\"{}\"", schema.replace('"', "\"\""))
}

/// How long a writer waits for another to finish (or for the session of one that was killed
/// to end) before it is refused.
const LOCK_WAIT: &str = "5s";

/// Takes the writer's lock on the schema for this session, waiting [`LOCK_WAIT`] at most, or
/// says who holds it.
pub(crate) fn lock(client: &mut Client, schema: &str) -> Result<(), Error> {
    client
        .batch_execute(&format!("SET lock_timeout = '{LOCK_WAIT}'"))
        .map_err(pg)?;
    let got = client.execute(
        "SELECT pg_advisory_lock($1, hashtext($2))",
        &[&LOCK_CLASS, &schema],
    );
    client.batch_execute("RESET lock_timeout").map_err(pg)?;
    match got {
        Ok(_) => return Ok(()),
        Err(e) if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {}
        Err(e) => return Err(pg(e)),
    }
    let holder = client
        .query_opt(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
                 AND classid = $1::int4::oid AND objid = hashtext($2)::oid AND objsubid = 2",
            &[&LOCK_CLASS, &schema],
        )
        .ok()
        .flatten()
        .map(|r| r.get::<_, i32>(0));
    Err(Error::Busy {
        schema: schema.to_owned(),
        holder,
    })
}

/// The schema's version, `None` when it has no copy yet.
fn version(client: &mut Client, schema: &str) -> Result<Option<i32>, Error> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass(format('%I.schema_version', $1::text)) IS NOT NULL",
            &[&schema],
        )
        .map_err(pg)?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let row = client
        .query_one(
            &format!("SELECT max(version) FROM {}.schema_version", quoted(schema)),
            &[],
        )
        .map_err(pg)?;
    Ok(row.get(0))
}

/// Creates the schema, or migrates it to [`VERSION`]; then every statement of the session
/// names its tables without the schema.
pub(crate) fn migrate(client: &mut Client, schema: &str) -> Result<(), Error> {
    client
        .batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {0}; SET search_path TO {0}",
            quoted(schema)
        ))
        .map_err(pg)?;
    match version(client, schema)? {
        Some(v) if v > VERSION => Err(Error::NewerSchema(v.into())),
        Some(_) => Ok(()),
        None => {
            let mut tx = client.transaction().map_err(pg)?;
            tx.batch_execute(SCHEMA_1).map_err(pg)?;
            tx.commit().map_err(pg)
        }
    }
}

/// Checks that the schema holds a copy this version reads, and names its tables from now on.
pub(crate) fn check(client: &mut Client, schema: &str) -> Result<(), Error> {
    match version(client, schema)? {
        None => Err(Error::Location(format!(
            "the database has no giosg copy in schema {schema}: sync into it first, or name its schema"
        ))),
        Some(v) if v > VERSION => Err(Error::NewerSchema(v.into())),
        Some(_) => client
            .batch_execute(&format!("SET search_path TO {}", quoted(schema)))
            .map_err(pg),
    }
}

/// Records `listing` as what the schema holds, or refuses another listing's copy.
pub(crate) fn claim(client: &mut Client, listing: &ListingIdentity) -> Result<(), Error> {
    let org = listing.org();
    let query = listing.query();
    let found = client
        .query_opt("SELECT org, listing FROM sync_state WHERE id = 1", &[])
        .map_err(pg)?;
    match found {
        None => {
            client
                .execute(
                    "INSERT INTO sync_state (id, org, listing) VALUES (1, $1, $2)",
                    &[&org, &query],
                )
                .map_err(pg)?;
            Ok(())
        }
        Some(row) => {
            let (found_org, found): (uuid::Uuid, String) = (row.get(0), row.get(1));
            if found_org == org && found == query {
                return Ok(());
            }
            let filters = if found.is_empty() {
                "no filters"
            } else {
                &found
            };
            Err(Error::OtherListing {
                found: format!("organisation {found_org} with {filters}"),
                wanted: listing.to_string(),
            })
        }
    }
}

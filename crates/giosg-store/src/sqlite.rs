//! The SQLite store: one file, WAL mode, owner-only (see the crate's documentation).

use crate::file::{self, Opened};
use crate::rows::Statements;
use crate::schema::{migrate, SCHEMA_VERSION};
use crate::{parse_sql_time, sql_time, ts, Error, Run, Upserted};
use giosg_model::{Chat, DateTime, Utc};
use giosg_query::{Checkpoint, ListingIdentity};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

/// A store in one SQLite file.
#[derive(Debug)]
pub(crate) struct Sqlite {
    conn: Connection,
    opened: Opened,
}

impl Sqlite {
    /// Opens the store at `path` for this listing, creating it (readable by its owner only)
    /// and migrating its schema as needed. A file made for another listing is refused, and
    /// so is one whose listing an older giosg recorded ambiguously ([`Error::UnprovenListing`];
    /// see [`Store::adopt`](crate::Store::adopt)). A symbolic link is refused; an existing file that others may
    /// read is made owner-only ([`Store::opened`](crate::Store::opened) says so).
    pub(crate) fn open(path: &Path, listing: &ListingIdentity) -> Result<Sqlite, Error> {
        Self::open_with(path, Some(listing), false)
    }

    /// Opens an existing store to write it, whatever listing it holds.
    pub(crate) fn open_existing(path: &Path) -> Result<Sqlite, Error> {
        if !path.exists() {
            return Err(Error::File(std::io::Error::from(
                std::io::ErrorKind::NotFound,
            )));
        }
        Self::open_with(path, None, false)
    }

    /// Like [`Store::open`](crate::Store::open), but a file whose listing is unproven is taken for `listing`:
    /// for a full sync, after which the file holds exactly that listing (what it held beyond
    /// it is marked missing).
    pub(crate) fn adopt(path: &Path, listing: &ListingIdentity) -> Result<Sqlite, Error> {
        Self::open_with(path, Some(listing), true)
    }

    fn open_with(
        path: &Path,
        listing: Option<&ListingIdentity>,
        adopt: bool,
    ) -> Result<Sqlite, Error> {
        let opened = file::prepare(path)?;
        let mut conn = Connection::open(path).map_err(crate::sqlite)?;
        conn.pragma_update(None, "page_size", 8192)
            .map_err(crate::sqlite)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(crate::sqlite)?;
        // In WAL mode NORMAL is safe against a killed process (a power cut may lose the last
        // transactions, never consistency); a 32 MiB page cache keeps the indexes in memory.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(crate::sqlite)?;
        conn.pragma_update(None, "cache_size", -32_768)
            .map_err(crate::sqlite)?;
        // Checkpoint the WAL every 64 MiB rather than 4 MiB: fewer syncs to disk while a big
        // sync writes.
        conn.pragma_update(None, "wal_autocheckpoint", 16_384)
            .map_err(crate::sqlite)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(crate::sqlite)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(crate::sqlite)?;
        migrate(&mut conn)?;
        let Some(listing) = listing else {
            let held: i64 = conn
                .query_row("SELECT count(*) FROM sync_state", [], |r| r.get(0))
                .map_err(crate::sqlite)?;
            if held == 0 {
                return Err(Error::Location("the database holds no giosg copy".into()));
            }
            return Ok(Sqlite { conn, opened });
        };
        let org = listing.org().to_string();
        let found: Option<(String, Option<String>, Option<String>)> = conn
            .query_row(
                "SELECT org, listing, legacy_filter FROM sync_state WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(crate::sqlite)?;
        let other = |found: String| Error::OtherListing {
            found,
            wanted: listing.to_string(),
        };
        match found {
            None => {
                conn.execute(
                    "INSERT INTO sync_state (id, org, listing) VALUES (1, ?1, ?2)",
                    params![org, listing.query()],
                )
                .map_err(crate::sqlite)?;
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
                )
                .map_err(crate::sqlite)?;
            }
        }
        Ok(Sqlite { conn, opened })
    }

    /// Opens an existing store to read it only, whatever listing it holds: nothing is written,
    /// not even its permissions or schema, so a file in a read-only directory, or a read-only
    /// file, opens too (as an immutable file when SQLite cannot share it).
    pub(crate) fn open_read_only(path: &Path) -> Result<Sqlite, Error> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let check = |conn: Connection| -> Result<Sqlite, Error> {
            let version: i64 = conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(crate::sqlite)?;
            if version > SCHEMA_VERSION {
                return Err(Error::NewerSchema(version));
            }
            // A query that needs the tables: a file that is not a store fails here.
            conn.query_row("SELECT count(*) FROM sync_state", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(crate::sqlite)?;
            Ok(Sqlite {
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
            .map_err(crate::sqlite)
            .and_then(check);
        match plain {
            Ok(store) => Ok(store),
            Err(Error::Sqlite(_)) => {
                // WAL needs to create its shared-memory file beside the database: in a
                // read-only directory that fails, and an immutable open needs none.
                let uri = format!("file:{}?immutable=1", uri_path(path));
                let conn = Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
                    .map_err(crate::sqlite)?;
                check(conn)
            }
            Err(e) => Err(e),
        }
    }

    /// The file's schema version (`PRAGMA user_version`).
    fn version(&self) -> Result<i64, Error> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(crate::sqlite)
    }

    /// The organisation the file holds chats of.
    pub(crate) fn organisation(&self) -> Result<Option<String>, Error> {
        self.conn
            .query_row("SELECT org FROM sync_state WHERE id = 1", [], |r| r.get(0))
            .optional()
            .map_err(crate::sqlite)
    }

    /// What opening the file found and did (created it, tightened its permissions).
    pub(crate) fn opened(&self) -> &Opened {
        &self.opened
    }

    /// The run in progress: one that began and did not finish (it was killed, or its listing
    /// failed), to be continued from its checkpoint.
    pub(crate) fn run_in_progress(&self) -> Result<Option<Run>, Error> {
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
            .optional()
            .map_err(crate::sqlite)?;
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
    pub(crate) fn begin_run(&mut self, full: bool, checkpoint: &Checkpoint) -> Result<Run, Error> {
        let now = now();
        let json = serde_json::to_string(checkpoint).expect("a checkpoint serialises");
        let tx = self.conn.transaction().map_err(crate::sqlite)?;
        tx.execute(
            "UPDATE sync_runs SET finished_at = ?1 WHERE finished_at IS NULL",
            [&now],
        )
        .map_err(crate::sqlite)?;
        tx.execute(
            "INSERT INTO sync_runs (started_at, full, checkpoint) VALUES (?1, ?2, ?3)",
            params![now, full, json],
        )
        .map_err(crate::sqlite)?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(crate::sqlite)?;
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
    pub(crate) fn store_page(
        &mut self,
        run: &Run,
        chats: &[Chat],
        checkpoint: &Checkpoint,
    ) -> Result<Upserted, Error> {
        let now = now();
        let tx = self.conn.transaction().map_err(crate::sqlite)?;
        let mut counts = Upserted::default();
        {
            let mut statements = Statements::prepare(&tx)?;
            let mut seen = tx
                .prepare("UPDATE chats SET seen_run = ?1 WHERE id = ?2")
                .map_err(crate::sqlite)?;
            for chat in chats {
                let json = serde_json::to_string(chat).expect("a chat serialises");
                let id = chat.id.to_string();
                let stored: Option<(String, Option<String>)> = statements
                    .select
                    .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .map_err(crate::sqlite)?;
                match stored {
                    Some((old, None)) if old == json => counts.unchanged += 1,
                    Some(_) => {
                        // The children go with the old row (ON DELETE CASCADE).
                        statements.delete.execute([&id]).map_err(crate::sqlite)?;
                        statements.insert(chat, &json, &now)?;
                        counts.updated += 1;
                    }
                    None => {
                        statements.insert(chat, &json, &now)?;
                        counts.new += 1;
                    }
                }
                if run.full {
                    seen.execute(params![run.id, id]).map_err(crate::sqlite)?;
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
        )
        .map_err(crate::sqlite)?;
        tx.commit().map_err(crate::sqlite)?;
        Ok(counts)
    }

    /// Finishes a run whose listing completed: how far it got becomes where the next sync
    /// lists new chats from, and a full run marks every stored chat it did not list as missing
    /// since now (the server no longer serves it). Returns how many were newly marked.
    pub(crate) fn finish_run(&mut self, run: &Run) -> Result<u64, Error> {
        let now = now();
        let tx = self.conn.transaction().map_err(crate::sqlite)?;
        let missing = if run.full {
            tx.execute(
                "UPDATE chats SET missing_since = ?1
                 WHERE missing_since IS NULL AND (seen_run IS NULL OR seen_run != ?2)",
                params![now, run.id],
            )
            .map_err(crate::sqlite)? as u64
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
        )
        .map_err(crate::sqlite)?;
        tx.execute(
            "UPDATE sync_runs SET finished_at = ?1, missing = ?2 WHERE id = ?3",
            params![now, missing, run.id],
        )
        .map_err(crate::sqlite)?;
        tx.commit().map_err(crate::sqlite)?;
        Ok(missing)
    }

    /// Stores the organisation's rooms as the rooms listing returned them, in one transaction:
    /// each room's row is replaced, and a stored room the listing no longer returns is marked
    /// missing (not deleted: chats still name it). Returns how many were newly marked.
    pub(crate) fn store_rooms(&mut self, rooms: &[giosg_model::Room]) -> Result<u64, Error> {
        let now = now();
        let tx = self.conn.transaction().map_err(crate::sqlite)?;
        {
            let mut put = tx
                .prepare(
                    "INSERT OR REPLACE INTO rooms (id, name, display_name, domain, organization_id,
                     is_shared, is_deleted, json, fetched_at, missing_since)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL)",
                )
                .map_err(crate::sqlite)?;
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
                ])
                .map_err(crate::sqlite)?;
            }
        }
        let listed: std::collections::HashSet<String> =
            rooms.iter().map(|x| x.id.to_string()).collect();
        let missing = mark_missing(&tx, "rooms", &listed, &now)?;
        tx.commit().map_err(crate::sqlite)?;
        Ok(missing)
    }

    /// Stores the organisation's users as the users listing returned them; see
    /// [`Store::store_rooms`](crate::Store::store_rooms).
    pub(crate) fn store_users(&mut self, users: &[giosg_model::User]) -> Result<u64, Error> {
        let now = now();
        let tx = self.conn.transaction().map_err(crate::sqlite)?;
        {
            let mut put = tx.prepare(
                "INSERT OR REPLACE INTO users (id, full_name, first_name, last_name, alias, email,
                     is_bot, deleted_at, json, fetched_at, missing_since)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL)",
            ).map_err(crate::sqlite)?;
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
                ])
                .map_err(crate::sqlite)?;
            }
        }
        let listed: std::collections::HashSet<String> =
            users.iter().map(|x| x.id.to_string()).collect();
        let missing = mark_missing(&tx, "users", &listed, &now)?;
        tx.commit().map_err(crate::sqlite)?;
        Ok(missing)
    }

    /// The stored rooms' names to show, by id (`display_name`, else `name`; none in a file
    /// older than schema 4, read as it is).
    pub(crate) fn room_names(&self) -> Result<std::collections::HashMap<String, String>, Error> {
        if self.version()? < 4 {
            return Ok(Default::default());
        }
        let mut stmt = self
            .conn
            .prepare("SELECT id, coalesce(display_name, name) FROM rooms WHERE coalesce(display_name, name) IS NOT NULL").map_err(crate::sqlite)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(crate::sqlite)?;
        rows.collect::<Result<_, _>>().map_err(crate::sqlite)
    }

    /// The stored users' full names, by id (none in a file older than schema 4, read as it
    /// is).
    pub(crate) fn user_names(&self) -> Result<std::collections::HashMap<String, String>, Error> {
        if self.version()? < 4 {
            return Ok(Default::default());
        }
        let mut stmt = self
            .conn
            .prepare("SELECT id, full_name FROM users WHERE full_name IS NOT NULL")
            .map_err(crate::sqlite)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(crate::sqlite)?;
        rows.collect::<Result<_, _>>().map_err(crate::sqlite)
    }

    /// Where the next sync lists new chats from at the latest: the start time of the last
    /// chat of the last complete listing (`None` before the first one completed).
    pub(crate) fn listed_until(&self) -> Result<Option<DateTime<Utc>>, Error> {
        let t: Option<String> = self
            .conn
            .query_row(
                "SELECT listed_until FROM sync_state WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .map_err(crate::sqlite)?;
        Ok(t.and_then(|t| parse_sql_time(&t)))
    }

    /// The start times of the chats stored while they were still going on (no end time), and
    /// still served: they end, with more messages, and are read again.
    pub(crate) fn open_chat_starts(&self) -> Result<Vec<DateTime<Utc>>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT start_time FROM chats
             WHERE end_time IS NULL AND missing_since IS NULL AND start_time IS NOT NULL
             ORDER BY start_time",
            )
            .map_err(crate::sqlite)?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(crate::sqlite)?;
        let mut out = Vec::new();
        for t in rows {
            if let Some(t) = parse_sql_time(&t.map_err(crate::sqlite)?) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// How many stored chats started in `[lo, hi)`.
    pub(crate) fn chats_started_in(
        &self,
        lo: DateTime<Utc>,
        hi: DateTime<Utc>,
    ) -> Result<u64, Error> {
        self.conn
            .query_row(
                "SELECT count(*) FROM chats WHERE start_time >= ?1 AND start_time < ?2",
                [sql_time(&lo), sql_time(&hi)],
                |r| r.get(0),
            )
            .map_err(crate::sqlite)
    }

    /// Calls `f` with every chat the server still serves, decoded from its stored JSON, in
    /// start time order.
    pub(crate) fn for_each_live(&self, mut f: impl FnMut(Chat)) -> Result<(), Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, json FROM chats WHERE missing_since IS NULL ORDER BY start_time, id",
            )
            .map_err(crate::sqlite)?;
        let mut rows = stmt.query([]).map_err(crate::sqlite)?;
        while let Some(row) = rows.next().map_err(crate::sqlite)? {
            let json: String = row.get(1).map_err(crate::sqlite)?;
            let chat = serde_json::from_str(&json).map_err(|source| Error::Corrupt {
                what: format!("chat {}", row.get::<_, String>(0).unwrap_or_default()),
                source,
            })?;
            f(chat);
        }
        Ok(())
    }

    /// Replaces the rows of chats already stored with these versions (decrypted ones, say),
    /// in one transaction, keeping when each went missing and which run listed it; chats not
    /// stored are left out. Returns how many were replaced.
    pub(crate) fn replace(&mut self, chats: &[Chat]) -> Result<u64, Error> {
        let now = now();
        let tx = self.conn.transaction().map_err(crate::sqlite)?;
        let mut n = 0;
        {
            let mut statements = Statements::prepare(&tx)?;
            let mut kept = tx
                .prepare("SELECT missing_since, seen_run FROM chats WHERE id = ?1")
                .map_err(crate::sqlite)?;
            let mut restore = tx
                .prepare("UPDATE chats SET missing_since = ?1, seen_run = ?2 WHERE id = ?3")
                .map_err(crate::sqlite)?;
            for chat in chats {
                let id = chat.id.to_string();
                let was: Option<(Option<String>, Option<i64>)> = kept
                    .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .map_err(crate::sqlite)?;
                let Some((missing, seen)) = was else { continue };
                let json = serde_json::to_string(chat).expect("a chat serialises");
                statements.delete.execute([&id]).map_err(crate::sqlite)?;
                statements.insert(chat, &json, &now)?;
                restore
                    .execute(params![missing, seen, id])
                    .map_err(crate::sqlite)?;
                n += 1;
            }
        }
        tx.commit().map_err(crate::sqlite)?;
        Ok(n)
    }

    /// How many chats are stored, and how many of them are missing upstream.
    pub(crate) fn counts(&self) -> Result<(u64, u64), Error> {
        self.conn
            .query_row(
                "SELECT count(*), count(missing_since) FROM chats",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(crate::sqlite)
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
        ))
        .map_err(crate::sqlite)?
        .query_map([], |r| r.get(0))
        .map_err(crate::sqlite)?
        .collect::<Result<_, _>>()
        .map_err(crate::sqlite)?;
    let mut mark = tx
        .prepare(&format!(
            "UPDATE {table} SET missing_since = ?1 WHERE id = ?2"
        ))
        .map_err(crate::sqlite)?;
    let mut n = 0;
    for id in live.iter().filter(|id| !listed.contains(*id)) {
        mark.execute(params![now, id]).map_err(crate::sqlite)?;
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

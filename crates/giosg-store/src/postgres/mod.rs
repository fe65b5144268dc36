//! The PostgreSQL store: one schema of a database a team shares.
//!
//! The same tables and columns as the SQLite store ([`SCHEMA`](crate::SCHEMA)), in native
//! types: `uuid` ids, `timestamptz` times, exact `numeric` money (`83.00` keeps its scale),
//! `boolean`s, and the chat, room and user as the API sent them in `jsonb`. The schema's own
//! version is in its table `schema_version` ([`schema::VERSION`]).
//!
//! A writer holds a session-level advisory lock on its schema for as long as it is open, so
//! that two syncs never interleave; the lock dies with the session, also when the process is
//! killed. Pages go in as one multi-row statement per table (arrays unnested), in one
//! transaction with the run's checkpoint.
//!
//! The client runs on a thread of its own: the synchronous `postgres` client drives a runtime
//! of its own, which may not be entered from an async caller's thread, and a store is used
//! from both.

mod rows;
mod schema;
mod tls;

use crate::{Error, Run, Upserted};
use giosg_model::{Chat, DateTime, Utc};
use giosg_query::{Checkpoint, ListingIdentity};
use postgres::Client;
use std::sync::mpsc;

pub(crate) use tls::Tls;

/// The first key of the advisory lock a writer holds (`giosg` in ASCII, less its last
/// letter); the second is the schema's name hashed.
const LOCK_CLASS: i32 = 0x6769_6f73;

/// A checked PostgreSQL location: the client's configuration, TLS and the schema.
pub(crate) struct Target {
    config: postgres::Config,
    tls: Tls,
    schema: String,
}

impl Target {
    /// Reads a `postgres://` URL: `sslmode` and `sslrootcert` are this crate's to apply (see
    /// [`Location`](crate::Location)); the password comes from `PGPASSWORD` when the URL has
    /// none, the user from `PGUSER` or the login name when it has none.
    pub(crate) fn new(url: &str, schema: String) -> Result<Target, Error> {
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, q),
            None => (url, ""),
        };
        let mut kept = Vec::new();
        let mut mode = None;
        let mut root = None;
        for param in query.split('&').filter(|p| !p.is_empty()) {
            match param.split_once('=') {
                Some(("sslmode", v)) => mode = Some(v.to_owned()),
                Some(("sslrootcert", v)) => {
                    root = Some(
                        percent_encoding::percent_decode_str(v)
                            .decode_utf8_lossy()
                            .into_owned(),
                    )
                }
                _ => kept.push(param),
            }
        }
        let url = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
            Error::Location(format!("not a PostgreSQL URL this giosg can read: {e}"))
        })?;
        let tls = Tls::new(mode.as_deref(), root)?;
        config.ssl_mode(tls.ssl_mode());
        if config.get_password().is_none() {
            if let Some(password) = std::env::var_os("PGPASSWORD") {
                config.password(password.as_encoded_bytes());
            }
        }
        if config.get_user().is_none() {
            let user = ["PGUSER", "USER", "LOGNAME"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()));
            match user {
                Some(user) => config.user(&user),
                None => {
                    return Err(Error::Location(
                        "the PostgreSQL URL names no user (postgres://USER@HOST/DB), nor do PGUSER or USER".into(),
                    ))
                }
            };
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(15));
        }
        if config.get_application_name().is_none() {
            config.application_name("giosg");
        }
        Ok(Target {
            config,
            tls,
            schema,
        })
    }

    fn connect(&self) -> Result<Client, Error> {
        let client = match self.tls.connector()? {
            None => self.config.connect(postgres::NoTls),
            Some(tls) => self.config.connect(tls),
        }
        .map_err(pg)?;
        Ok(client)
    }
}

/// A PostgreSQL failure in plain words.
pub(crate) fn pg(e: postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        let mut words = format!(
            "the server refused: {} ({})",
            db.message(),
            db.code().code()
        );
        if let Some(detail) = db.detail() {
            words.push_str(&format!("; {detail}"));
        }
        // The server ending the session (a shutdown, an administrator) is the connection's;
        // anything else it refused is a refusal.
        let ended = db.code().code().starts_with("57P");
        let error = crate::DatabaseError {
            words,
            source: Box::new(e),
        };
        return if ended {
            Error::Connection(error)
        } else {
            Error::Postgres(error)
        };
    }
    let words = if e.is_closed() {
        "the connection to the server was closed (the server stopped or the network failed); run the same command again to go on".to_owned()
    } else {
        let mut words = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            words.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        words
    };
    Error::Connection(crate::DatabaseError {
        words,
        source: Box::new(e),
    })
}

type Job = Box<dyn FnOnce(&mut Client) + Send>;

/// A store in one schema of a PostgreSQL database, its client on a thread of its own.
pub(crate) struct Postgres {
    jobs: Option<mpsc::Sender<Job>>,
    worker: Option<std::thread::JoinHandle<()>>,
    schema: String,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // The worker ends when its queue closes; the session (and its lock) with it.
        drop(self.jobs.take());
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl Postgres {
    /// Connects as a writer: locks the schema, creates or migrates it, checks its listing.
    pub(crate) fn open(target: Box<Target>, listing: &ListingIdentity) -> Result<Postgres, Error> {
        let listing = listing.clone();
        Self::start(*target, move |client, schema| {
            schema::lock(client, schema)?;
            schema::migrate(client, schema)?;
            schema::claim(client, &listing)
        })
    }

    /// Connects as a writer of an existing copy, whatever listing it holds.
    pub(crate) fn open_existing(target: Box<Target>) -> Result<Postgres, Error> {
        Self::start(*target, |client, schema| {
            schema::check(client, schema)?;
            schema::lock(client, schema)?;
            schema::migrate(client, schema)
        })
    }

    /// Connects as a reader: the schema must exist; nothing is written.
    pub(crate) fn open_read_only(target: Box<Target>) -> Result<Postgres, Error> {
        Self::start(*target, schema::check)
    }

    fn start(
        target: Target,
        setup: impl FnOnce(&mut Client, &str) -> Result<(), Error> + Send + 'static,
    ) -> Result<Postgres, Error> {
        let schema = target.schema.clone();
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, started) = mpsc::sync_channel(1);
        let worker = std::thread::Builder::new()
            .name("giosg-postgres".into())
            .spawn(move || {
                let mut client = match target.connect().and_then(|mut client| {
                    setup(&mut client, &target.schema)?;
                    Ok(client)
                }) {
                    Ok(client) => client,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let _ = ready.send(Ok(()));
                while let Ok(job) = queue.recv() {
                    job(&mut client);
                }
            })
            .map_err(Error::File)?;
        let store = Postgres {
            jobs: Some(jobs),
            worker: Some(worker),
            schema,
        };
        match started.recv() {
            Ok(Ok(())) => Ok(store),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(gone()),
        }
    }

    /// Runs `f` with the client on its thread and waits for its answer.
    fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<R, Error> + Send + 'static,
    ) -> Result<R, Error> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |client| {
            let _ = tx.send(f(client));
        });
        self.jobs
            .as_ref()
            .ok_or_else(gone)?
            .send(job)
            .map_err(|_| gone())?;
        rx.recv().map_err(|_| gone())?
    }

    pub(crate) fn organisation(&self) -> Result<Option<String>, Error> {
        self.call(|c| {
            let row = c
                .query_opt("SELECT org::text FROM sync_state WHERE id = 1", &[])
                .map_err(pg)?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    pub(crate) fn run_in_progress(&self) -> Result<Option<Run>, Error> {
        self.call(|c| {
            let row = c
                .query_opt(
                    "SELECT id, \"full\", checkpoint::text, new, updated, unchanged FROM sync_runs
                     WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1",
                    &[],
                )
                .map_err(pg)?;
            let Some(row) = row else { return Ok(None) };
            let id: i64 = row.get(0);
            let checkpoint: String = row.get(2);
            let checkpoint =
                serde_json::from_str(&checkpoint).map_err(|source| Error::Corrupt {
                    what: format!("checkpoint of sync run {id}"),
                    source,
                })?;
            let count = |n: i64| u64::try_from(n).unwrap_or(0);
            Ok(Some(Run {
                id,
                full: row.get(1),
                checkpoint,
                stored: Upserted {
                    new: count(row.get(3)),
                    updated: count(row.get(4)),
                    unchanged: count(row.get(5)),
                },
            }))
        })
    }

    pub(crate) fn begin_run(&mut self, full: bool, checkpoint: &Checkpoint) -> Result<Run, Error> {
        let json = serde_json::to_string(checkpoint).expect("a checkpoint serialises");
        let id = self.call(move |c| {
            let now = Utc::now();
            let mut tx = c.transaction().map_err(pg)?;
            tx.execute(
                "UPDATE sync_runs SET finished_at = $1 WHERE finished_at IS NULL",
                &[&now],
            )
            .map_err(pg)?;
            let row = tx
                .query_one(
                    "INSERT INTO sync_runs (started_at, \"full\", checkpoint)
                     VALUES ($1, $2, $3::text::jsonb) RETURNING id",
                    &[&now, &full, &json],
                )
                .map_err(pg)?;
            tx.commit().map_err(pg)?;
            Ok(row.get::<_, i64>(0))
        })?;
        Ok(Run {
            id,
            full,
            checkpoint: checkpoint.clone(),
            stored: Upserted::default(),
        })
    }

    pub(crate) fn store_page(
        &mut self,
        run: &Run,
        chats: &[Chat],
        checkpoint: &Checkpoint,
    ) -> Result<Upserted, Error> {
        let page = rows::Page::new(chats);
        let checkpoint = serde_json::to_string(checkpoint).expect("a checkpoint serialises");
        let last = chats.iter().filter_map(|c| c.start_time).max();
        let (id, full) = (run.id, run.full);
        self.call(move |c| {
            let mut tx = c.transaction().map_err(pg)?;
            let counts = page.store(&mut tx, full.then_some(id))?;
            tx.execute(
                "UPDATE sync_runs SET checkpoint = $1::text::jsonb, new = new + $2,
                     updated = updated + $3, unchanged = unchanged + $4,
                     listed_until = GREATEST(listed_until, $5)
                 WHERE id = $6",
                &[
                    &checkpoint,
                    &(counts.new as i64),
                    &(counts.updated as i64),
                    &(counts.unchanged as i64),
                    &last,
                    &id,
                ],
            )
            .map_err(pg)?;
            tx.commit().map_err(pg)?;
            Ok(counts)
        })
    }

    pub(crate) fn finish_run(&mut self, run: &Run) -> Result<u64, Error> {
        let (id, full) = (run.id, run.full);
        self.call(move |c| {
            let now = Utc::now();
            let mut tx = c.transaction().map_err(pg)?;
            let missing = if full {
                tx.execute(
                    "UPDATE chats SET missing_since = $1
                     WHERE missing_since IS NULL AND (seen_run IS NULL OR seen_run <> $2)",
                    &[&now, &id],
                )
                .map_err(pg)?
            } else {
                0
            };
            tx.execute(
                "UPDATE sync_state SET
                     listed_until = GREATEST(listed_until,
                         (SELECT listed_until FROM sync_runs WHERE id = $3)),
                     last_sync_at = $1,
                     last_full_sync_at = CASE WHEN $2 THEN $1 ELSE last_full_sync_at END
                 WHERE id = 1",
                &[&now, &full, &id],
            )
            .map_err(pg)?;
            tx.execute(
                "UPDATE sync_runs SET finished_at = $1, missing = $2 WHERE id = $3",
                &[&now, &(missing as i64), &id],
            )
            .map_err(pg)?;
            tx.commit().map_err(pg)?;
            Ok(missing)
        })
    }

    pub(crate) fn store_rooms(&mut self, rooms: &[giosg_model::Room]) -> Result<u64, Error> {
        let rooms = rows::Rooms::new(rooms);
        self.call(move |c| {
            let mut tx = c.transaction().map_err(pg)?;
            let missing = rooms.store(&mut tx)?;
            tx.commit().map_err(pg)?;
            Ok(missing)
        })
    }

    pub(crate) fn store_users(&mut self, users: &[giosg_model::User]) -> Result<u64, Error> {
        let users = rows::Users::new(users);
        self.call(move |c| {
            let mut tx = c.transaction().map_err(pg)?;
            let missing = users.store(&mut tx)?;
            tx.commit().map_err(pg)?;
            Ok(missing)
        })
    }

    pub(crate) fn room_names(&self) -> Result<std::collections::HashMap<String, String>, Error> {
        self.names(
            "SELECT id::text, coalesce(display_name, name) FROM rooms
             WHERE coalesce(display_name, name) IS NOT NULL",
        )
    }

    pub(crate) fn user_names(&self) -> Result<std::collections::HashMap<String, String>, Error> {
        self.names("SELECT id::text, full_name FROM users WHERE full_name IS NOT NULL")
    }

    fn names(&self, sql: &'static str) -> Result<std::collections::HashMap<String, String>, Error> {
        self.call(move |c| {
            let rows = c.query(sql, &[]).map_err(pg)?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    pub(crate) fn listed_until(&self) -> Result<Option<DateTime<Utc>>, Error> {
        self.call(|c| {
            let row = c
                .query_opt("SELECT listed_until FROM sync_state WHERE id = 1", &[])
                .map_err(pg)?;
            Ok(row.and_then(|r| r.get(0)))
        })
    }

    pub(crate) fn open_chat_starts(&self) -> Result<Vec<DateTime<Utc>>, Error> {
        self.call(|c| {
            let rows = c
                .query(
                    "SELECT start_time FROM chats
                     WHERE end_time IS NULL AND missing_since IS NULL AND start_time IS NOT NULL
                     ORDER BY start_time",
                    &[],
                )
                .map_err(pg)?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    pub(crate) fn chats_started_in(
        &self,
        lo: DateTime<Utc>,
        hi: DateTime<Utc>,
    ) -> Result<u64, Error> {
        self.call(move |c| {
            let row = c
                .query_one(
                    "SELECT count(*) FROM chats WHERE start_time >= $1 AND start_time < $2",
                    &[&lo, &hi],
                )
                .map_err(pg)?;
            Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
        })
    }

    pub(crate) fn for_each_live(&self, mut f: impl FnMut(Chat)) -> Result<(), Error> {
        // The rows stream from the worker a bounded number at a time, while this side reads
        // them; the last item says the rows ended (`None`) or why they did not.
        let (tx, rx) = mpsc::sync_channel::<Result<Option<Chat>, Error>>(256);
        let job: Job = Box::new(move |c| {
            use postgres::fallible_iterator::FallibleIterator;
            let mut stream = |tx: &mpsc::SyncSender<_>| -> Result<(), Error> {
                let mut rows = c
                    .query_raw(
                        "SELECT id::text, json::text FROM chats WHERE missing_since IS NULL
                         ORDER BY start_time, id",
                        std::iter::empty::<&str>(),
                    )
                    .map_err(pg)?;
                while let Some(row) = rows.next().map_err(pg)? {
                    let chat = serde_json::from_str(row.get::<_, &str>(1)).map_err(|source| {
                        Error::Corrupt {
                            what: format!("chat {}", row.get::<_, &str>(0)),
                            source,
                        }
                    })?;
                    if tx.send(Ok(Some(chat))).is_err() {
                        break; // the reader stopped
                    }
                }
                Ok(())
            };
            let _ = tx.send(stream(&tx).map(|()| None));
        });
        self.jobs
            .as_ref()
            .ok_or_else(gone)?
            .send(job)
            .map_err(|_| gone())?;
        for item in rx {
            match item? {
                Some(chat) => f(chat),
                None => return Ok(()),
            }
        }
        Err(gone())
    }

    pub(crate) fn replace(&mut self, chats: &[Chat]) -> Result<u64, Error> {
        let page = rows::Page::new(chats);
        self.call(move |c| {
            let mut tx = c.transaction().map_err(pg)?;
            let n = page.replace(&mut tx)?;
            tx.commit().map_err(pg)?;
            Ok(n)
        })
    }

    pub(crate) fn counts(&self) -> Result<(u64, u64), Error> {
        self.call(|c| {
            let row = c
                .query_one("SELECT count(*), count(missing_since) FROM chats", &[])
                .map_err(pg)?;
            let n = |i| u64::try_from(row.get::<_, i64>(i)).unwrap_or(0);
            Ok((n(0), n(1)))
        })
    }
}

/// The worker thread is gone (it panicked, or never started).
fn gone() -> Error {
    Error::Connection(crate::DatabaseError {
        words: "the PostgreSQL client stopped unexpectedly".into(),
        source: "worker thread gone".into(),
    })
}

//! `giosg chats sync --db postgres://…` keeps a PostgreSQL copy with every guarantee of the
//! SQLite one, against a real server (giosg-test-postgres): first and unchanged syncs,
//! updates, `--full`, another listing refused, kill -9 at random points, two syncs at once, the
//! server stopped mid-sync, TLS, and the password never printed.

use crate::common::{chats, mock, recent_chats, run, Run};
use giosg_async::ChatFilter;
use giosg_mock::MockServer;
use giosg_sync::{ListingIdentity, Location, Store};
use giosg_test_postgres::{postgres::Client, Cluster};
use std::collections::BTreeMap;
use std::process::Stdio;

/// A copy in a schema of its own on the shared test server.
struct Copy {
    url: String,
    schema: String,
}

impl Copy {
    fn new(name: &str) -> Copy {
        Copy::on(giosg_test_postgres::url(), name)
    }

    fn on(url: String, name: &str) -> Copy {
        Copy {
            url,
            schema: giosg_test_postgres::schema(name),
        }
    }

    fn args(&self) -> [String; 4] {
        [
            "--db".into(),
            self.url.clone(),
            "--db-schema".into(),
            self.schema.clone(),
        ]
    }

    fn sync(&self, mock: &MockServer, args: &[&str]) -> Run {
        let mut cmd = chats(mock, "sync", args);
        cmd.args(self.args());
        run(&mut cmd)
    }

    fn location(&self) -> Location {
        Location::parse(&self.url)
            .unwrap()
            .schema(&self.schema)
            .unwrap()
    }

    /// The live chats by id, as their JSON.
    fn stored(&self) -> BTreeMap<String, String> {
        let store = Store::open_read_only(self.location()).unwrap();
        let mut out = BTreeMap::new();
        store
            .for_each_live(|c| {
                out.insert(c.id.to_string(), serde_json::to_string(&c).unwrap());
            })
            .unwrap();
        out
    }

    fn store(&self, mock: &MockServer) -> Store {
        Store::open(
            self.location(),
            &ListingIdentity::new(mock.org(), &ChatFilter::new()),
        )
        .unwrap()
    }

    fn client(&self) -> Client {
        let mut client = giosg_test_postgres::client(&self.url);
        client
            .batch_execute(&format!("SET search_path TO {}", self.schema))
            .unwrap();
        client
    }

    /// Every row of every chat table as text, sorted; without the columns that differ
    /// between two copies of the same chats (row numbers, when a row was written, which run
    /// listed it).
    fn tables(&self) -> BTreeMap<String, Vec<String>> {
        let mut db = self.client();
        let mut out = BTreeMap::new();
        for table in [
            "chats",
            "chat_logs",
            "chat_tags",
            "chat_api_data",
            "shopping_carts",
            "cart_products",
        ] {
            let columns: Vec<String> = db
                .query(
                    "SELECT column_name::text FROM information_schema.columns
                     WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                    &[&self.schema, &table],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .filter(|c: &String| {
                    !["seq", "chat_seq", "fetched_at", "seen_run"].contains(&c.as_str())
                })
                .collect();
            assert!(columns.len() > 2, "{table}: {columns:?}");
            let cells: Vec<String> = columns
                .iter()
                .map(|c| format!("coalesce(quote_literal({c}), 'NULL')"))
                .collect();
            let sql = format!("SELECT concat_ws('|', {}) FROM {table}", cells.join(", "));
            let mut rows: Vec<String> = db
                .query(&sql, &[])
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            rows.sort();
            out.insert(table.to_owned(), rows);
        }
        out
    }
}

/// The mock's chats by id, as their JSON.
fn served(mock: &MockServer) -> BTreeMap<String, String> {
    mock.chats()
        .iter()
        .map(|c| (c.id.to_string(), serde_json::to_string(c).unwrap()))
        .collect()
}

#[test]
fn a_postgres_copy_follows_new_changed_and_deleted_chats_and_summarises_offline() {
    let mut chats0 = recent_chats(71, 120);
    for c in &mut chats0 {
        c.end_time = c.end_time.or(c.start_time);
    }
    for c in chats0.iter_mut().rev().take(4) {
        c.end_time = None;
    }
    let mock = MockServer::builder().chats(chats0.clone()).start().unwrap();
    let copy = Copy::new("e2e_follow");

    let out = copy.sync(&mock, &["--page-size", "20", "--lookback", "0"]);
    out.ok();
    assert!(
        out.stderr.contains("120 new, 0 updated, 0 unchanged"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("into {}", copy.url)),
        "{}",
        out.stderr
    );
    assert_eq!(copy.stored(), served(&mock));

    // Unchanged: nothing is written.
    let again = copy.sync(&mock, &["--page-size", "20", "--lookback", "0"]);
    again.ok();
    assert!(
        again.stderr.contains(" 0 new, 0 updated"),
        "{}",
        again.stderr
    );

    // An open chat ends with one more message; two new chats.
    let mut ended = chats0[118].clone();
    ended.end_time = ended.start_time;
    ended.logs.push(giosg_async::ChatLog::new());
    let last = chats0.iter().filter_map(|c| c.start_time).max().unwrap();
    let mut generator = giosg_mock::Generator::new(98, last + chrono::TimeDelta::hours(1));
    mock.push_chats(vec![ended, generator.chat(), generator.chat()]);
    let out = copy.sync(&mock, &["--lookback", "0"]);
    out.ok();
    assert!(out.stderr.contains("2 new, 1 updated"), "{}", out.stderr);
    assert_eq!(copy.stored(), served(&mock));

    // Deleted upstream: a full sync marks them missing.
    let gone: Vec<_> = mock.chats()[10..13].iter().map(|c| c.id).collect();
    mock.delete_chats(&gone);
    let out = copy.sync(&mock, &["--full"]);
    out.ok();
    assert!(
        out.stderr.contains("3 no longer served (marked missing)"),
        "{}",
        out.stderr
    );
    assert_eq!(copy.stored(), served(&mock));
    assert_eq!(copy.store(&mock).counts().unwrap(), (122, 3));

    // The offline summary of the PostgreSQL copy prints what the one against the API prints.
    let online = run(&mut chats(&mock, "summary", &[])).ok().to_owned();
    let mut offline = chats(&mock, "summary", &[]);
    offline.args(copy.args()).env_remove("GIOSG_API_TOKEN");
    mock.clear_requests();
    assert_eq!(run(&mut offline).ok(), online);
    assert!(mock.requests().is_empty(), "offline means offline");

    // Another listing is refused, before any request.
    mock.clear_requests();
    let out = copy.sync(&mock, &["--tag", "Other"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("was made for"), "{}", out.stderr);
    assert!(mock.requests().iter().all(|r| !r.path.ends_with("/chats")));
}

/// Killed while the mock holds its next answer, a sync into PostgreSQL leaves whole pages and
/// the checkpoint after them (and its lock dies with its session); the rerun continues, and
/// the copy equals one an uninterrupted sync makes, row by row, and the server's chats.
#[test]
fn killed_mid_run_a_postgres_sync_continues_where_it_stood() {
    let mock = mock(72, 300);
    let args = ["--page-size", "10", "--concurrency", "4"];
    let clean = Copy::new("e2e_clean");
    clean.sync(&mock, &args).ok();
    let oracle = clean.tables();
    let mut rng = fastrand::Rng::with_seed(72);
    for round in 0..3 {
        let copy = Copy::new("e2e_kill");
        for _ in 0..rng.usize(1..=2) {
            mock.hold_from(rng.u64(2..20));
            let mut cmd = chats(&mock, "sync", &args);
            cmd.args(copy.args())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let mut child = cmd.spawn().unwrap();
            mock.wait_until_held();
            child.kill().unwrap();
            child.wait().unwrap();
            mock.release();
            // Opening as a writer also proves the killed session's lock is gone.
            let store = copy.store(&mock);
            assert!(
                store.run_in_progress().unwrap().is_some(),
                "round {round}: the kill landed mid-run"
            );
            let stored = store.counts().unwrap().0;
            assert!(stored < 300, "round {round}: mid-run ({stored} stored)");
        }
        let out = copy.sync(&mock, &args);
        out.ok();
        assert!(
            out.stderr
                .contains("(continued where the last run stopped)"),
            "{}",
            out.stderr
        );
        assert_eq!(copy.stored(), served(&mock), "round {round}");
        assert_eq!(copy.tables(), oracle, "round {round}: every row");
    }
}

#[test]
fn a_second_sync_into_the_same_copy_is_refused_while_the_first_runs() {
    let mock = mock(73, 100);
    let copy = Copy::new("e2e_two");
    let args = ["--page-size", "10"];
    mock.hold_from(3);
    let mut cmd = chats(&mock, "sync", &args);
    cmd.args(copy.args())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let first = cmd.spawn().unwrap();
    mock.wait_until_held();
    let second = copy.sync(&mock, &args);
    assert_eq!(second.code, 1, "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains("another giosg sync is writing schema"),
        "{}",
        second.stderr
    );
    mock.release();
    let first = first.wait_with_output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(copy.stored(), served(&mock));
}

#[test]
fn a_server_stopped_mid_sync_ends_the_run_and_a_rerun_squares_up() {
    let cluster = Cluster::start();
    let mock = mock(74, 200);
    let copy = Copy::on(cluster.url(), "e2e_stop");
    let args = ["--page-size", "10", "--concurrency", "2"];
    mock.hold_from(6);
    let mut cmd = chats(&mock, "sync", &args);
    cmd.args(copy.args())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    mock.wait_until_held();
    cluster.stop();
    mock.release();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("PostgreSQL connection"), "{stderr}");
    cluster.resume();
    copy.sync(&mock, &args).ok();
    assert_eq!(copy.stored(), served(&mock));
}

#[test]
fn tls_is_required_and_verified_as_sslmode_says() {
    let cluster = Cluster::start_with_tls();
    let mock = mock(75, 30);
    let port = cluster.port();
    let at =
        |host: &str, query: &str| format!("postgres://postgres@{host}:{port}/postgres?{query}");
    // Encrypted, the self-signed certificate not checked (libpq's require).
    let required = Copy::on(at("127.0.0.1", "sslmode=require"), "e2e_tls");
    required.sync(&mock, &[]).ok();
    // Checked: a certificate no authority issued is refused ...
    let refused = Copy::on(at("localhost", "sslmode=verify-full"), "e2e_tls");
    let out = refused.sync(&mock, &[]);
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(
        out.stderr.to_lowercase().contains("certificate"),
        "{}",
        out.stderr
    );
    // ... trusted with sslrootcert, it is accepted for the name it was issued for ...
    let root = format!(
        "sslmode=verify-full&sslrootcert={}",
        cluster.certificate().display()
    );
    let verified = Copy::on(at("localhost", &root), "e2e_tls_verified");
    verified.sync(&mock, &[]).ok();
    assert_eq!(verified.stored(), served(&mock));
    // ... and not for another.
    let other = Copy::on(at("127.0.0.1", &root), "e2e_tls_other");
    let out = other.sync(&mock, &[]);
    assert_eq!(out.code, 5, "{}", out.stderr);
    // A server without TLS does not do for require.
    let plain = Copy::on(
        format!("{}?sslmode=require", giosg_test_postgres::url()),
        "e2e_tls_plain",
    );
    let out = plain.sync(&mock, &[]);
    assert_eq!(out.code, 5, "{}", out.stderr);
}

#[test]
fn the_password_is_never_printed_even_at_trace() {
    let mock = mock(76, 20);
    // Trust authentication: the server takes any password, so the run gets far enough to log.
    let url = giosg_test_postgres::url().replace("postgres@", "postgres:hunter2-secret@");
    let copy = Copy::on(url, "e2e_secret");
    let mut runs = Vec::new();
    let mut cmd = chats(&mock, "sync", &[]);
    cmd.args(copy.args()).env("RUST_LOG", "trace");
    runs.push(run(&mut cmd));
    // Refused: another listing, and a server that is not there.
    let mut cmd = chats(&mock, "sync", &["--tag", "x"]);
    cmd.args(copy.args()).env("RUST_LOG", "trace");
    runs.push(run(&mut cmd));
    let nowhere = Copy::on(
        "postgres://postgres:hunter2-secret@127.0.0.1:1/postgres".into(),
        "e2e_secret",
    );
    let mut cmd = chats(&mock, "sync", &[]);
    cmd.args(nowhere.args()).env("RUST_LOG", "trace");
    runs.push(run(&mut cmd));
    // From the environment.
    let mut cmd = chats(&mock, "summary", &[]);
    cmd.args(Copy::new("e2e_secret_env").args())
        .env("PGPASSWORD", "hunter2-secret")
        .env("RUST_LOG", "trace");
    runs.push(run(&mut cmd));
    assert_eq!(runs[0].code, 0, "{}", runs[0].stderr);
    assert!(
        runs[0].stderr.contains("postgres:***@"),
        "{}",
        runs[0].stderr
    );
    assert_eq!(runs[1].code, 2, "{}", runs[1].stderr);
    assert_eq!(runs[2].code, 5, "{}", runs[2].stderr);
    for r in &runs {
        assert!(
            !r.stdout.contains("hunter2") && !r.stderr.contains("hunter2"),
            "{}{}",
            r.stdout,
            r.stderr
        );
    }
}

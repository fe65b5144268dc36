//! `giosg chats sync` keeps a SQLite copy true: new chats, chats that changed, chats deleted
//! upstream (with --full), crash-safe; `summary --db` gives the figures offline.

use crate::common::{chats, mock, recent_chats, run, temp_dir};
use giosg_async::{Chat, ChatFilter, Tag};
use giosg_mock::{Fault, FaultPlan, MockServer};
use giosg_sync::{ListingIdentity, Store};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

fn sync(mock: &MockServer, db: &Path, args: &[&str]) -> crate::common::Run {
    let mut cmd = chats(mock, "sync", args);
    cmd.arg("--db").arg(db);
    run(&mut cmd)
}

/// The store's live chats by id, as their JSON.
fn stored(mock: &MockServer, db: &Path) -> BTreeMap<String, String> {
    let store = open(mock, db);
    let mut out = BTreeMap::new();
    store
        .for_each_live(|c| {
            out.insert(c.id.to_string(), serde_json::to_string(&c).unwrap());
        })
        .unwrap();
    out
}

/// The store of the whole listing of the mock's chats.
fn open(mock: &MockServer, db: &Path) -> Store {
    Store::open(db, &ListingIdentity::new(mock.org(), &ChatFilter::new())).unwrap()
}

/// Every row of every table, as SQLite quotes its values, sorted; without the columns that
/// differ between two copies of the same chats (row numbers, when a row was written, which
/// run listed it).
fn tables(mock: &MockServer, db: &Path) -> BTreeMap<String, Vec<String>> {
    drop(open(mock, db));
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut out = BTreeMap::new();
    for table in [
        "chats",
        "chat_logs",
        "chat_tags",
        "chat_api_data",
        "shopping_carts",
        "cart_products",
    ] {
        let columns: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let kept: Vec<String> = columns
            .iter()
            .filter(|c| !["seq", "chat_seq", "fetched_at", "seen_run"].contains(&c.as_str()))
            .map(|c| format!("quote({c})"))
            .collect();
        assert!(kept.len() > 2, "{table}: {columns:?}");
        let sql = format!("SELECT {} FROM {table}", kept.join(" || '|' || "));
        let mut rows: Vec<String> = conn
            .prepare(&sql)
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        out.insert(table.to_owned(), rows);
    }
    out
}

/// The mock's chats by id, as their JSON.
fn served(mock: &MockServer) -> BTreeMap<String, String> {
    mock.chats()
        .iter()
        .map(|c| (c.id.to_string(), serde_json::to_string(c).unwrap()))
        .collect()
}

#[test]
fn a_sync_stores_every_chat_and_a_second_one_changes_nothing() {
    // Every chat has ended: nothing is listed again for being open.
    let mut all = giosg_mock::generate(61, 230);
    for c in &mut all {
        c.end_time = c.end_time.or(c.start_time);
    }
    let mock = MockServer::builder().chats(all).start().unwrap();
    let dir = temp_dir("sync-first");
    let db = dir.join("chats.db");
    let out = sync(&mock, &db, &["--page-size", "20"]);
    out.ok();
    assert!(
        out.stderr.contains("230 new, 0 updated, 0 unchanged"),
        "{}",
        out.stderr
    );
    assert_eq!(stored(&mock, &db), served(&mock));

    mock.clear_requests();
    let again = sync(&mock, &db, &["--page-size", "20", "--lookback", "0"]);
    again.ok();
    assert!(
        again.stderr.contains(" 0 new, 0 updated"),
        "{}",
        again.stderr
    );
    // Nothing changed: only the tail of the listing is asked for again (and the rooms and
    // users, two pages each).
    let chats_requests = mock
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/chats"))
        .count();
    assert!(chats_requests <= 3, "{chats_requests}");
    assert_eq!(stored(&mock, &db), served(&mock));
}

#[test]
fn chats_that_end_or_change_and_new_chats_are_followed() {
    let mut chats0 = recent_chats(62, 60);
    // The last five are still going on; the others have ended.
    for c in &mut chats0 {
        c.end_time = c.end_time.or(c.start_time);
    }
    for c in chats0.iter_mut().rev().take(5) {
        c.end_time = None;
    }
    let mock = MockServer::builder().chats(chats0.clone()).start().unwrap();
    let dir = temp_dir("sync-updates");
    let db = dir.join("chats.db");
    sync(&mock, &db, &["--lookback", "0"]).ok();
    assert_eq!(stored(&mock, &db), served(&mock));

    // One open chat ends with one more message; an old chat gets a tag; two new chats.
    let mut changed: Vec<Chat> = Vec::new();
    let mut ended = chats0[57].clone();
    ended.end_time = ended.start_time;
    ended.logs.push(giosg_async::ChatLog::new());
    changed.push(ended);
    let mut tagged = chats0[2].clone();
    tagged.tags.push(Tag::new("Followed up"));
    changed.push(tagged);
    let last = chats0.iter().filter_map(|c| c.start_time).max().unwrap();
    let mut generator = giosg_mock::Generator::new(99, last + chrono::TimeDelta::hours(1));
    changed.push(generator.chat());
    changed.push(generator.chat());
    mock.push_chats(changed);

    // Without a lookback reaching it, the tag on an old chat is not seen: the open chat and
    // the new ones are.
    let out = sync(&mock, &db, &["--lookback", "0"]);
    assert!(out.ok().is_empty());
    assert!(out.stderr.contains("2 new, 1 updated"), "{}", out.stderr);
    // A full sync lists everything: the old chat's tag comes too.
    let out = sync(&mock, &db, &["--full"]);
    out.ok();
    assert!(out.stderr.contains("0 new, 1 updated"), "{}", out.stderr);
    assert_eq!(stored(&mock, &db), served(&mock));
}

#[test]
fn a_full_sync_marks_deleted_chats_and_the_summary_leaves_them_out() {
    let mock = mock(63, 80);
    let dir = temp_dir("sync-full");
    let db = dir.join("chats.db");
    sync(&mock, &db, &[]).ok();
    let gone: Vec<_> = mock.chats()[10..14].iter().map(|c| c.id).collect();
    mock.delete_chats(&gone);
    let out = sync(&mock, &db, &["--full"]);
    out.ok();
    assert!(
        out.stderr.contains("4 no longer served (marked missing)"),
        "{}",
        out.stderr
    );
    assert_eq!(stored(&mock, &db), served(&mock));
    let store = open(&mock, &db);
    assert_eq!(store.counts().unwrap(), (80, 4));

    // The offline summary prints what the summary against the API prints.
    let online = run(&mut chats(&mock, "summary", &[])).ok().to_owned();
    let mut offline = chats(&mock, "summary", &[]);
    offline.arg("--db").arg(&db).env_remove("GIOSG_API_TOKEN");
    mock.clear_requests();
    assert_eq!(run(&mut offline).ok(), online);
    assert!(mock.requests().is_empty(), "offline means offline");
}

#[test]
fn chats_deleted_and_inserted_during_a_sync_lose_nothing_and_a_full_sync_squares_up() {
    let mock = MockServer::builder()
        .generated(66, 150)
        .faults(
            FaultPlan::new()
                .on_request(2, Fault::DeleteOldest { chats: 10 })
                .on_request(3, Fault::Insert { chats: 15 })
                .on_requests([4, 9], Fault::DeleteLast)
                .on_requests([6, 11], Fault::DeleteCursor),
        )
        .start()
        .unwrap();
    let before = mock.chats();
    let dir = temp_dir("sync-churn");
    let db = dir.join("chats.db");
    let args = ["--page-size", "10", "--concurrency", "4"];
    sync(&mock, &db, &args).ok();
    let after = served(&mock);
    let stored_now = stored(&mock, &db);
    // Every chat that was there from start to end of the run is stored, as it is served.
    for chat in &before {
        let id = chat.id.to_string();
        if let Some(json) = after.get(&id) {
            assert_eq!(stored_now.get(&id), Some(json), "chat {id}");
        }
    }
    // Chats deleted meanwhile may have been stored before they went: a full sync marks them,
    // and finds the inserted chats the keyset listing had passed.
    assert!(mock.requests().len() > 11, "every fault was served");
    let deleted_but_stored = stored_now
        .keys()
        .filter(|id| !after.contains_key(*id))
        .count();
    assert!(deleted_but_stored > 0, "a deleted chat had been stored");
    let full = sync(&mock, &db, &["--full", "--page-size", "10"]);
    full.ok();
    assert!(
        full.stderr.contains(&format!(
            "{deleted_but_stored} no longer served (marked missing)"
        )),
        "{}",
        full.stderr
    );
    assert_eq!(stored(&mock, &db), served(&mock));
}

#[test]
fn a_database_for_another_listing_is_refused() {
    let mock = mock(64, 10);
    let dir = temp_dir("sync-other");
    let db = dir.join("chats.db");
    sync(&mock, &db, &["--tag", "Premium"]).ok();
    mock.clear_requests();
    let out = sync(&mock, &db, &["--tag", "Other"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("was made for"), "{}", out.stderr);
    assert!(mock.requests().is_empty());
}

/// Killed while the mock holds its next answer (so the kill lands mid-run, at a point the
/// test chose), a sync leaves whole pages and the checkpoint after them; the rerun lists no
/// page committed before the kill (but those in flight then), and the database equals the one
/// an uninterrupted sync makes, table by table, row by row, and the server's chats.
#[test]
fn killed_mid_run_a_rerun_continues_where_it_stood() {
    let mock = mock(65, 400);
    let dir = temp_dir("sync-kill");
    let args = ["--page-size", "10", "--concurrency", "4"];
    let clean = dir.join("clean.db");
    let before = mock.chats_requests();
    sync(&mock, &clean, &args).ok();
    let full = mock.chats_requests() - before;
    assert!(full >= 40, "{full} requests for 400 chats in pages of 10");
    let oracle = tables(&mock, &clean);
    let mut rng = fastrand::Rng::with_seed(65);
    for round in 0..5 {
        let db = dir.join(format!("chats-{round}.db"));
        for _ in 0..rng.usize(1..=2) {
            let stored_before = if db.exists() {
                open(&mock, &db).counts().unwrap().0
            } else {
                0
            };
            mock.hold_from(rng.u64(2..20));
            let mut cmd = chats(&mock, "sync", &args);
            cmd.arg("--db")
                .arg(&db)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let mut child = cmd.spawn().unwrap();
            mock.wait_until_held();
            child.kill().unwrap();
            child.wait().unwrap();
            mock.release();
            let store = open(&mock, &db);
            let run = store.run_in_progress().unwrap();
            assert!(run.is_some(), "round {round}: the kill landed mid-run");
            let stored = store.counts().unwrap().0;
            assert!(stored < 400, "round {round}: mid-run ({stored} stored)");
            assert!(stored >= stored_before, "round {round}: nothing lost");
        }
        let store = open(&mock, &db);
        let committed = store.counts().unwrap().0;
        let windows = store
            .run_in_progress()
            .unwrap()
            .map_or(0, |r| r.checkpoint.window_count() as u64);
        drop(store);
        let before = mock.chats_requests();
        let out = sync(&mock, &db, &args);
        out.ok();
        assert!(
            out.stderr
                .contains("(continued where the last run stopped)"),
            "{}",
            out.stderr
        );
        let rerun = mock.chats_requests() - before;
        // The pages committed are not asked for again: at most the requests in flight at the
        // kill (4), and one more per window the checkpoint left, come on top of what was left.
        assert!(
            rerun + committed / 10 <= full + 4 + windows,
            "round {round}: {rerun} requests after {committed} chats committed ({full} for all, {windows} windows)"
        );
        assert_eq!(stored(&mock, &db), served(&mock), "round {round}");
        assert_eq!(tables(&mock, &db), oracle, "round {round}: every row");
    }
}

#[test]
fn a_database_made_with_a_false_filter_is_not_the_whole_listing() {
    let mock = mock(67, 40);
    let dir = temp_dir("sync-false");
    for flag in ["--has-sales", "--is-real-conversation"] {
        let db = dir.join(format!("{flag}.db"));
        sync(&mock, &db, &[flag, "false"]).ok();
        mock.clear_requests();
        let out = sync(&mock, &db, &[]);
        let line = out.fails(2);
        assert!(line.contains("=false"), "{line}");
        assert!(mock.requests().is_empty(), "refused before any request");
        sync(&mock, &db, &[flag, "false"]).ok();
    }
}

#[test]
fn a_chat_twice_in_an_answer_is_stored_once_with_a_warning() {
    for changed in [false, true] {
        let mock = MockServer::builder()
            .generated(68, 50)
            .faults(FaultPlan::new().on_request(0, Fault::Twice { changed }))
            .start()
            .unwrap();
        let dir = temp_dir("sync-twice");
        let db = dir.join("chats.db");
        let out = sync(&mock, &db, &["--page-size", "20", "--concurrency", "1"]);
        out.ok();
        assert!(out.stderr.contains("50 new"), "{}", out.stderr);
        assert!(
            out.stderr.contains("warning: an answer held chat") && out.stderr.contains("twice"),
            "{}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("fewer"),
            "nothing missing: {}",
            out.stderr
        );
        assert_eq!(
            stored(&mock, &db),
            served(&mock),
            "the later row, as served"
        );
    }
}

/// `summary --db` needs no organisation (the file knows it, and the token is not needed),
/// applies any filter to the stored chats as the API would, and opens the file read-only: in a
/// read-only directory too.
#[test]
fn an_offline_summary_needs_no_org_takes_filters_and_reads_a_read_only_copy() {
    let mock = mock(69, 120);
    let dir = temp_dir("sync-offline");
    let db = dir.join("chats.db");
    sync(&mock, &db, &[]).ok();
    let start = mock.chats()[40].start_time.unwrap();
    let start = giosg_async::time::format(&start);
    let tag = mock
        .chats()
        .iter()
        .find_map(|c| c.tags.first().and_then(|t| t.name.clone()))
        .expect("a tagged chat");
    for filters in [
        vec![],
        vec!["--tag", tag.as_str()],
        vec!["--start-time", start.as_str(), "--only-ended"],
        vec!["--has-sales", "false", "--is-real-conversation", "true"],
    ] {
        let online = run(&mut chats(&mock, "summary", &filters)).ok().to_owned();
        let mut offline = crate::common::giosg(["chats", "summary", "--db"]);
        offline.arg(&db).args(&filters);
        assert_eq!(run(&mut offline).ok(), online, "{filters:?}");
    }
    // Another organisation's --org is refused; a file that is not a database says so plainly.
    let mut other = crate::common::giosg([
        "chats",
        "summary",
        "--org",
        "00000000-0000-0000-0000-000000000001",
        "--db",
    ]);
    other.arg(&db);
    run(&mut other).fails(2);
    let junk = dir.join("junk.db");
    std::fs::write(&junk, vec![b'x'; 4096]).unwrap();
    let mut cmd = crate::common::giosg(["chats", "summary", "--db"]);
    cmd.arg(&junk);
    let line = run(&mut cmd).fails(1).to_owned();
    assert!(line.contains("not a giosg database"), "{line}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Read-only file in a read-only directory (root ignores modes: the open must not try
        // to write anyway, which SQLite would do for WAL's shared memory).
        let online = run(&mut chats(&mock, "summary", &[])).ok().to_owned();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o400)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
        let mut cmd = crate::common::giosg(["chats", "summary", "--db"]);
        cmd.arg(&db);
        let out = run(&mut cmd);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(out.ok(), online);
    }
}

#[test]
fn the_organisation_and_base_url_come_from_the_environment() {
    let mock = mock(70, 30);
    let dir = temp_dir("sync-env");
    let db = dir.join("chats.db");
    let mut cmd = crate::common::giosg(["chats", "sync", "--db"]);
    cmd.arg(&db)
        .env("GIOSG_ORG", mock.org().to_string())
        .env("GIOSG_BASE_URL", mock.base_url())
        .env("GIOSG_API_TOKEN", mock.token());
    let out = run(&mut cmd);
    out.ok();
    assert!(out.stderr.contains("30 new"), "{}", out.stderr);
    // Without --org at all, the token's own user says which organisation.
    let mut cmd = crate::common::giosg(["chats", "list", "--format", "jsonl", "--base-url"]);
    cmd.arg(mock.base_url())
        .env("GIOSG_API_TOKEN", mock.token());
    let out = run(&mut cmd);
    assert_eq!(out.ok().lines().count(), 30);
    assert!(
        out.stderr.contains(&format!(
            "--org not given: reading organisation {}",
            mock.org()
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn a_token_that_may_not_read_users_syncs_the_chats_with_a_warning() {
    let mock = MockServer::builder()
        .generated(72, 40)
        .deny_users(true)
        .start()
        .unwrap();
    let dir = temp_dir("sync-denied");
    let db = dir.join("chats.db");
    let out = sync(&mock, &db, &[]);
    out.ok();
    assert!(out.stderr.contains("40 new"), "{}", out.stderr);
    assert!(
        out.stderr.contains("warning: the users could not be read"),
        "{}",
        out.stderr
    );
    let rooms: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM rooms", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        rooms, 4,
        "rooms are read all the same, deleted ones included"
    );
}

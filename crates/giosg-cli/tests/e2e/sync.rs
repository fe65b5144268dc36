//! `giosg chats sync` keeps a SQLite copy true: new chats, chats that changed, chats deleted
//! upstream (with --full), crash-safe; `summary --db` gives the figures offline.

use crate::common::{chats, mock, recent_chats, run, temp_dir};
use giosg_async::{Chat, ChatFilter, Tag};
use giosg_mock::{Fault, FaultPlan, MockServer};
use giosg_store::Store;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

fn sync(mock: &MockServer, db: &Path, args: &[&str]) -> crate::common::Run {
    let mut cmd = chats(mock, "sync", args);
    cmd.arg("--db").arg(db);
    run(&mut cmd)
}

/// The store's live chats by id, as their JSON.
fn stored(mock: &MockServer, db: &Path) -> BTreeMap<String, String> {
    let store = Store::open(db, mock.org(), &ChatFilter::new()).unwrap();
    let mut out = BTreeMap::new();
    store
        .for_each_live(|c| {
            out.insert(c.id.to_string(), serde_json::to_string(&c).unwrap());
        })
        .unwrap();
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
    // Nothing changed: only the tail of the listing is asked for again.
    assert!(mock.requests().len() <= 3, "{:?}", mock.requests().len());
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
    let store = Store::open(&db, mock.org(), &ChatFilter::new()).unwrap();
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

#[test]
fn killed_at_random_points_and_rerun_the_database_equals_the_server() {
    let mock = MockServer::builder()
        .generated(65, 400)
        .faults(giosg_mock::FaultPlan::new().latency(std::time::Duration::from_millis(2)))
        .start()
        .unwrap();
    let dir = temp_dir("sync-kill");
    let mut rng = fastrand::Rng::with_seed(65);
    for round in 0..6 {
        let db = dir.join(format!("chats-{round}.db"));
        for _ in 0..rng.usize(1..=3) {
            let mut cmd = chats(&mock, "sync", &["--page-size", "10"]);
            cmd.arg("--db")
                .arg(&db)
                .env("RUST_LOG", "giosg_transport=debug")
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().unwrap();
            // Kill after a random number of pages received: the sync blocks on its log when
            // nobody reads it, so this paces it.
            let after = rng.usize(0..40);
            let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
            let mut pages = 0;
            while pages < after {
                match lines.next() {
                    Some(Ok(line)) => pages += usize::from(line.contains("page received")),
                    _ => break,
                }
            }
            let _ = child.kill();
            child.wait().unwrap();
        }
        sync(&mock, &db, &["--page-size", "10"]).ok();
        assert_eq!(stored(&mock, &db), served(&mock), "round {round}");
    }
}

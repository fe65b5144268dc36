//! The copy library against giosg-mock over loopback, with the blocking client: chats open at
//! any age read again in narrow windows, chats arriving during a rerun written once, a store
//! or export of another listing refused, files that are not ours never touched.

use giosg_blocking::{Chat, ChatFilter, ChatLog, Client, DateTime, Utc};
use giosg_mock::MockServer;
use giosg_sync::{Error, Export, Format, ListingIdentity, Store, StoreError, SyncOptions};
use std::collections::BTreeMap;
use std::path::Path;

fn client(mock: &MockServer) -> Client {
    Client::builder()
        .base_url(mock.base_url())
        .token(mock.token())
        .build()
        .unwrap()
}

/// Now, to the millisecond (the API's resolution).
fn now() -> DateTime<Utc> {
    let now = DateTime::<Utc>::from(std::time::SystemTime::now());
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap()
}

/// `n` chats spread over the last two years, every one ended but those at `open`.
fn history(n: usize, open: &[usize]) -> Vec<Chat> {
    let mut chats = giosg_mock::generate(91, n);
    let span = chrono::TimeDelta::days(730).num_milliseconds() / n as i64;
    let first = now() - chrono::TimeDelta::days(731);
    for (i, c) in chats.iter_mut().enumerate() {
        let start = first + chrono::TimeDelta::milliseconds(span * i as i64);
        c.start_time = Some(start);
        c.end_time = (!open.contains(&i)).then_some(start + chrono::TimeDelta::minutes(5));
    }
    chats
}

/// The chat ended since, with one message more.
fn ended(chat: &Chat) -> Chat {
    let mut chat = chat.clone();
    chat.end_time = chat.start_time.map(|t| t + chrono::TimeDelta::hours(1));
    chat.logs.push(ChatLog::new());
    chat
}

fn stored(store: &Store) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    store
        .for_each_live(|c| {
            out.insert(c.id.to_string(), serde_json::to_string(&c).unwrap());
        })
        .unwrap();
    out
}

fn served(mock: &MockServer) -> BTreeMap<String, String> {
    mock.chats()
        .iter()
        .map(|c| (c.id.to_string(), serde_json::to_string(c).unwrap()))
        .collect()
}

/// The newest record of each id in a JSON Lines export, and how many records each id has.
fn newest(file: &Path) -> (BTreeMap<String, String>, BTreeMap<String, usize>) {
    let (mut last, mut count) = (BTreeMap::new(), BTreeMap::new());
    for line in std::fs::read_to_string(file).unwrap().lines() {
        let chat: Chat = serde_json::from_str(line).unwrap();
        let id = chat.id.to_string();
        *count.entry(id.clone()).or_default() += 1;
        last.insert(id, serde_json::to_string(&chat).unwrap());
    }
    (last, count)
}

/// A chat still going on when copied two years ago, which has ended since, is current after
/// the next run, in the store and in the export; reading the open chats again costs about a
/// request each, far below the full listing.
#[test]
fn an_open_chat_from_two_years_ago_that_ended_is_current_after_the_next_run() {
    let open = [3, 400, 1_200, 1_900];
    let chats = history(2_000, &open);
    let mock = MockServer::builder().chats(chats.clone()).start().unwrap();
    let client = client(&mock);
    let dir = tempfile::tempdir().unwrap();
    let options = SyncOptions::new(mock.org(), ChatFilter::new());
    let mut store = Store::open(dir.path().join("chats.db"), &options.listing()).unwrap();
    let first = giosg_sync::sync_blocking(&client, &mut store, &options, &mut ()).unwrap();
    assert_eq!(first.stored.new, 2_000);
    let full_requests = first.completeness.requests;
    let export = Export::new(
        mock.org(),
        ChatFilter::new(),
        dir.path().join("chats.jsonl"),
        Format::Jsonl,
    );
    assert_eq!(
        export.run_blocking(&client, &mut ()).unwrap().written,
        2_000
    );

    mock.push_chats(vec![ended(&chats[3])]);
    let second = giosg_sync::sync_blocking(&client, &mut store, &options, &mut ()).unwrap();
    assert_eq!(
        (second.stored.new, second.stored.updated),
        (0, 1),
        "{second}"
    );
    assert_eq!(stored(&store), served(&mock));
    let c = &second.completeness;
    assert!(c.revisited >= 4, "{second}");
    assert!(c.revisit_requests <= 4, "{second}");
    assert!(
        c.requests <= c.revisit_requests + 2 && c.requests * 3 < full_requests,
        "{} requests, {full_requests} for everything",
        c.requests
    );
    assert!(second.to_string().contains("read again"), "{second}");

    let report = export.run_blocking(&client, &mut ()).unwrap();
    assert_eq!((report.written, report.updated), (0, 1));
    assert!(report.completeness.revisit_requests <= 4);
    let (last, count) = newest(&export.out);
    assert_eq!(last, served(&mock));
    assert_eq!(count[&chats[3].id.to_string()], 2);
    assert_eq!(count.values().sum::<usize>(), 2_001);

    // Ended now: no longer read again.
    let third = giosg_sync::sync_blocking(&client, &mut store, &options, &mut ()).unwrap();
    assert_eq!(third.stored.updated, 0);
    assert!(third.completeness.revisit_requests <= 3, "{third}");
}

/// A chat that arrives while a rerun of an export reads chats again is written once: by that
/// run or by the next, never by both.
#[test]
fn a_chat_arriving_during_a_rerun_is_written_once() {
    for answered in [0, 1, 2, 3] {
        let chats = history(300, &[10, 20, 250]);
        let mock = MockServer::builder().chats(chats.clone()).start().unwrap();
        let client = client(&mock);
        let dir = tempfile::tempdir().unwrap();
        let mut filter = ChatFilter::new();
        filter.page_size = Some(50);
        let export = Export::new(
            mock.org(),
            filter,
            dir.path().join("chats.jsonl"),
            Format::Jsonl,
        );
        export.run_blocking(&client, &mut ()).unwrap();
        mock.push_chats(vec![ended(&chats[20])]);

        // The rerun is held after `answered` answers; a new chat arrives; it goes on.
        mock.hold_from(answered);
        let rerun = std::thread::scope(|s| {
            let running = s.spawn(|| export.run_blocking(&client, &mut ()).unwrap());
            mock.wait_until_held();
            let last = chats.iter().filter_map(|c| c.start_time).max().unwrap();
            let mut newer = giosg_mock::Generator::new(5, last + chrono::TimeDelta::minutes(1));
            mock.push_chats(vec![newer.chat()]);
            mock.release();
            running.join().unwrap()
        });
        assert_eq!(rerun.updated, 1, "answered {answered}");
        let next = export.run_blocking(&client, &mut ()).unwrap();
        assert_eq!(
            rerun.written + next.written,
            1,
            "answered {answered}: the new chat once"
        );
        let (last, count) = newest(&export.out);
        assert_eq!(last, served(&mock), "answered {answered}");
        for (id, n) in count {
            let want = if id == chats[20].id.to_string() { 2 } else { 1 };
            assert_eq!(n, want, "answered {answered}: chat {id}");
        }
    }
}

/// `false` is a filter: a store made with `has_sales=false` is not the whole listing's.
#[test]
fn a_store_or_export_of_another_listing_is_refused() {
    let mock = MockServer::builder().generated(92, 60).start().unwrap();
    let client = client(&mock);
    let dir = tempfile::tempdir().unwrap();
    for filter in [
        ChatFilter::new().has_sales(false),
        ChatFilter::new().is_real_conversation(false),
        ChatFilter::new().has_sales(true),
        ChatFilter::new().only_ended(true),
    ] {
        let db = dir
            .path()
            .join(format!("{}.db", giosg_blocking::query::encode(&filter)));
        let options = SyncOptions::new(mock.org(), filter.clone());
        let mut store = Store::open(&db, &options.listing()).unwrap();
        giosg_sync::sync_blocking(&client, &mut store, &options, &mut ()).unwrap();
        drop(store);
        let whole = ListingIdentity::new(mock.org(), &ChatFilter::new());
        let err = Store::open(&db, &whole).unwrap_err();
        assert!(matches!(err, StoreError::OtherListing { .. }), "{err}");

        let out = dir
            .path()
            .join(format!("{}.jsonl", giosg_blocking::query::encode(&filter)));
        Export::new(mock.org(), filter, out.clone(), Format::Jsonl)
            .run_blocking(&client, &mut ())
            .unwrap();
        let before = std::fs::read(&out).unwrap();
        let err = Export::new(mock.org(), ChatFilter::new(), out.clone(), Format::Jsonl)
            .run_blocking(&client, &mut ())
            .unwrap_err();
        assert!(matches!(err, Error::Refused { .. }), "{err}");
        assert_eq!(std::fs::read(&out).unwrap(), before, "untouched");
    }
}

#[cfg(unix)]
#[test]
fn an_export_writes_only_files_it_made_owner_only_never_through_a_link() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let mock = MockServer::builder().generated(93, 30).start().unwrap();
    let client = client(&mock);
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    let precious = b"precious data, no newline";
    let export_to = |out: &Path| {
        Export::new(mock.org(), ChatFilter::new(), out, Format::Jsonl)
            .run_blocking(&client, &mut ())
    };
    let untouched = |what: &str| {
        assert_eq!(std::fs::read(&victim).unwrap(), precious, "{what}");
    };

    // A file that is not an export of ours.
    std::fs::write(&victim, precious).unwrap();
    let err = export_to(&victim).unwrap_err();
    assert!(matches!(err, Error::Refused { .. }), "{err}");
    untouched("a foreign file");
    assert!(!dir.path().join("victim.txt.giosg-state").exists());

    // A link at the export file, to a file or to nowhere.
    let link = dir.path().join("link.jsonl");
    symlink(&victim, &link).unwrap();
    assert!(matches!(export_to(&link), Err(Error::Refused { .. })));
    untouched("a link at --out");
    let dangling = dir.path().join("dangling.jsonl");
    symlink(dir.path().join("nowhere"), &dangling).unwrap();
    assert!(matches!(export_to(&dangling), Err(Error::Refused { .. })));
    assert!(!dir.path().join("nowhere").exists());

    // A link at the state, or at the temporary name older versions used.
    let out = dir.path().join("e.jsonl");
    symlink(&victim, dir.path().join("e.jsonl.giosg-state.tmp")).unwrap();
    export_to(&out).unwrap();
    untouched("a link at the old temporary name");
    let other = dir.path().join("f.jsonl");
    symlink(&victim, dir.path().join("f.jsonl.giosg-state")).unwrap();
    assert!(matches!(export_to(&other), Err(Error::Refused { .. })));
    untouched("a link at the state");

    // What it makes is owner-only, whatever the umask; no temporary file is left.
    for path in [out.clone(), dir.path().join("e.jsonl.giosg-state")] {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".giosg-state"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // An export of ours that others could read (an earlier version's) is made owner-only.
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
    export_to(&out).unwrap();
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // Nothing is cut on a failure: a refused connection leaves the file as it was.
    let before = std::fs::read(&out).unwrap();
    let offline = Client::builder()
        .base_url("http://127.0.0.1:1")
        .token("t")
        .build()
        .unwrap();
    let err = Export::new(mock.org(), ChatFilter::new(), &out, Format::Jsonl)
        .run_blocking(&offline, &mut ())
        .unwrap_err();
    assert!(matches!(err, Error::Stopped { .. }), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), before);

    // A new export that fails on its first request leaves nothing behind.
    let fresh = dir.path().join("fresh.jsonl");
    Export::new(mock.org(), ChatFilter::new(), &fresh, Format::Jsonl)
        .run_blocking(&offline, &mut ())
        .unwrap_err();
    assert!(!fresh.exists());
    assert!(!dir.path().join("fresh.jsonl.giosg-state").exists());
}

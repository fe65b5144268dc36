//! The store: its schema, a chat read back from its rows, upserts, identity, missing chats.

use chrono::Timelike;
use giosg_model::{ApiData, CartProduct, Chat, ChatFilter, ChatLog, ShoppingCart, Tag, Uuid};
use giosg_query::{Checkpoint, ListingIdentity};
use giosg_store::{Error, Store, Upserted};
use std::path::{Path, PathBuf};

const ORG: Uuid = Uuid::from_u128(0x7f9e9580_095b_42c7_838c_c04e667b26f7);

fn listing(filter: &ChatFilter) -> ListingIdentity {
    ListingIdentity::new(ORG, filter)
}

/// The store of the whole listing.
fn open(path: &Path) -> Store {
    Store::open(path, &listing(&ChatFilter::new())).unwrap()
}

/// Stores chats as one run of one page (a full one: what it does not list is missing).
fn store_run(store: &mut Store, chats: &[Chat], full: bool) -> (Upserted, u64) {
    let checkpoint = Checkpoint::after(listing(&ChatFilter::new()), None);
    let run = store.begin_run(full, &checkpoint).unwrap();
    let stored = store.store_page(&run, chats, &checkpoint).unwrap();
    let missing = store.finish_run(&run).unwrap();
    (stored, missing)
}

fn upsert(store: &mut Store, chats: &[Chat]) -> Upserted {
    store_run(store, chats, false).0
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("giosg-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("chats.db")
}

fn counts(u: Upserted) -> (u64, u64, u64) {
    (u.new, u.updated, u.unchanged)
}

/// A time as the store writes it: `2025-01-02 03:04:05.678`, UTC.
fn time_of(s: Option<String>) -> Option<giosg_model::DateTime<giosg_model::Utc>> {
    s.map(|s| {
        assert_eq!(s.len(), 23, "fixed width: {s}");
        chrono::NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.3f")
            .unwrap()
            .and_utc()
    })
}

fn uuid_of(s: Option<String>) -> Option<Uuid> {
    s.map(|s| Uuid::parse_str(&s).unwrap())
}

fn decimal_of(s: Option<String>) -> Option<giosg_model::Decimal> {
    s.map(|s| s.parse().unwrap())
}

/// The store's file, opened beside the store to read it with SQL.
fn sql(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// A chat rebuilt from its rows alone (not from the stored JSON).
fn from_rows(path: &Path, id: Uuid) -> Chat {
    let conn = sql(path);
    let key = id.to_string();
    let mut chat = conn
        .query_row("SELECT * FROM chats WHERE id = ?1", [&key], |r| {
            let mut c = Chat::new(Uuid::parse_str(&r.get::<_, String>("id")?).unwrap());
            c.token = r.get("token")?;
            c.start_time = time_of(r.get("start_time")?);
            c.end_time = time_of(r.get("end_time")?);
            c.updated_at = time_of(r.get("updated_at")?);
            c.is_private = r.get("is_private")?;
            c.is_real_conversation = r.get("is_real_conversation")?;
            c.is_autosuggested = r.get("is_autosuggested")?;
            c.room_id = uuid_of(r.get("room_id")?);
            c.operator_message_count = r
                .get::<_, Option<i64>>("operator_message_count")?
                .map(|n| n as u64);
            c.visitor_message_count = r
                .get::<_, Option<i64>>("visitor_message_count")?
                .map(|n| n as u64);
            c.message_count = r.get::<_, Option<i64>>("message_count")?.map(|n| n as u64);
            c.start_url = r.get("start_url")?;
            c.start_url_title = r.get("start_url_title")?;
            c.autosuggest_url = r.get("autosuggest_url")?;
            c.autosuggest_url_title = r.get("autosuggest_url_title")?;
            Ok(c)
        })
        .unwrap();
    let mut stmt = conn
        .prepare("SELECT * FROM chat_logs WHERE chat_id = ?1 ORDER BY position")
        .unwrap();
    chat.logs = stmt
        .query_map([&key], |r| {
            let mut l = ChatLog::new();
            l.created_at = time_of(r.get("created_at")?);
            l.sender_type = r.get::<_, Option<i64>>("sender_type")?.map(Into::into);
            l.sender_id = r.get("sender_id")?;
            l.message_type = r.get::<_, Option<i64>>("type")?.map(Into::into);
            l.message = r.get("message")?;
            l.display_name = r.get("display_name")?;
            Ok(l)
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM chat_tags WHERE chat_id = ?1 ORDER BY position")
        .unwrap();
    chat.tags = stmt
        .query_map([&key], |r| {
            let mut t = Tag::new("");
            t.name = r.get(0)?;
            Ok(t)
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut stmt = conn
        .prepare("SELECT name, value FROM chat_api_data WHERE chat_id = ?1 ORDER BY position")
        .unwrap();
    chat.api_data = stmt
        .query_map([&key], |r| {
            let mut d = ApiData::new("", "");
            d.name = r.get(0)?;
            d.value = r.get(1)?;
            Ok(d)
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut stmt = conn
        .prepare("SELECT * FROM shopping_carts WHERE chat_id = ?1 ORDER BY position")
        .unwrap();
    let carts: Vec<(i64, ShoppingCart)> = stmt
        .query_map([&key], |r| {
            let mut c = ShoppingCart::new();
            c.id = uuid_of(r.get("id")?);
            c.opened_at = time_of(r.get("opened_at")?);
            c.total_price = decimal_of(r.get("total_price")?);
            c.monthly_total_price = decimal_of(r.get("monthly_total_price")?);
            c.currency = r.get("currency")?;
            c.locked_at = time_of(r.get("locked_at")?);
            Ok((r.get("position")?, c))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (position, mut cart) in carts {
        let mut stmt = conn
            .prepare(
                "SELECT * FROM cart_products WHERE chat_id = ?1 AND cart_position = ?2
                 ORDER BY position",
            )
            .unwrap();
        cart.products = stmt
            .query_map(rusqlite::params![key, position], |r| {
                let mut p = CartProduct::new();
                p.id = uuid_of(r.get("id")?);
                p.name = r.get("name")?;
                p.description = r.get("description")?;
                p.category = r.get("category")?;
                p.product_number = r.get("product_number")?;
                p.price = decimal_of(r.get("price")?);
                p.quantity = r.get("quantity")?;
                p.monthly_price = decimal_of(r.get("monthly_price")?);
                p.monthly_quantity = r.get("monthly_quantity")?;
                p.stock_balance = r.get("stock_balance")?;
                p.added_at = time_of(r.get("added_at")?);
                p.deleted_at = time_of(r.get("deleted_at")?);
                Ok(p)
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        chat.shopping_carts.push(cart);
    }
    chat
}

#[test]
fn the_schema_is_as_documented() {
    let path = temp("schema");
    let _store = open(&path);
    let conn = sql(&path);
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, giosg_store::SCHEMA_VERSION);
    let mut stmt = conn
        .prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        .unwrap();
    let schema: Vec<String> = stmt
        .query_map([], |r| {
            Ok(format!(
                "{} {}:\n{}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    insta::assert_snapshot!(schema.join("\n\n"));
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[cfg(unix)]
#[test]
fn the_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let path = temp("mode");
    drop(open(&path));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn a_chat_read_back_from_its_rows_equals_the_chat_decoded() {
    let path = temp("rows");
    let mut store = open(&path);
    let chats = giosg_mock::generate(5, 300);
    assert_eq!(upsert(&mut store, &chats).new, 300);
    for chat in &chats {
        assert_eq!(&from_rows(&path, chat.id), chat);
    }
    // And from the JSON, unknown members included.
    let mut live = Vec::new();
    store.for_each_live(|c| live.push(c)).unwrap();
    assert_eq!(live.len(), 300);
}

#[test]
fn upserts_tell_new_updated_and_unchanged_and_replace_children() {
    let path = temp("upsert");
    let mut store = open(&path);
    let mut chats = giosg_mock::generate(6, 20);
    assert_eq!(counts(upsert(&mut store, &chats)), (20, 0, 0));
    // A chat ends with fewer logs and a new tag; another gains an unknown member.
    chats[3].end_time = chats[3].start_time;
    chats[3].logs = vec![ChatLog::new()];
    chats[3].tags.push(Tag::new("Followed up"));
    chats[4]
        .extra
        .insert("is_encrypted".into(), serde_json::json!(true));
    assert_eq!(counts(upsert(&mut store, &chats)), (0, 2, 18));
    assert_eq!(from_rows(&path, chats[3].id), chats[3]);
    let json: String = sql(&path)
        .query_row(
            "SELECT json FROM chats WHERE id = ?1",
            [chats[4].id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert!(json.contains(r#""is_encrypted":true"#));
    let logs: i64 = sql(&path)
        .query_row(
            "SELECT count(*) FROM chat_logs WHERE chat_id = ?1",
            [chats[3].id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(logs, 1);
}

#[test]
fn a_file_for_another_organisation_or_other_filters_is_refused() {
    let path = temp("identity");
    let filter = ChatFilter::new().tag("Premium");
    drop(Store::open(&path, &listing(&filter)).unwrap());
    // Page size does not change which chats are listed.
    assert!(Store::open(&path, &listing(&filter.clone().page_size(7))).is_ok());
    for (org, other) in [
        (Uuid::from_u128(1), filter.clone()),
        (ORG, ChatFilter::new()),
        (ORG, ChatFilter::new().tag("Other")),
        (ORG, filter.clone().has_sales(false)),
    ] {
        let err = Store::open(&path, &ListingIdentity::new(org, &other)).unwrap_err();
        assert!(matches!(err, Error::OtherListing { .. }), "{err}");
    }
    // `false` is a filter of its own: a file for it is not the whole listing's.
    let path = temp("identity-false");
    let unsold = ChatFilter::new().has_sales(false);
    drop(Store::open(&path, &listing(&unsold)).unwrap());
    let err = Store::open(&path, &listing(&ChatFilter::new())).unwrap_err();
    assert!(err.to_string().contains("has_sales=false"), "{err}");
}

#[test]
fn a_full_run_marks_what_it_did_not_list() {
    let path = temp("missing");
    let mut store = open(&path);
    let chats = giosg_mock::generate(7, 10);
    upsert(&mut store, &chats);
    assert_eq!(store_run(&mut store, &chats[2..], true).1, 2);
    assert_eq!(store_run(&mut store, &chats[2..], true).1, 0, "marked once");
    assert_eq!(store.counts().unwrap(), (10, 2));
    let mut live = Vec::new();
    store.for_each_live(|c| live.push(c.id)).unwrap();
    assert_eq!(live.len(), 8);
    // Served again: live again.
    assert_eq!(upsert(&mut store, &chats[..1]).updated, 1);
    assert_eq!(store.counts().unwrap(), (10, 1));
}

#[test]
fn a_full_run_killed_and_continued_marks_only_what_no_page_of_it_listed() {
    let path = temp("missing-resumed");
    let mut store = open(&path);
    let chats = giosg_mock::generate(17, 10);
    upsert(&mut store, &chats);
    let checkpoint = Checkpoint::after(listing(&ChatFilter::new()), None);
    let run = store.begin_run(true, &checkpoint).unwrap();
    store.store_page(&run, &chats[..4], &checkpoint).unwrap();
    drop(store);
    // The process died; the next one finds the run in progress and continues it.
    let mut store = open(&path);
    let run = store.run_in_progress().unwrap().expect("a run in progress");
    assert!(run.full);
    assert_eq!(run.stored.unchanged, 4);
    store.store_page(&run, &chats[5..], &checkpoint).unwrap();
    assert_eq!(
        store.finish_run(&run).unwrap(),
        1,
        "only chats[4] was not listed"
    );
    assert!(store.run_in_progress().unwrap().is_none());
}

#[test]
fn each_page_commits_the_checkpoint_after_it() {
    let path = temp("checkpoint");
    let mut store = open(&path);
    let chats = giosg_mock::generate(18, 30);
    let whole = Checkpoint::after(listing(&ChatFilter::new()), None);
    let run = store.begin_run(false, &whole).unwrap();
    for (i, page) in chats.chunks(10).enumerate() {
        let after = Checkpoint::after(listing(&ChatFilter::new()), Some(page[9].id));
        store.store_page(&run, page, &after).unwrap();
        let found = store.run_in_progress().unwrap().unwrap();
        assert_eq!(found.checkpoint, after);
        assert_eq!(found.stored.new, 10 * (i as u64 + 1));
    }
    assert_eq!(
        store.listed_until().unwrap(),
        None,
        "until the run finishes"
    );
    store.finish_run(&run).unwrap();
    let last = chats.iter().filter_map(|c| c.start_time).max();
    assert_eq!(store.listed_until().unwrap(), last);
}

#[test]
fn open_chats_are_remembered_at_any_age() {
    let path = temp("state");
    let mut store = open(&path);
    assert_eq!(store.listed_until().unwrap(), None);
    let mut chats = giosg_mock::generate(8, 10);
    for c in &mut chats {
        c.end_time = c.start_time;
    }
    chats[0].end_time = None;
    chats[6].end_time = None;
    chats[8].end_time = None;
    upsert(&mut store, &chats);
    let mut open_starts: Vec<_> = [0, 6, 8]
        .iter()
        .map(|&i| chats[i].start_time.unwrap())
        .collect();
    open_starts.sort();
    assert_eq!(store.open_chat_starts().unwrap(), open_starts);
    let first = chats.iter().filter_map(|c| c.start_time).min().unwrap();
    let last = chats.iter().filter_map(|c| c.start_time).max().unwrap();
    assert_eq!(
        store
            .chats_started_in(first, last + chrono::TimeDelta::milliseconds(1))
            .unwrap(),
        10
    );
    drop(store);
    let store = open(&path);
    assert_eq!(store.listed_until().unwrap(), Some(last));
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_is_refused_and_a_loose_file_made_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let path = temp("links");
    let victim = path.with_file_name("victim.db");
    std::fs::write(&victim, b"").unwrap();
    let link = path.with_file_name("link.db");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let err = Store::open(&link, &listing(&ChatFilter::new())).unwrap_err();
    assert!(matches!(err, Error::Symlink), "{err}");
    assert_eq!(
        std::fs::read(&victim).unwrap(),
        b"",
        "the link's target is untouched"
    );
    // A dangling link is not followed to create a file either.
    let dangling = path.with_file_name("dangling.db");
    std::os::unix::fs::symlink(path.with_file_name("nowhere.db"), &dangling).unwrap();
    assert!(matches!(
        Store::open(&dangling, &listing(&ChatFilter::new())),
        Err(Error::Symlink)
    ));
    assert!(!path.with_file_name("nowhere.db").exists());
    // An empty file others may read is made owner-only, and says so.
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = Store::open(&victim, &listing(&ChatFilter::new())).unwrap();
    assert_eq!(store.opened().tightened_from, Some(0o644));
    assert!(!store.opened().created);
    let mode = std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

/// Every table, index and their SQL, as SQLite holds them.
fn schema_of(conn: &rusqlite::Connection) -> Vec<(String, String)> {
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_version_1_file_is_migrated_keeping_every_row() {
    // A version 2 store with chats of every shape, one of them missing upstream...
    let chats = giosg_mock::generate(9, 120);
    let v2 = temp("migrate-source");
    let mut store = open(&v2);
    upsert(&mut store, &chats);
    assert_eq!(store_run(&mut store, &chats[1..], true).1, 1);
    drop(store);
    // ...written into a file of schema 1 as 0.1.0 made it.
    let v1 = temp("migrate");
    let conn = rusqlite::Connection::open(&v1).unwrap();
    conn.execute_batch(include_str!("schema_v1.sql")).unwrap();
    conn.execute("ATTACH ?1 AS v2", [v2.to_str().unwrap()])
        .unwrap();
    conn.execute_batch(
        "INSERT INTO sync_state SELECT id, org, '', listed_until, last_sync_at,
             last_full_sync_at FROM v2.sync_state;
         INSERT INTO chats SELECT id, token, start_time, end_time, updated_at, is_private,
             is_real_conversation, is_autosuggested, room_id, operator_message_count,
             visitor_message_count, message_count, start_url, start_url_title, autosuggest_url,
             autosuggest_url_title, json, fetched_at, missing_since FROM v2.chats;
         INSERT INTO chat_logs SELECT chat_id, position, created_at, sender_type, sender_id,
             type, message, display_name FROM v2.chat_logs;
         INSERT INTO chat_tags SELECT chat_id, position, name FROM v2.chat_tags;
         INSERT INTO chat_api_data SELECT chat_id, position, name, value FROM v2.chat_api_data;
         INSERT INTO shopping_carts SELECT chat_id, position, id, opened_at, total_price,
             monthly_total_price, currency, locked_at FROM v2.shopping_carts;
         INSERT INTO cart_products SELECT chat_id, cart_position, position, id, name,
             description, category, product_number, price, quantity, monthly_price,
             monthly_quantity, stock_balance, added_at, deleted_at FROM v2.cart_products;
         DETACH v2;
         PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(conn);

    // Schema 1 and 2 recorded the listing without its false filters: unproven, until a full
    // sync adopts the file.
    let err = Store::open(&v1, &listing(&ChatFilter::new())).unwrap_err();
    assert!(matches!(err, Error::UnprovenListing { .. }), "{err}");
    assert!(err.to_string().contains("--full"), "{err}");
    let store = Store::adopt(&v1, &listing(&ChatFilter::new())).unwrap();
    let fresh_path = temp("migrate-fresh");
    let _fresh = open(&fresh_path);
    assert_eq!(
        schema_of(&sql(&v1)),
        schema_of(&sql(&fresh_path)),
        "the migrated schema is the current one"
    );
    let version: i64 = sql(&v1)
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, giosg_store::SCHEMA_VERSION);
    for chat in &chats {
        assert_eq!(from_rows(&v1, chat.id), *chat);
    }
    assert_eq!(store.counts().unwrap(), (120, 1));
    assert_eq!(
        store.listed_until().unwrap(),
        None,
        "an adopted file lists everything once"
    );
    let fk: Vec<String> = {
        let conn = sql(&v1);
        let mut stmt = conn.prepare("PRAGMA foreign_key_check").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert!(fk.is_empty(), "rows without their chat: {fk:?}");
    drop(store);
    assert!(
        Store::open(&v1, &listing(&ChatFilter::new())).is_ok(),
        "adopted"
    );
}

/// Times compare right with SQLite's own functions, and a message's kinds read as words.
#[test]
fn sql_answers_with_sqlite_functions_and_words() {
    let path = temp("sql");
    let mut store = open(&path);
    let chats = giosg_mock::generate(19, 200);
    upsert(&mut store, &chats);
    let conn = sql(&path);
    let cut = chats[100].start_time.unwrap();
    let since = cut.format("%Y-%m-%d %H:%M:%S").to_string();
    let want = chats
        .iter()
        .filter(|c| {
            c.start_time
                .is_some_and(|t| t >= cut.with_nanosecond(0).unwrap())
        })
        .count() as i64;
    let got: i64 = conn
        .query_row(
            "SELECT count(*) FROM chats WHERE start_time >= datetime(?1)",
            [&since],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(got, want);
    let words: Vec<(String, i64)> = conn
        .prepare("SELECT sender, count(*) FROM chat_logs WHERE sender IS NOT NULL GROUP BY sender ORDER BY sender")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let count = |kind: giosg_model::SenderType| {
        chats
            .iter()
            .flat_map(|c| &c.logs)
            .filter(|l| l.sender_type == Some(kind))
            .count() as i64
    };
    assert_eq!(
        words,
        [
            (
                "operator".to_owned(),
                count(giosg_model::SenderType::Operator)
            ),
            (
                "visitor".to_owned(),
                count(giosg_model::SenderType::Visitor)
            ),
        ]
    );
}

/// Rooms and users are replaced by each listing; one the listing no longer returns is marked,
/// not deleted; the views join chats to their room's name and messages to their operator.
#[test]
fn rooms_and_users_are_kept_and_marked_and_joined_by_name() {
    let path = temp("directory");
    let mut store = open(&path);
    let chats = giosg_mock::generate(20, 50);
    upsert(&mut store, &chats);
    let org = Uuid::from_u128(7);
    let rooms = giosg_mock::rooms(org);
    let users = giosg_mock::users(org);
    assert_eq!(store.store_rooms(&rooms).unwrap(), 0);
    assert_eq!(store.store_users(&users).unwrap(), 0);
    assert_eq!(store.store_rooms(&rooms[1..]).unwrap(), 1, "one room gone");
    assert_eq!(store.store_rooms(&rooms[1..]).unwrap(), 0, "marked once");
    let conn = sql(&path);
    let kept: i64 = conn
        .query_row("SELECT count(*) FROM rooms", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 4, "not deleted");
    let unnamed: i64 = conn
        .query_row(
            "SELECT count(*) FROM chats_named WHERE room_name IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unnamed, 0, "every chat's room has a name");
    let named_operator_messages: i64 = conn
        .query_row(
            "SELECT count(*) FROM chat_logs_named WHERE sender = 'operator' AND user_full_name IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let operator_messages = chats
        .iter()
        .flat_map(|c| &c.logs)
        .filter(|l| l.sender_type == Some(giosg_model::SenderType::Operator))
        .count() as i64;
    assert_eq!(named_operator_messages, operator_messages);
    assert_eq!(store.room_names().unwrap().len(), 4);
}

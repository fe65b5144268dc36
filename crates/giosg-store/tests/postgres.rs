//! The PostgreSQL store against a real server (giosg-test-postgres): native types, upserts,
//! identity, missing chats, the writer's lock, and the same chats as the SQLite store keeps.

#[cfg(not(feature = "postgres"))]
#[test]
fn postgres_tests_need_the_feature() {
    panic!("the PostgreSQL store's tests need its feature: cargo test -p giosg-store --features postgres (cargo test --workspace enables it)");
}

#[cfg(feature = "postgres")]
mod postgres {
    use giosg_model::{Chat, ChatFilter, Decimal, ShoppingCart, Uuid};
    use giosg_query::{Checkpoint, ListingIdentity};
    use giosg_store::{Error, Location, Store, Upserted};

    const ORG: Uuid = Uuid::from_u128(0x7f9e9580_095b_42c7_838c_c04e667b26f7);

    fn listing(filter: &ChatFilter) -> ListingIdentity {
        ListingIdentity::new(ORG, filter)
    }

    /// A location in a schema of its own on the shared test server.
    fn location(name: &str) -> (Location, String) {
        let schema = giosg_test_postgres::schema(name);
        let location = Location::parse(&giosg_test_postgres::url())
            .unwrap()
            .schema(&schema)
            .unwrap();
        (location, schema)
    }

    fn open(location: &Location) -> Store {
        Store::open(location, &listing(&ChatFilter::new())).unwrap()
    }

    fn store_run(store: &mut Store, chats: &[Chat], full: bool) -> (Upserted, u64) {
        let checkpoint = Checkpoint::after(listing(&ChatFilter::new()), None);
        let run = store.begin_run(full, &checkpoint).unwrap();
        let stored = store.store_page(&run, chats, &checkpoint).unwrap();
        let missing = store.finish_run(&run).unwrap();
        (stored, missing)
    }

    fn counts(u: Upserted) -> (u64, u64, u64) {
        (u.new, u.updated, u.unchanged)
    }

    /// A client of the test server whose statements name the schema's tables.
    fn sql(schema: &str) -> giosg_test_postgres::postgres::Client {
        let mut client = giosg_test_postgres::client(&giosg_test_postgres::url());
        client
            .batch_execute(&format!("SET search_path TO {schema}"))
            .unwrap();
        client
    }

    fn live(store: &Store) -> Vec<Chat> {
        let mut chats = Vec::new();
        store.for_each_live(|c| chats.push(c)).unwrap();
        chats
    }

    #[test]
    fn chats_are_stored_in_native_types_and_read_back_as_they_came() {
        let (location, schema) = location("types");
        let mut store = open(&location);
        let mut chats = giosg_mock::generate(31, 40);
        // Money whose scale matters, and a member this version does not know.
        chats[0].shopping_carts = vec![{
            let mut cart = ShoppingCart::new();
            cart.total_price = Some("83.00".parse::<Decimal>().unwrap());
            cart.currency = Some("EUR".into());
            cart
        }];
        chats[1]
            .extra
            .insert("is_encrypted".into(), serde_json::json!(true));
        assert_eq!(counts(store_run(&mut store, &chats, false).0), (40, 0, 0));

        let mut db = sql(&schema);
        let types: Vec<(String, String)> = db
            .query(
                "SELECT column_name::text, data_type::text FROM information_schema.columns
                 WHERE table_schema = $1 AND table_name = 'chats'
                   AND column_name IN ('id', 'start_time', 'is_private', 'json', 'room_id')
                 ORDER BY column_name",
                &[&schema],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(
            types,
            [
                ("id", "uuid"),
                ("is_private", "boolean"),
                ("json", "jsonb"),
                ("room_id", "uuid"),
                ("start_time", "timestamp with time zone"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        let total: String = db
            .query_one(
                "SELECT total_price::text FROM shopping_carts WHERE chat_id = $1",
                &[&chats[0].id],
            )
            .unwrap()
            .get(0);
        assert_eq!(total, "83.00", "numeric keeps its scale");
        for chat in &chats {
            let row = db
                .query_one(
                    "SELECT start_time, end_time, json ->> 'id' FROM chats WHERE id = $1",
                    &[&chat.id],
                )
                .unwrap();
            let start: Option<giosg_model::DateTime<giosg_model::Utc>> = row.get(0);
            let end: Option<giosg_model::DateTime<giosg_model::Utc>> = row.get(1);
            assert_eq!(
                (start, end),
                (chat.start_time, chat.end_time),
                "the API's instants"
            );
            assert_eq!(row.get::<_, String>(2), chat.id.to_string());
        }
        let unknown: bool = db
            .query_one(
                "SELECT (json -> 'is_encrypted')::boolean FROM chats WHERE id = $1",
                &[&chats[1].id],
            )
            .unwrap()
            .get(0);
        assert!(unknown, "members the model does not know are kept");
        let logs: i64 = db
            .query_one("SELECT count(*) FROM chat_logs", &[])
            .unwrap()
            .get(0);
        assert_eq!(
            logs as usize,
            chats.iter().map(|c| c.logs.len()).sum::<usize>()
        );
        let mut want = chats.clone();
        want.sort_by_key(|c| (c.start_time, c.id));
        assert_eq!(live(&store), want, "read back as they came");
    }

    #[test]
    fn the_same_pages_make_the_same_copy_as_in_sqlite() {
        let (location, _) = location("same");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("chats.db");
        let mut pg = open(&location);
        let mut lite = Store::open(&file, &listing(&ChatFilter::new())).unwrap();
        let mut chats = giosg_mock::generate(32, 300);
        for store in [&mut pg, &mut lite] {
            assert_eq!(counts(store_run(store, &chats, false).0), (300, 0, 0));
        }
        chats[5].end_time = chats[5].start_time;
        chats[5].logs.truncate(1);
        chats[9].tags.clear();
        let (pg_run, lite_run) = (
            store_run(&mut pg, &chats[..100], true),
            store_run(&mut lite, &chats[..100], true),
        );
        assert_eq!(pg_run, lite_run);
        assert_eq!(counts(pg_run.0), (0, 2, 98));
        assert_eq!(pg_run.1, 200, "a full run marks what it did not list");
        assert_eq!(pg.counts().unwrap(), lite.counts().unwrap());
        assert_eq!(live(&pg), live(&lite));
        assert_eq!(
            pg.open_chat_starts().unwrap(),
            lite.open_chat_starts().unwrap()
        );
        assert_eq!(pg.listed_until().unwrap(), lite.listed_until().unwrap());
        let (lo, hi) = (chats[10].start_time.unwrap(), chats[60].start_time.unwrap());
        assert_eq!(
            pg.chats_started_in(lo, hi).unwrap(),
            lite.chats_started_in(lo, hi).unwrap()
        );
        // Found again, no longer missing.
        assert_eq!(
            counts(store_run(&mut pg, &chats[100..], false).0),
            (0, 200, 0)
        );
        assert_eq!(pg.counts().unwrap(), (300, 0));
    }

    #[test]
    fn a_chat_given_twice_in_a_page_is_stored_once_as_given_last() {
        let (location, schema) = location("twice");
        let mut store = open(&location);
        let mut chats = giosg_mock::generate(33, 3);
        let mut later = chats[1].clone();
        later.end_time = later.start_time;
        chats.push(later.clone());
        let (stored, _) = store_run(&mut store, &chats, false);
        assert_eq!(counts(stored), (3, 0, 0));
        let end: Option<giosg_model::DateTime<giosg_model::Utc>> = sql(&schema)
            .query_one("SELECT end_time FROM chats WHERE id = $1", &[&later.id])
            .unwrap()
            .get(0);
        assert_eq!(end, later.end_time);
    }

    #[test]
    fn another_listing_is_refused_and_a_run_goes_on_after_a_reopen() {
        let (location, _) = location("identity");
        let mut store = open(&location);
        let checkpoint = Checkpoint::after(listing(&ChatFilter::new()), None);
        let run = store.begin_run(false, &checkpoint).unwrap();
        let chats = giosg_mock::generate(34, 10);
        let after = Checkpoint::after(listing(&ChatFilter::new()), Some(chats[9].id));
        store.store_page(&run, &chats, &after).unwrap();
        drop(store);

        let unsold = listing(&ChatFilter::new().has_sales(false));
        let err = Store::open(&location, &unsold).unwrap_err();
        assert!(matches!(err, Error::OtherListing { .. }), "{err}");
        let other = ListingIdentity::new(Uuid::from_u128(9), &ChatFilter::new());
        assert!(matches!(
            Store::open(&location, &other).unwrap_err(),
            Error::OtherListing { .. }
        ));

        let store = open(&location);
        let going = store
            .run_in_progress()
            .unwrap()
            .expect("the run is in progress");
        assert_eq!(going.id, run.id);
        assert_eq!(going.checkpoint, after);
        assert_eq!(counts(going.stored), (10, 0, 0));
        assert_eq!(store.organisation().unwrap(), Some(ORG.to_string()));
    }

    #[test]
    fn two_writers_never_interleave() {
        let (location, _) = location("lock");
        let first = open(&location);
        let err = Store::open(&location, &listing(&ChatFilter::new())).unwrap_err();
        let Error::Busy { schema, holder } = &err else {
            panic!("{err}")
        };
        assert!(schema.starts_with("lock_"));
        assert!(holder.is_some(), "the holder's server process is named");
        assert!(err.to_string().contains("another giosg sync"), "{err}");
        // Readers are not held up.
        let reader = Store::open_read_only(&location).unwrap();
        assert_eq!(reader.counts().unwrap(), (0, 0));
        drop(first);
        open(&location);
    }

    #[test]
    fn rooms_and_users_are_kept_and_marked_and_joined_by_name() {
        let (location, schema) = location("directory");
        let mut store = open(&location);
        let chats = giosg_mock::generate(35, 50);
        store_run(&mut store, &chats, false);
        let org = Uuid::from_u128(7);
        let rooms = giosg_mock::rooms(org);
        let users = giosg_mock::users(org);
        assert_eq!(store.store_rooms(&rooms).unwrap(), 0);
        assert_eq!(store.store_users(&users).unwrap(), 0);
        assert_eq!(store.store_rooms(&rooms[1..]).unwrap(), 1, "one room gone");
        assert_eq!(store.store_rooms(&rooms[1..]).unwrap(), 0, "marked once");
        assert_eq!(store.store_rooms(&rooms).unwrap(), 0, "and back");
        let names = store.room_names().unwrap();
        assert_eq!(names.len(), rooms.len());
        assert!(!store.user_names().unwrap().is_empty());
        let mut db = sql(&schema);
        let named: i64 = db
            .query_one(
                "SELECT count(*) FROM chats_named WHERE room_name IS NOT NULL",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(named, 50, "every generated chat's room is listed");
        let operators: i64 = db
            .query_one(
                "SELECT count(*) FROM chat_logs_named WHERE user_full_name IS NOT NULL",
                &[],
            )
            .unwrap()
            .get(0);
        assert!(operators > 0);
    }

    #[test]
    fn reading_needs_an_existing_copy_and_streams_every_chat() {
        let (location, _) = location("read");
        let err = Store::open_read_only(&location).unwrap_err();
        assert!(err.to_string().contains("no giosg copy"), "{err}");
        let mut store = open(&location);
        // More chats than the stream holds at once.
        let chats = giosg_mock::generate(36, 1_000);
        store_run(&mut store, &chats, false);
        drop(store);
        let reader = Store::open_read_only(&location).unwrap();
        assert_eq!(live(&reader).len(), 1_000);
        // A reader that stops early stops the stream too.
        let mut n = 0;
        reader.for_each_live(|_| n += 1).unwrap();
        assert_eq!(n, 1_000);
        assert_eq!(reader.counts().unwrap(), (1_000, 0));
    }

    #[test]
    fn a_server_that_cannot_be_reached_is_a_plain_error_without_the_password() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("postgres://giosg:hunter2-secret@127.0.0.1:{port}/x?sslmode=disable");
        let err =
            Store::open(Location::parse(&url).unwrap(), &listing(&ChatFilter::new())).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(matches!(err, Error::Connection(_)), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.to_lowercase().contains("refused"), "{text}");
        for (url, words) in [
            ("postgres://u@h/db?sslmode=verify-ca", "verify-full"),
            ("postgres://u@h/db?sslmode=sometimes", "unknown sslmode"),
            ("postgres://u@h/db?sslrootcert=/x.pem", "verify-full only"),
            ("postgres://u@h/db?nonsense=1", "not a PostgreSQL URL"),
        ] {
            let err = Store::open(Location::parse(url).unwrap(), &listing(&ChatFilter::new()))
                .unwrap_err();
            assert!(matches!(err, Error::Location(_)), "{url}: {err}");
            assert!(err.to_string().contains(words), "{url}: {err}");
        }
    }

    #[test]
    fn a_read_only_role_reads_the_copy_and_may_not_write_it() {
        let (location, schema) = location("readonly");
        let mut store = open(&location);
        store_run(&mut store, &giosg_mock::generate(37, 30), false);
        drop(store);
        // The README's role for a team's analysts.
        let role = format!("analyst_{schema}");
        let mut admin = giosg_test_postgres::client(&giosg_test_postgres::url());
        admin
            .batch_execute(&format!(
                "CREATE ROLE {role} LOGIN;
                 GRANT USAGE ON SCHEMA {schema} TO {role};
                 GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role};"
            ))
            .unwrap();
        let url = giosg_test_postgres::url().replace("postgres@", &format!("{role}@"));
        let as_analyst = Location::parse(&url).unwrap().schema(&schema).unwrap();
        let reader = Store::open_read_only(&as_analyst).unwrap();
        assert_eq!(reader.counts().unwrap(), (30, 0));
        assert_eq!(live(&reader).len(), 30);
        drop(reader);
        let err = Store::open(&as_analyst, &listing(&ChatFilter::new())).unwrap_err();
        assert!(
            matches!(err, Error::Postgres(_)),
            "a refusal, not the connection: {err}"
        );
        assert!(err.to_string().contains("permission denied"), "{err}");
    }

    #[test]
    fn replace_rewrites_stored_chats_and_keeps_when_they_went_missing() {
        let (location, schema) = location("replace");
        let mut store = open(&location);
        let mut chats = giosg_mock::generate(38, 10);
        store_run(&mut store, &chats, false);
        // A full run that lists all but the last two: they are missing now.
        store_run(&mut store, &chats[..8], true);
        assert_eq!(store.counts().unwrap(), (10, 2));
        for chat in &mut chats {
            for log in &mut chat.logs {
                log.message = Some("decrypted".into());
            }
        }
        let mut stranger = giosg_mock::generate(39, 1);
        stranger[0].id = giosg_model::Uuid::from_u128(42);
        let mut given = chats.clone();
        given.push(stranger[0].clone());
        assert_eq!(
            store.replace(&given).unwrap(),
            10,
            "a chat not stored is left out"
        );
        assert_eq!(
            store.counts().unwrap(),
            (10, 2),
            "missing ones stay missing"
        );
        let mut db = sql(&schema);
        let (texts, logs): (i64, i64) = {
            let row = db
                .query_one(
                    "SELECT count(*) FILTER (WHERE message = 'decrypted'), count(*) FROM chat_logs",
                    &[],
                )
                .unwrap();
            (row.get(0), row.get(1))
        };
        assert_eq!(texts, logs);
        let seen: i64 = db
            .query_one("SELECT count(seen_run) FROM chats", &[])
            .unwrap()
            .get(0);
        assert_eq!(seen, 8, "which run listed each is kept");
        drop(store);
        let existing = Store::open_existing(&location).unwrap();
        assert_eq!(existing.counts().unwrap(), (10, 2));
    }
}

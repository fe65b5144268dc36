//! Property tests: any page round-trips through JSON unchanged; no input panics the decoder.

use chrono::{DateTime, Utc};
use giosg_model::{
    ApiData, CartProduct, Chat, ChatLog, Decimal, MessageType, Page, SenderType, ShoppingCart, Tag,
    Uuid,
};
use proptest::prelude::*;

fn time() -> impl Strategy<Value = Option<DateTime<Utc>>> {
    // Years 0001 to 9999, millisecond precision, as the API carries them.
    proptest::option::of(
        (-62_135_596_800_000i64..253_402_300_799_999)
            .prop_map(|ms| DateTime::from_timestamp_millis(ms).unwrap()),
    )
}

fn decimal() -> impl Strategy<Value = Option<Decimal>> {
    let mantissa = -(1i128 << 96) + 1..(1i128 << 96);
    proptest::option::of(
        (mantissa, 0u32..=28).prop_map(|(m, s)| Decimal::from_i128_with_scale(m, s)),
    )
}

fn text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(any::<String>())
}

fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(Uuid::from_u128)
}

fn int() -> impl Strategy<Value = Option<i64>> {
    proptest::option::of(any::<i64>())
}

fn log() -> impl Strategy<Value = ChatLog> {
    (
        time(),
        proptest::option::of(any::<i64>()),
        text(),
        proptest::option::of(any::<i64>()),
        text(),
        text(),
    )
        .prop_map(
            |(created_at, sender, sender_id, kind, message, display_name)| {
                let mut log = ChatLog::new();
                log.created_at = created_at;
                log.sender_type = sender.map(SenderType::from);
                log.sender_id = sender_id;
                log.message_type = kind.map(MessageType::from);
                log.message = message;
                log.display_name = display_name;
                log
            },
        )
}

fn product() -> impl Strategy<Value = CartProduct> {
    (
        (proptest::option::of(uuid()), text(), text(), text(), text()),
        (decimal(), int(), decimal(), int(), int(), time(), time()),
    )
        .prop_map(
            |(
                (id, name, description, category, number),
                (price, q, mprice, mq, stock, added, deleted),
            )| {
                let mut p = CartProduct::new();
                p.id = id;
                p.name = name;
                p.description = description;
                p.category = category;
                p.product_number = number;
                p.price = price;
                p.quantity = q;
                p.monthly_price = mprice;
                p.monthly_quantity = mq;
                p.stock_balance = stock;
                p.added_at = added;
                p.deleted_at = deleted;
                p
            },
        )
}

fn cart() -> impl Strategy<Value = ShoppingCart> {
    (
        proptest::option::of(uuid()),
        time(),
        decimal(),
        decimal(),
        text(),
        time(),
        proptest::collection::vec(product(), 0..3),
    )
        .prop_map(|(id, opened, total, monthly, currency, locked, products)| {
            let mut c = ShoppingCart::new();
            c.id = id;
            c.opened_at = opened;
            c.total_price = total;
            c.monthly_total_price = monthly;
            c.currency = currency;
            c.locked_at = locked;
            c.products = products;
            c
        })
}

fn chat() -> impl Strategy<Value = Chat> {
    let opt_bool = || proptest::option::of(any::<bool>());
    let count = || proptest::option::of(any::<u64>());
    (
        (
            uuid(),
            text(),
            time(),
            time(),
            time(),
            opt_bool(),
            opt_bool(),
            opt_bool(),
        ),
        (
            proptest::option::of(uuid()),
            count(),
            count(),
            count(),
            text(),
            text(),
            text(),
            text(),
        ),
        (
            proptest::collection::vec((text(), text()), 0..3),
            proptest::collection::vec(log(), 0..4),
            proptest::collection::vec(text(), 0..3),
            proptest::collection::vec(cart(), 0..2),
        ),
    )
        .prop_map(|(a, b, c)| {
            let mut chat = Chat::new(a.0);
            (chat.token, chat.start_time, chat.end_time, chat.updated_at) = (a.1, a.2, a.3, a.4);
            (
                chat.is_private,
                chat.is_real_conversation,
                chat.is_autosuggested,
            ) = (a.5, a.6, a.7);
            chat.room_id = b.0;
            (
                chat.operator_message_count,
                chat.visitor_message_count,
                chat.message_count,
            ) = (b.1, b.2, b.3);
            (
                chat.start_url,
                chat.start_url_title,
                chat.autosuggest_url,
                chat.autosuggest_url_title,
            ) = (b.4, b.5, b.6, b.7);
            chat.api_data =
                c.0.into_iter()
                    .map(|(name, value)| {
                        let mut d = ApiData::new("", "");
                        (d.name, d.value) = (name, value);
                        d
                    })
                    .collect();
            chat.logs = c.1;
            chat.tags =
                c.2.into_iter()
                    .map(|name| {
                        let mut t = Tag::new("");
                        t.name = name;
                        t
                    })
                    .collect();
            chat.shopping_carts = c.3;
            chat
        })
}

fn page() -> impl Strategy<Value = Page<Chat>> {
    (
        proptest::collection::vec(chat(), 0..4),
        any::<u64>(),
        any::<u64>(),
        proptest::option::of(any::<u64>()),
        proptest::option::of(".*"),
    )
        .prop_map(|(results, count, current, next, url)| {
            let mut page = Page::single(results);
            page.count = count;
            page.current_page = current;
            page.next_page = next;
            page.next_page_url = url;
            page
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn pages_round_trip_through_json(page in page()) {
        let json = serde_json::to_vec(&page).unwrap();
        let back = Page::<Chat>::from_slice(&json).unwrap();
        prop_assert_eq!(back, page);
    }

    #[test]
    fn unknown_members_survive_at_every_level(
        page in page(),
        members in proptest::collection::vec(("x_[a-z_]{1,8}", arb_json()), 1..4),
    ) {
        let mut json = serde_json::to_value(&page).unwrap();
        with_unknown(&mut json, &members);
        let body = serde_json::to_vec(&json).unwrap();
        let decoded = Page::<Chat>::from_slice(&body).unwrap();
        // Every member the server sent is written back, the known ones as before.
        prop_assert_eq!(serde_json::to_value(&decoded).unwrap(), json);
        for chat in &decoded.results {
            prop_assert_eq!(chat.extra.len(), members.iter().map(|(k, _)| k).collect::<std::collections::BTreeSet<_>>().len());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Page::<Chat>::from_slice(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics(json in arb_json()) {
        let body = serde_json::to_vec(&serde_json::json!({"count": 1, "results": [json]})).unwrap();
        let _ = Page::<Chat>::from_slice(&body);
    }

    #[test]
    fn mutated_real_pages_never_panic(cut in 0usize..2000, byte in any::<u8>()) {
        let mut body = std::fs::read("../../fixtures/reference-page.json").unwrap();
        let at = cut % body.len();
        body[at] = byte;
        let _ = Page::<Chat>::from_slice(&body);
        let _ = Page::<Chat>::from_slice(&body[..at]);
    }
}

/// Adds `members` to every object of a page's JSON the model decodes: the envelope, each
/// chat, log, tag, API data entry, cart and product.
fn with_unknown(page: &mut serde_json::Value, members: &[(String, serde_json::Value)]) {
    fn add(object: &mut serde_json::Value, members: &[(String, serde_json::Value)]) {
        let object = object.as_object_mut().expect("an object");
        for (k, v) in members {
            object.insert(k.clone(), v.clone());
        }
    }
    fn each(value: &mut serde_json::Value, key: &str, mut f: impl FnMut(&mut serde_json::Value)) {
        if let Some(items) = value.get_mut(key).and_then(|v| v.as_array_mut()) {
            items.iter_mut().for_each(&mut f);
        }
    }
    add(page, members);
    each(page, "results", |chat| {
        add(chat, members);
        for key in ["logs", "tags", "api_data"] {
            each(chat, key, |item| add(item, members));
        }
        each(chat, "shopping_carts", |cart| {
            add(cart, members);
            each(cart, "products", |product| add(product, members));
        });
    });
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".*".prop_map(Value::String),
        Just(Value::String("58f5055c-56e0-11e5-9354-6c4008c08dfe".into())),
        Just(Value::String("2015-02-13T11:31:36.042Z".into())),
    ];
    let keys = prop_oneof![
        Just("id".to_owned()),
        Just("logs".to_owned()),
        Just("shopping_carts".to_owned()),
        Just("products".to_owned()),
        Just("price".to_owned()),
        Just("start_time".to_owned()),
        Just("sender_type".to_owned()),
        Just("tags".to_owned()),
        "[a-z_]{1,8}",
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn room() -> impl Strategy<Value = giosg_model::Room> {
    (
        uuid(),
        (text(), text(), text(), text()),
        (
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
        ),
        (time(), time()),
        proptest::collection::vec(("x_[a-z_]{1,8}", arb_json()), 0..3),
    )
        .prop_map(
            |(id, (token, domain, name, display), (shared, deleted), (c, u), extra)| {
                let mut room = giosg_model::Room::new(id);
                room.token = token;
                room.domain = domain;
                room.name = name;
                room.display_name = display;
                room.is_shared = shared;
                room.is_deleted = deleted;
                room.created_at = c;
                room.updated_at = u;
                room.extra = extra.into_iter().collect();
                room
            },
        )
}

fn user() -> impl Strategy<Value = giosg_model::User> {
    (
        uuid(),
        (text(), text(), text(), text(), text()),
        (proptest::option::of(any::<bool>()), text()),
        (time(), time()),
        proptest::collection::vec(("x_[a-z_]{1,8}", arb_json()), 0..3),
    )
        .prop_map(
            |(id, (email, first, last, full, alias), (bot, gender), (c, d), extra)| {
                let mut user = giosg_model::User::new(id);
                user.email = email;
                user.first_name = first;
                user.last_name = last;
                user.full_name = full;
                user.alias = alias;
                user.is_bot = bot;
                user.gender = gender;
                user.created_at = c;
                user.deleted_at = d;
                user.extra = extra.into_iter().collect();
                user
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Rooms and users, with members this version does not know, round-trip through a cursor
    /// page unchanged.
    #[test]
    fn rooms_and_users_round_trip_with_their_unknown_members(
        rooms in proptest::collection::vec(room(), 0..4),
        users in proptest::collection::vec(user(), 0..4),
        next in text(),
    ) {
        let mut page = giosg_model::CursorPage::last(rooms);
        page.next = next;
        let json = serde_json::to_string(&page).unwrap();
        let back: giosg_model::CursorPage<giosg_model::Room> = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, page);
        let page = giosg_model::CursorPage::last(users);
        let json = serde_json::to_string(&page).unwrap();
        let back: giosg_model::CursorPage<giosg_model::User> = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, page);
    }
}

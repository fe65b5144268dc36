//! Every fixture, decoded (insta snapshots), and every malformed body's error.

use giosg_model::{Chat, MessageType, Page, SenderType};
use std::path::Path;

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn decode(path: &Path) -> Page<Chat> {
    Page::from_slice(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn reference_page_decodes_as_documented() {
    let page = decode(Path::new("../../fixtures/reference-page.json"));
    assert_eq!((page.count, page.num_pages, page.current_page), (57, 3, 1));
    let chat = &page.results[0];
    assert_eq!(chat.id.to_string(), "58f5055c-56e0-11e5-9354-6c4008c08dfe");
    assert_eq!(chat.logs[0].message_type, Some(MessageType::Autosuggest));
    assert_eq!(chat.logs[0].sender_type, Some(SenderType::Operator));
    assert_eq!(chat.api_value("customer_number"), Some("12345678"));
    let cart = &chat.shopping_carts[0];
    assert_eq!(cart.total_price.unwrap().to_string(), "83.00");
    assert!(cart.is_purchased() && chat.has_sales());
    assert_eq!(cart.live_products().count(), 1);
    insta::assert_debug_snapshot!(page);
}

#[test]
fn edge_cases_decode() {
    insta::glob!("../../../fixtures/edge", "*.json", |path| {
        insta::assert_debug_snapshot!(decode(path));
    });
}

#[test]
fn carts_past_the_largest_decimal_are_an_error_naming_the_chat() {
    let page = decode(Path::new("../../fixtures/edge/overflowing-sales.json"));
    let e = page.results[0].sales_totals().unwrap_err();
    assert_eq!(e.chat, page.results[0].id);
    assert_eq!(e.currency, "EUR");
    for chat in &page.results[1..] {
        let totals = chat.sales_totals().unwrap();
        assert_eq!(totals, vec![("SEK".to_owned(), giosg_model::Decimal::MAX)]);
    }
}

#[test]
fn malformed_bodies_fail_with_a_located_error() {
    insta::glob!("../../../fixtures/malformed", "*.json", |path| {
        let err = Page::<Chat>::from_slice(&read(path)).expect_err("must not decode");
        insta::assert_snapshot!(err.to_string());
    });
}

#[test]
fn every_fixture_survives_a_round_trip() {
    let mut paths = vec![Path::new("../../fixtures/reference-page.json").to_owned()];
    for dir in ["../../fixtures/edge", "../../fixtures/generated"] {
        for entry in std::fs::read_dir(dir).unwrap() {
            paths.push(entry.unwrap().path());
        }
    }
    for path in paths {
        let page = decode(&path);
        let json = serde_json::to_vec(&page).unwrap();
        let again: Page<Chat> = Page::from_slice(&json).unwrap();
        assert_eq!(page, again, "{}", path.display());
        // Encoding is stable too: a second trip writes the same bytes.
        assert_eq!(json, serde_json::to_vec(&again).unwrap());
    }
}

#[test]
fn money_keeps_its_scale_and_goes_out_as_a_string() {
    let page = decode(Path::new("../../fixtures/reference-page.json"));
    let json = serde_json::to_value(&page).unwrap();
    let cart = &json["results"][0]["shopping_carts"][0];
    assert_eq!(cart["total_price"], "83.00");
    assert_eq!(cart["products"][0]["price"], "499.90");
    assert_eq!(
        cart["products"][0]["monthly_price"],
        serde_json::Value::Null
    );
    assert_eq!(json["results"][0]["start_time"], "2015-02-13T11:31:36.042Z");
}

#[test]
fn unknown_enum_values_are_written_back() {
    let page = decode(Path::new(
        "../../fixtures/edge/unknown-fields-and-values.json",
    ));
    let logs = &page.results[0].logs;
    assert_eq!(logs[0].sender_type, Some(SenderType::Unknown(0)));
    assert_eq!(logs[1].message_type, Some(MessageType::Unknown(-1)));
    let json = serde_json::to_value(&page).unwrap();
    assert_eq!(json["results"][0]["logs"][1]["sender_type"], 99);
    assert_eq!(json["results"][0]["logs"][0]["type"], 3);
}

#[test]
fn errors_locate_the_value() {
    let body = read(Path::new("../../fixtures/malformed/bad-price.json"));
    let err = Page::<Chat>::from_slice(&body).unwrap_err();
    assert_eq!(err.path(), "results[0].shopping_carts[1].total_price");
    assert!(!err.is_eof() && !err.is_syntax());
    assert!(std::str::from_utf8(&body[..=err.offset()])
        .unwrap()
        .ends_with("\"83,00\""));

    let truncated = read(Path::new("../../fixtures/malformed/truncated.json"));
    assert!(Page::<Chat>::from_slice(&truncated).unwrap_err().is_eof());
    let html = read(Path::new("../../fixtures/malformed/html-error.json"));
    assert!(Page::<Chat>::from_slice(&html).unwrap_err().is_syntax());
}

#[test]
fn filters_serialize_with_the_api_names() {
    use giosg_model::{ChatFilter, OrderBy, SortField};
    let filter = ChatFilter::new()
        .ordering(OrderBy::desc(SortField::StartTime).then_asc(SortField::EndTime))
        .start_time(giosg_model::time::parse("2015-02-13T13:31:36.042+02:00").unwrap())
        .tag("Premium")
        .only_ended(true);
    let json = serde_json::to_value(&filter).unwrap();
    assert_eq!(json["ordering"], "-start_time,end_time");
    assert_eq!(json["start_time"], "2015-02-13T11:31:36.042Z");
    let back: ChatFilter = serde_json::from_value(json).unwrap();
    assert_eq!(back, filter);
    assert_eq!(
        serde_json::from_str::<ChatFilter>("{}").unwrap(),
        ChatFilter::new()
    );
    assert!(serde_json::from_str::<ChatFilter>(r#"{"ordering": "name"}"#).is_err());
}

/// Rooms and users as the sources show them, their conflicts included: a shared room under a
/// name of its own, a custom room without a domain, a null language; a bot without email, a
/// gender as text and as a number, a deleted user; members this version does not know kept.
#[test]
fn rooms_and_users_decode_tolerantly() {
    let rooms: giosg_model::CursorPage<giosg_model::Room> =
        serde_json::from_slice(&read(Path::new("../../fixtures/directory/rooms.json"))).unwrap();
    assert!(rooms.next.as_deref().is_some_and(|n| n.contains("cursor=")));
    assert_eq!(
        rooms.results[1].shown_name(),
        Some("Support (shared by Partner)")
    );
    assert_eq!(rooms.results[1].domain, None);
    assert!(rooms.results[0].extra.contains_key("is_humans_online"));
    insta::assert_debug_snapshot!(rooms);
    let users: giosg_model::CursorPage<giosg_model::User> =
        serde_json::from_slice(&read(Path::new("../../fixtures/directory/users.json"))).unwrap();
    assert_eq!(users.next, None);
    assert_eq!(users.results[0].gender.as_deref(), Some("female"));
    assert_eq!(users.results[1].gender.as_deref(), Some("2"));
    assert_eq!(users.results[1].email, None);
    assert!(users.results[1].deleted_at.is_some());
    insta::assert_debug_snapshot!(users);
}

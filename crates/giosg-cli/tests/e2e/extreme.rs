//! Extreme data never panics: money sums that overflow a decimal are an error naming the chat
//! (`fixtures/edge/overflowing-sales.json`, built here), and the summary's chart stays short
//! whatever the dates.

use crate::common::{api_args, chats, giosg, run, temp_dir, Run};
use giosg_async::{time, Chat, Decimal, ShoppingCart, Uuid};
use giosg_mock::MockServer;

/// A chat started on `day` (`2025-01-01`) with a purchased cart of the largest decimal for
/// each currency given.
fn chat(n: u128, day: &str, currencies: &[&str]) -> Chat {
    let mut chat = Chat::new(Uuid::from_u128(0x0c1e7a4e_0000_4000_8000_000000000000 + n));
    let start = time::parse(&format!("{day}T10:00:00Z")).unwrap();
    chat.start_time = Some(start);
    chat.end_time = Some(start);
    for currency in currencies {
        let mut cart = ShoppingCart::new();
        cart.total_price = Some(Decimal::MAX);
        cart.currency = Some((*currency).to_owned());
        cart.locked_at = Some(start);
        chat.shopping_carts.push(cart);
    }
    chat
}

/// Asserts a clean refusal: exit 6, one line naming what overflowed, no panic.
fn refused(out: &Run, names: &str, context: &str) {
    let line = out.fails(6);
    assert!(line.contains(names), "{context}: {line}");
    assert!(
        line.contains("more than a decimal holds"),
        "{context}: {line}"
    );
    assert!(!out.stderr.contains("internal error"), "{context}: {line}");
}

#[test]
fn carts_that_overflow_a_decimal_are_an_error_naming_the_chat() {
    // Two carts of 79228162514264337593543950335 EUR in one chat.
    let overflowing = chat(1, "2025-01-01", &["EUR", "EUR"]);
    let id = overflowing.id.to_string();
    let mock = MockServer::builder()
        .chats(vec![chat(2, "2025-01-02", &["SEK"]), overflowing])
        .start()
        .unwrap();
    let dir = temp_dir("overflow");
    let csv = dir.join("chats.csv");
    let out = run(&mut chats(
        &mock,
        "export",
        &["--out", csv.to_str().unwrap(), "--format", "csv"],
    ));
    refused(&out, &id, "export --format csv");
    refused(
        &run(&mut chats(&mock, "list", &["--format", "csv"])),
        &id,
        "list --format csv",
    );
    refused(
        &run(&mut chats(&mock, "list", &["--format", "table"])),
        &id,
        "list --format table",
    );
    refused(&run(&mut chats(&mock, "summary", &[])), &id, "summary");

    // The database keeps the chat as sent; its summary refuses it the same way.
    let db = dir.join("chats.db");
    let db = db.to_str().unwrap();
    run(&mut chats(&mock, "sync", &["--db", db])).ok();
    let mut offline = giosg(["chats", "summary", "--db", db]);
    offline.args(api_args(&mock));
    refused(&run(&mut offline), &id, "summary --db");

    // jsonl holds the carts as sent: nothing is summed.
    let jsonl = dir.join("chats.jsonl");
    run(&mut chats(
        &mock,
        "export",
        &["--out", jsonl.to_str().unwrap()],
    ))
    .ok();
}

#[test]
fn sales_that_overflow_across_chats_are_an_error_naming_the_currency() {
    // Each chat's total fits; the two together do not.
    let mock = MockServer::builder()
        .chats(vec![
            chat(2, "2025-01-02", &["SEK"]),
            chat(3, "2025-01-03", &["SEK"]),
        ])
        .start()
        .unwrap();
    let csv = run(&mut chats(&mock, "list", &["--format", "csv"]));
    assert_eq!(csv.ok().lines().count(), 3, "each row has its own total");
    refused(
        &run(&mut chats(&mock, "summary", &[])),
        "\"SEK\"",
        "summary",
    );
    let dir = temp_dir("overflow-across");
    let db = dir.join("chats.db");
    let db = db.to_str().unwrap();
    run(&mut chats(&mock, "sync", &["--db", db])).ok();
    let mut offline = giosg(["chats", "summary", "--db", db]);
    offline.args(api_args(&mock));
    refused(&run(&mut offline), "\"SEK\"", "summary --db");
}

#[test]
fn the_summary_chart_stays_short_whatever_the_dates() {
    let mock = MockServer::builder()
        .chats(vec![chat(4, "0001-01-01", &[]), chat(5, "9999-12-31", &[])])
        .start()
        .unwrap();
    let out = run(&mut chats(&mock, "summary", &[]));
    let text = out.ok();
    assert!(text.lines().count() < 80, "{text}");
    assert!(text.contains("chats per year"), "{text}");
}

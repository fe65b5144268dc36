//! Every output format, as snapshots of a small seeded data set.

use crate::common::{chats, ids, jsonl, mock, run, temp_dir};
use giosg_async::Chat;

/// Three generated chats: small snapshots, every kind of field.
fn small() -> giosg_mock::MockServer {
    mock(3, 3)
}

#[test]
fn jsonl_is_one_chat_per_line_with_the_api_field_names() {
    let mock = small();
    let out = run(&mut chats(&mock, "list", &["--format", "jsonl"]));
    let text = out.ok();
    assert_eq!(jsonl(text), mock.chats());
    assert!(text.contains("Z\""), "times in UTC with Z");
    insta::assert_snapshot!("jsonl", text);
}

#[test]
fn jsonl_is_the_default_when_stdout_is_not_a_terminal() {
    let mock = small();
    let default = run(&mut chats(&mock, "list", &[])).ok().to_owned();
    let jsonl = run(&mut chats(&mock, "list", &["--format", "jsonl"]))
        .ok()
        .to_owned();
    assert_eq!(default, jsonl);
}

#[test]
fn json_is_one_array() {
    let mock = small();
    let out = run(&mut chats(&mock, "list", &["--format", "json"]));
    let parsed: Vec<Chat> = serde_json::from_str(out.ok()).unwrap();
    assert_eq!(parsed, mock.chats());
    insta::assert_snapshot!("json", out.ok());

    let empty = run(&mut chats(
        &mock,
        "list",
        &["--format", "json", "--tag", "no such tag"],
    ));
    assert_eq!(empty.ok(), "[]\n");
}

#[test]
fn csv_is_one_row_per_chat() {
    let mock = small();
    let out = run(&mut chats(&mock, "list", &["--format", "csv"]));
    let mut reader = csv::Reader::from_reader(out.ok().as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(
        rows.iter().map(|r| r[0].to_owned()).collect::<Vec<_>>(),
        ids(&mock.chats())
    );
    insta::assert_snapshot!("csv", out.ok());
}

#[test]
fn csv_logs_is_one_row_per_message() {
    let mock = small();
    let out = run(&mut chats(&mock, "list", &["--csv-logs"]));
    let mut reader = csv::Reader::from_reader(out.ok().as_bytes());
    let rows = reader.records().count();
    let messages: usize = mock.chats().iter().map(|c| c.logs.len()).sum();
    assert_eq!(rows, messages);
    insta::assert_snapshot!("csv_logs", out.ok());
}

#[test]
fn table_has_the_columns_to_skim() {
    let mock = mock(3, 12);
    let out = run(&mut chats(&mock, "list", &["--format", "table"]));
    insta::assert_snapshot!("table", out.ok());
}

#[test]
fn summary_counts_and_charts() {
    let mock = mock(5, 400);
    let out = run(&mut chats(&mock, "summary", &[]));
    insta::assert_snapshot!("summary", out.ok());
}

#[test]
fn export_files_hold_what_list_prints() {
    let mock = mock(6, 40);
    let dir = temp_dir("export-formats");
    for (name, list_args, export_args) in [
        (
            "a.jsonl",
            &["--format", "jsonl"][..],
            &["--format", "jsonl"][..],
        ),
        ("b.csv", &["--format", "csv"][..], &["--format", "csv"][..]),
        (
            "c.csv",
            &["--csv-logs"][..],
            &["--format", "csv", "--csv-logs"][..],
        ),
    ] {
        let listed = run(&mut chats(&mock, "list", list_args)).ok().to_owned();
        let path = dir.join(name);
        let mut cmd = chats(&mock, "export", export_args);
        cmd.arg("--out").arg(&path);
        let out = run(&mut cmd);
        out.ok();
        assert_eq!(
            out.stderr.trim(),
            format!("giosg: exported 40 new chats to {}", path.display())
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), listed, "{name}");
    }
}

/// A row per chat holds its sales as a spreadsheet adds them: a number and its currency, or,
/// across currencies, no total and the totals per currency.
#[test]
fn csv_sales_are_numbers_a_spreadsheet_adds_up() {
    use giosg_async::{Decimal, ShoppingCart};
    let mut chats = giosg_mock::generate(48, 2);
    let cart = |price: &str, currency: &str| {
        let mut cart = ShoppingCart::new();
        cart.total_price = Some(price.parse::<Decimal>().unwrap());
        cart.currency = Some(currency.to_owned());
        cart.locked_at = chats_time();
        cart
    };
    chats[0].shopping_carts = vec![cart("700.00", "EUR"), cart("47.00", "EUR")];
    chats[1].shopping_carts = vec![cart("83.00", "EUR"), cart("12.50", "SEK")];
    let mock = giosg_mock::MockServer::builder()
        .chats(chats)
        .start()
        .unwrap();
    let out = crate::common::run(&mut crate::common::chats(
        &mock,
        "list",
        &["--format", "csv"],
    ));
    let mut reader = csv::Reader::from_reader(out.ok().as_bytes());
    let header = reader.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(&rows[0][at("sales_total")], "747.00");
    assert_eq!(&rows[0][at("sales_currency")], "EUR");
    assert_eq!(&rows[1][at("sales_total")], "");
    assert_eq!(&rows[1][at("sales_currency")], "83.00 EUR; 12.50 SEK");
}

fn chats_time() -> Option<giosg_async::DateTime<giosg_async::Utc>> {
    giosg_async::time::parse("2025-01-01T00:00:00Z").ok()
}

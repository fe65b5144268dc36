//! Decoding a 100-chat page: typed `Page<Chat>` against `serde_json::Value` and against a twin
//! whose every string-valued field stays a `String` (ids, times and prices unparsed).
//!
//! Run with `cargo bench -p giosg-model`; compare the three lines of the `decode_page_100`
//! group (same process, same input), as ratios.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use giosg_model::{Chat, Page};
use serde::Deserialize;
use std::hint::black_box;

static PAGE: &[u8] = include_bytes!("../../../fixtures/generated/page-100.json");

#[allow(dead_code)]
#[derive(Deserialize)]
struct TwinPage {
    count: u64,
    num_pages: u64,
    per_page: u64,
    current_page: u64,
    next_page: Option<u64>,
    previous_page: Option<u64>,
    next_page_url: Option<String>,
    previous_page_url: Option<String>,
    results: Vec<TwinChat>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct TwinChat {
    id: String,
    token: Option<String>,
    start_time: Option<String>,
    end_time: Option<String>,
    updated_at: Option<String>,
    is_private: Option<bool>,
    is_real_conversation: Option<bool>,
    is_autosuggested: Option<bool>,
    room_id: Option<String>,
    api_data: Vec<TwinApiData>,
    operator_message_count: Option<u64>,
    visitor_message_count: Option<u64>,
    message_count: Option<u64>,
    start_url: Option<String>,
    start_url_title: Option<String>,
    autosuggest_url: Option<String>,
    autosuggest_url_title: Option<String>,
    logs: Vec<TwinLog>,
    tags: Vec<TwinTag>,
    shopping_carts: Vec<TwinCart>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct TwinApiData {
    name: Option<String>,
    value: Option<String>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct TwinTag {
    name: Option<String>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct TwinLog {
    created_at: Option<String>,
    #[serde(rename = "type")]
    kind: Option<i64>,
    sender_type: Option<i64>,
    sender_id: Option<String>,
    message: Option<String>,
    display_name: Option<String>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct TwinCart {
    id: Option<String>,
    opened_at: Option<String>,
    total_price: Option<String>,
    monthly_total_price: Option<String>,
    currency: Option<String>,
    locked_at: Option<String>,
    products: Vec<TwinProduct>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
struct TwinProduct {
    id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    category: Option<String>,
    product_number: Option<String>,
    price: Option<String>,
    quantity: Option<i64>,
    monthly_price: Option<String>,
    monthly_quantity: Option<i64>,
    stock_balance: Option<i64>,
    added_at: Option<String>,
    deleted_at: Option<String>,
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_page_100");
    group.throughput(Throughput::Bytes(PAGE.len() as u64));
    group.bench_function("typed Page<Chat>", |b| {
        b.iter(|| Page::<Chat>::from_slice(black_box(PAGE)).unwrap())
    });
    group.bench_function("all-String twin", |b| {
        b.iter(|| serde_json::from_slice::<TwinPage>(black_box(PAGE)).unwrap())
    });
    group.bench_function("serde_json::Value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(PAGE)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);

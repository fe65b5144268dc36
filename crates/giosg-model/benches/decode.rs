//! Decoding a 100-chat page: typed `Page<Chat>` against `serde_json::Value` and against a twin
//! whose every string-valued field stays a `String` (ids, times and prices unparsed).
//!
//! Run with `cargo bench -p giosg-model`; compare the three lines of the `decode_page_100`
//! group (same process, same input), as ratios.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use giosg_model::{Chat, Page};
use std::hint::black_box;

static PAGE: &[u8] = include_bytes!("../../../fixtures/generated/page-100.json");

#[path = "support/twin.rs"]
mod twin;

use twin::TwinPage;

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

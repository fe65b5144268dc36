//! Transport benchmarks, as ratios against a baseline run in the same process, interleaved:
//!
//! 1. one 100-chat page: the blocking client against raw ureq + `serde_json::from_slice`
//!    (target: within 5%);
//! 2. 2000 chats in pages of 25 with 20 ms injected latency: the async client with
//!    concurrency 8 against sequential (target: at least 6x);
//! 3. peak heap above the start while iterating 20k and 200k chats (target: flat, < 32 MiB).
//!
//! `cargo bench -p giosg-conformance --bench transport` (add `-- --quick` for fewer rounds).

use futures_util::TryStreamExt;
use giosg_mock::{FaultPlan, MockServer};
use giosg_model::{Chat, ChatFilter, Page};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Counts live heap bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// The one unsafe code of the tests: an allocator that counts, forwarding to the system's.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(live, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

fn blocking_client(mock: &MockServer) -> giosg_blocking::Client {
    giosg_blocking::Client::builder()
        .base_url(mock.base_url())
        .token(mock.token())
        .build()
        .unwrap()
}

fn page_fetch(rounds: usize) {
    let mock = MockServer::builder().generated(1, 1000).start().unwrap();
    let client = blocking_client(&mock);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!(
        "{}/api/v5/orgs/{}/chats?page=3&page_size=100",
        mock.base_url(),
        mock.org()
    );
    let auth = format!("Token {}", mock.token());
    let filter = ChatFilter::new().page(3).page_size(100);
    let (mut ours, mut raw) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ours.push(time(|| {
            let page = client
                .chats(mock.org())
                .filter(filter.clone())
                .first_page()
                .unwrap();
            assert_eq!(page.results.len(), 100);
        }));
        raw.push(time(|| {
            let mut response = agent
                .get(&url)
                .header("Authorization", &auth)
                .call()
                .unwrap();
            let body = response
                .body_mut()
                .with_config()
                .limit(32 << 20)
                .read_to_vec()
                .unwrap();
            let page: Page<Chat> = serde_json::from_slice(&body).unwrap();
            assert_eq!(page.results.len(), 100);
        }));
    }
    let ratios: Vec<f64> = ours.iter().zip(&raw).map(|(o, r)| o / r).collect();
    println!(
        "page of 100 chats: client {:.3} ms, raw ureq+serde_json {:.3} ms, ratio {:.3} (min {:.3}, max {:.3}; target <= 1.05)",
        median(ours) * 1e3,
        median(raw) * 1e3,
        median(ratios.clone()),
        ratios.iter().copied().fold(f64::INFINITY, f64::min),
        ratios.iter().copied().fold(0.0, f64::max),
    );
}

fn concurrency(rounds: usize) {
    let mock = MockServer::builder()
        .generated(1, 2000)
        .faults(FaultPlan::new().latency(Duration::from_millis(20)))
        .start()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = {
        let _guard = runtime.enter();
        giosg_async::Client::builder()
            .base_url(mock.base_url())
            .token(mock.token())
            .build()
            .unwrap()
    };
    let run = |n: usize| {
        time(|| {
            let chats: Vec<Chat> = runtime
                .block_on(
                    client
                        .chats(mock.org())
                        .filter(ChatFilter::new().page_size(25))
                        .concurrency(n)
                        .stream()
                        .try_collect(),
                )
                .unwrap();
            assert_eq!(chats.len(), 2000);
        })
    };
    let mut speedups = Vec::new();
    for _ in 0..rounds {
        let sequential = run(1);
        let concurrent = run(8);
        speedups.push(sequential / concurrent);
    }
    println!(
        "80 pages at 20 ms latency: concurrency 8 is {:.2}x sequential (ideal 7.27x: the first page comes alone, then 79 in rounds of 8; target >= 6x; runs {:?})",
        median(speedups.clone()),
        speedups.iter().map(|s| format!("{s:.2}")).collect::<Vec<_>>()
    );
}

fn memory() {
    let mut peaks = Vec::new();
    for n in [20_000usize, 200_000] {
        let mock = MockServer::builder().generated(1, n).start().unwrap();
        let client = blocking_client(&mock);
        // Warm the mock's listing cache (an index over all chats) before measuring.
        client
            .chats(mock.org())
            .filter(ChatFilter::new().page_size(100))
            .first_page()
            .unwrap();
        let base = LIVE.load(Relaxed);
        PEAK.store(base, Relaxed);
        let mut count = 0;
        for chat in client
            .chats(mock.org())
            .filter(ChatFilter::new().page_size(100))
            .iter()
        {
            chat.unwrap();
            count += 1;
            // The mock records every request; keep its log from counting as client memory.
            if count % 10_000 == 0 {
                mock.clear_requests();
            }
        }
        assert_eq!(count, n);
        let peak = PEAK.load(Relaxed) - base;
        println!(
            "iterating {n} chats: peak heap above start {:.2} MiB (the in-process mock included)",
            peak as f64 / (1 << 20) as f64
        );
        peaks.push(peak as f64);
    }
    println!(
        "peak at 200k / peak at 20k: {:.3} (target: flat, < 32 MiB)",
        peaks[1] / peaks[0]
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // `cargo test --benches` runs this with `--bench`-less arguments: keep it short there.
    let is_bench = std::env::args().any(|a| a == "--bench");
    if !is_bench && !quick {
        page_fetch(3);
        return;
    }
    page_fetch(if quick { 50 } else { 400 });
    concurrency(if quick { 2 } else { 5 });
    memory();
}

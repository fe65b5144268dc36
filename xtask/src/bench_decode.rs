//! `cargo xtask bench`, part 1: decoding a 100-chat page (`fixtures/generated/page-100.json`)
//! typed as `Page<Chat>`, as `serde_json::Value`, and as the all-`String` twin of
//! `crates/giosg-model/benches/support/twin.rs` (every string-valued field stays a `String`, so ids,
//! times and prices go unparsed), in one process, interleaved.

use giosg_model::{Chat, Page};
use std::hint::black_box;
use std::time::Instant;

#[path = "../../crates/giosg-model/benches/support/twin.rs"]
mod twin;

use twin::TwinPage;

/// The three decoders, in the order they run in each round.
pub const VARIANTS: [&str; 3] = ["typed Page<Chat>", "all-String twin", "serde_json::Value"];

/// Decodes `page` with decoder `variant` (an index into [`VARIANTS`]); returns the chat count.
pub fn decode(variant: usize, page: &[u8]) -> usize {
    match variant {
        0 => Page::<Chat>::from_slice(black_box(page))
            .expect("the fixture decodes")
            .results
            .len(),
        1 => serde_json::from_slice::<TwinPage>(black_box(page))
            .expect("the fixture decodes")
            .results
            .len(),
        _ => serde_json::from_slice::<serde_json::Value>(black_box(page))
            .expect("the fixture decodes")["results"]
            .as_array()
            .map_or(0, Vec::len),
    }
}

/// Throughput in MB/s (10^6 bytes) of each decoder, per round: `rounds` rounds, each timing
/// every decoder in turn for about `batch` (a fixed number of decodes, calibrated once).
pub fn measure(page: &[u8], rounds: usize, batch: std::time::Duration) -> [Vec<f64>; 3] {
    // Warm up and calibrate on the typed decoder.
    let start = Instant::now();
    let mut iters = 0u32;
    while start.elapsed() < batch && iters < 1_000_000 {
        black_box(decode(0, page));
        iters += 1;
    }
    let iters = iters.max(1);
    let mut out: [Vec<f64>; 3] = Default::default();
    for _ in 0..rounds {
        for (variant, series) in out.iter_mut().enumerate() {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(decode(variant, page));
            }
            let secs = start.elapsed().as_secs_f64();
            series.push(page.len() as f64 * f64::from(iters) / secs / 1e6);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_decoder_reads_the_fixture() {
        let page =
            std::fs::read(super::super::workspace().join("fixtures/generated/page-100.json"))
                .expect("the fixture exists");
        for variant in 0..3 {
            assert_eq!(super::decode(variant, &page), 100);
        }
        let rates = super::measure(&page, 1, std::time::Duration::from_millis(1));
        assert!(rates.iter().all(|r| r.len() == 1 && r[0] > 0.0));
    }
}

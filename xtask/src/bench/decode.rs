//! `cargo xtask bench`, part 1: decoding a 100-chat page (`fixtures/generated/page-100.json`)
//! typed as `Page<Chat>`, as `serde_json::Value`, and as the all-`String` twin of
//! `crates/giosg-model/benches/support/twin.rs` (every string-valued field stays a `String`, so ids,
//! times and prices go unparsed), in one process, interleaved.

use super::report::Report;
use super::stats::{ratios, Stat};
use super::{env::workspace, step, Config};
use giosg_model::{Chat, Page};
use std::hint::black_box;
use std::time::Instant;

#[path = "../../../crates/giosg-model/benches/support/twin.rs"]
mod twin;

use twin::TwinPage;

/// The three decoders, in the order they run in each round.
pub(super) const VARIANTS: [&str; 3] = ["typed Page<Chat>", "all-String twin", "serde_json::Value"];

/// Decodes `page` with decoder `variant` (an index into [`VARIANTS`]); returns the chat count.
pub(super) fn decode(variant: usize, page: &[u8]) -> usize {
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
pub(super) fn measure(page: &[u8], rounds: usize, batch: std::time::Duration) -> [Vec<f64>; 3] {
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

/// Part 1: the three decoders on the fixture page, in this process.
pub(super) fn section(config: &Config, report: &mut Report) -> Result<(), String> {
    let path = workspace().join("fixtures/generated/page-100.json");
    let page = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let [typed, twin, value] = measure(&page, config.decode_rounds, config.decode_batch);
    let kb = page.len() as f64 / 1000.0;
    for (name, series) in VARIANTS.iter().zip([&typed, &twin, &value]) {
        step(&format!("  {name}: {}", Stat::of(series).show(0, " MB/s")));
    }
    let vs_twin = Stat::of(&ratios(&typed, &twin, |t, b| t / b));
    let vs_value = Stat::of(&ratios(&typed, &value, |t, b| t / b));
    report.row(
        format!("decode a 100-chat page ({kb:.0} kB): `Page<Chat>` vs all-String twin"),
        Stat::of(&typed).show(0, " MB/s"),
        Stat::of(&twin).show(0, " MB/s"),
        format!("{} faster", vs_twin.show(2, "x")),
        ">= 1.0x",
        Some(vs_twin.median >= 1.0),
    );
    report.row(
        "decode a 100-chat page: `Page<Chat>` vs `serde_json::Value`",
        Stat::of(&typed).show(0, " MB/s"),
        Stat::of(&value).show(0, " MB/s"),
        format!("{} faster", vs_value.show(2, "x")),
        ">= 1.5x",
        Some(vs_value.median >= 1.5),
    );
    report.notes.push(format!(
        "Decode: in the release build of xtask, {} rounds; each round times each decoder in turn \
         over the same number of decodes of `fixtures/generated/page-100.json` (about {} ms \
         each). The twin is the one of `crates/giosg-model/benches/decode.rs`.",
        config.decode_rounds,
        config.decode_batch.as_millis()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_decoder_reads_the_fixture() {
        let page = std::fs::read(super::workspace().join("fixtures/generated/page-100.json"))
            .expect("the fixture exists");
        for variant in 0..3 {
            assert_eq!(super::decode(variant, &page), 100);
        }
        let rates = super::measure(&page, 1, std::time::Duration::from_millis(1));
        assert!(rates.iter().all(|r| r.len() == 1 && r[0] > 0.0));
    }
}

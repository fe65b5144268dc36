//! `cargo xtask bench`, part 8: `giosg chats sync` into PostgreSQL (a throwaway cluster of
//! giosg-test-postgres) against the same sync into SQLite and the JSON Lines export, on
//! loopback, interleaved; then at 100 ms latency with `--concurrency 8`, against the export.

use super::copy::{drop_schema, once, Dest};
use super::env::Bins;
use super::proc::{Mock, Usage};
use super::report::Report;
use super::stats::{ratios, Stat};
use super::{progress, step, Config, CONCURRENCY, LATENCY_MS, MOCK_TIMEOUT, SEED, TOKEN};
use std::path::Path;

/// PostgreSQL's throughput at least, in multiples of SQLite's, on loopback.
const TARGET_VS_SQLITE: f64 = 1.0;
/// At latency, PostgreSQL's throughput at least, in multiples of the export's.
const TARGET_AT_LATENCY: f64 = 0.9;
/// A sync's peak RSS at most, in MiB.
const TARGET_RSS_MIB: f64 = 64.0;
/// Chats at latency.
const LATENCY_CHATS: usize = 20_000;

/// Part 8.
pub(super) fn section(
    config: &Config,
    bins: &Bins,
    tmp: &Path,
    report: &mut Report,
) -> Result<(), String> {
    step("postgres: starting a throwaway PostgreSQL cluster (initdb, pg_ctl)");
    let cluster = giosg_test_postgres::Cluster::start();
    let url = cluster.url();
    let pg = Dest::Postgres {
        url: &url,
        schema: "bench",
    };
    let db = tmp.join("postgres-bench.db");
    let out = tmp.join("postgres-bench.jsonl");
    let (lite, export) = (Dest::Sqlite(&db), Dest::Export(&out));

    let n = config.sync_chats;
    step(&format!(
        "postgres: {n} chats on loopback, sync into PostgreSQL, into SQLite, export"
    ));
    let mock = Mock::start(&bins.mock, n, SEED, TOKEN, None, None, MOCK_TIMEOUT)?;
    for into in [&pg, &lite, &export] {
        once(bins, tmp, &mock, into, &[])?;
    }
    let (mut pgs, mut lites, mut exports) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..config.sync_rounds {
        for (into, runs, name) in [
            (&pg, &mut pgs, "postgres"),
            (&lite, &mut lites, "sqlite"),
            (&export, &mut exports, "export"),
        ] {
            let usage = once(bins, tmp, &mock, into, &[])?;
            progress(&format!("round {} {name}", round + 1), &usage);
            runs.push(usage);
        }
    }
    drop(mock);

    step(&format!(
        "postgres: {LATENCY_CHATS} chats at {LATENCY_MS} ms latency, --concurrency {CONCURRENCY}: sync into PostgreSQL, export"
    ));
    let mock = Mock::start(
        &bins.mock,
        LATENCY_CHATS,
        SEED,
        TOKEN,
        Some(LATENCY_MS),
        None,
        MOCK_TIMEOUT,
    )?;
    let concurrency = CONCURRENCY.to_string();
    let extra = ["--concurrency", concurrency.as_str()];
    let (mut pg_far, mut lite_far, mut export_far) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..config.sync_rounds {
        let usage = once(bins, tmp, &mock, &pg, &extra)?;
        progress(&format!("round {} postgres at latency", round + 1), &usage);
        pg_far.push(usage);
        let usage = once(bins, tmp, &mock, &lite, &extra)?;
        progress(&format!("round {} sqlite at latency", round + 1), &usage);
        lite_far.push(usage);
        let usage = once(bins, tmp, &mock, &export, &extra)?;
        progress(&format!("round {} export at latency", round + 1), &usage);
        export_far.push(usage);
    }
    drop(mock);
    drop_schema(&url, "bench")?;
    drop(cluster);

    let wall = |runs: &[Usage]| runs.iter().map(|u| u.wall).collect::<Vec<f64>>();
    let k = format!("{}k", n / 1000);
    let (pw, lw, ew) = (wall(&pgs), wall(&lites), wall(&exports));
    let vs_sqlite = Stat::of(&ratios(&lw, &pw, |l, p| l / p));
    report.row(
        format!("sync {k} chats into PostgreSQL vs into SQLite, loopback: throughput"),
        Stat::of(&pw).show(2, " s"),
        Stat::of(&lw).show(2, " s"),
        format!("PostgreSQL / SQLite: {}", vs_sqlite.show(2, "x")),
        format!(">= {TARGET_VS_SQLITE}x"),
        Some(vs_sqlite.median >= TARGET_VS_SQLITE),
    );
    let vs_export = Stat::of(&ratios(&ew, &pw, |e, p| e / p));
    report.row(
        format!("sync {k} chats into PostgreSQL vs export them, loopback: throughput"),
        Stat::of(&pw).show(2, " s"),
        Stat::of(&ew).show(2, " s"),
        format!("PostgreSQL / export: {}", vs_export.show(2, "x")),
        "–",
        None,
    );
    let rss = Stat::of(&pgs.iter().map(|u| u.rss_mib).collect::<Vec<_>>());
    report.row(
        format!("sync {k} chats into PostgreSQL: peak RSS of giosg"),
        rss.show(1, " MiB"),
        Stat::of(&lites.iter().map(|u| u.rss_mib).collect::<Vec<_>>()).show(1, " MiB (SQLite)"),
        "–",
        format!("<= {TARGET_RSS_MIB} MiB"),
        Some(rss.max <= TARGET_RSS_MIB),
    );
    let (fw, xw) = (wall(&pg_far), wall(&export_far));
    let far = Stat::of(&ratios(&xw, &fw, |e, p| e / p));
    report.row(
        format!(
            "sync {}k chats into PostgreSQL vs export, {LATENCY_MS} ms latency, --concurrency {CONCURRENCY}: throughput",
            LATENCY_CHATS / 1000
        ),
        Stat::of(&fw).show(2, " s"),
        Stat::of(&xw).show(2, " s"),
        format!("PostgreSQL / export: {}", far.show(2, "x")),
        format!(">= {TARGET_AT_LATENCY}x"),
        Some(far.median >= TARGET_AT_LATENCY),
    );
    let lite_at = Stat::of(&ratios(&xw, &wall(&lite_far), |e, l| e / l));
    report.row(
        format!(
            "sync {}k chats into SQLite vs export, {LATENCY_MS} ms latency, --concurrency {CONCURRENCY}: throughput",
            LATENCY_CHATS / 1000
        ),
        Stat::of(&wall(&lite_far)).show(2, " s"),
        Stat::of(&xw).show(2, " s"),
        format!("SQLite / export: {}", lite_at.show(2, "x")),
        format!(">= {TARGET_AT_LATENCY}x"),
        Some(lite_at.median >= TARGET_AT_LATENCY),
    );
    report.notes.push(format!(
        "PostgreSQL: a throwaway cluster (giosg-test-postgres: the system's initdb and pg_ctl, \
         fsync off, on loopback); {n} chats, after one warm-up run each, {} interleaved rounds of \
         `giosg chats sync --db postgres://… --db-schema bench` (the schema dropped before each \
         run), `giosg chats sync --db F.db` (a new file) and `giosg chats export` (defaults: \
         `--concurrency 4`), each checked to hold every chat; then {LATENCY_CHATS} chats from a \
         mock adding {LATENCY_MS} ms to every request, the PostgreSQL sync, the SQLite sync and \
         the export with `--concurrency {CONCURRENCY}`, interleaved. Ratios are wall times, round by round; the \
         peak RSS is giosg's (the server's processes are not counted).",
        config.sync_rounds
    ));
    Ok(())
}

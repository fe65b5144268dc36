//! `cargo xtask bench`, part 3: at 100 ms per request, `giosg chats export` and `giosg chats
//! list` with `--concurrency 8` against 1, and the export against the Python script, every run's
//! file checked to hold every chat exactly once.

use super::env::{workspace, Bins};
use super::proc::{self, Mock};
use super::report::Report;
use super::stats::{ratios, Stat};
use super::{step, Config, CONCURRENCY, LATENCY_MS, RUN_TIMEOUT, TOKEN};
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// Part 3: at 100 ms per request, `giosg chats export` and `giosg chats list` with
/// `--concurrency 8` against 1, and the export against the Python script.
pub(super) fn section(
    config: &Config,
    bins: &Bins,
    python: &Path,
    tmp: &Path,
    mock: &Mock,
    report: &mut Report,
) -> Result<(), String> {
    let n = config.latency_chats;
    let size = config.latency_page_size;
    let pages = n.div_ceil(size);
    let out = tmp.join("latency.jsonl");
    let log = tmp.join("latency.log");
    #[derive(Clone, Copy, Debug)]
    enum Run {
        Export(usize),
        List(usize),
        Sync(usize),
        Python,
    }
    let db = tmp.join("latency.db");
    let once = |run: Run| -> Result<f64, String> {
        proc::remove(&out);
        super::sync::remove_db(&db);
        let mut cmd = match run {
            Run::Sync(c) => {
                let mut cmd = Command::new(&bins.giosg);
                cmd.args([
                    "chats",
                    "sync",
                    "--org",
                    &mock.org,
                    "--base-url",
                    &mock.base_url,
                ])
                .args(["--page-size", &size.to_string()])
                .args(["--concurrency", &c.to_string()])
                .arg("--db")
                .arg(&db)
                .stdout(Stdio::null());
                cmd
            }
            Run::Export(c) | Run::List(c) => {
                let mut cmd = Command::new(&bins.giosg);
                let command = if matches!(run, Run::Export(_)) {
                    "export"
                } else {
                    "list"
                };
                cmd.args([
                    "chats",
                    command,
                    "--org",
                    &mock.org,
                    "--base-url",
                    &mock.base_url,
                ])
                .args(["--page-size", &size.to_string()])
                .args(["--concurrency", &c.to_string()]);
                if matches!(run, Run::Export(_)) {
                    cmd.arg("--out").arg(&out).stdout(Stdio::null());
                } else {
                    let file = std::fs::File::create(&out)
                        .map_err(|e| format!("{}: {e}", out.display()))?;
                    cmd.args(["--format", "jsonl"]).stdout(file);
                }
                cmd
            }
            Run::Python => {
                let mut cmd = Command::new(python);
                cmd.arg(workspace().join("bench/export.py"))
                    .args(["--base-url", &mock.base_url, "--org", &mock.org, "--out"])
                    .arg(&out)
                    .stdout(Stdio::null());
                cmd
            }
        };
        cmd.env("GIOSG_API_TOKEN", TOKEN);
        let usage = proc::measure(&mut cmd, &log, RUN_TIMEOUT)?;
        if let Run::Sync(_) = run {
            // Its closing line counts what it stored.
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            if !said.contains(&format!("synced {n} chats: {n} new")) {
                return Err(format!("{run:?} did not store {n} new chats: {said}"));
            }
            super::sync::remove_db(&db);
        } else {
            proc::check_exactly_once(&out, n).map_err(|e| format!("{run:?}: {e}"))?;
        }
        proc::remove(&out);
        Ok(usage.wall)
    };
    let runs = [
        Run::Export(CONCURRENCY),
        Run::Export(1),
        Run::Python,
        Run::List(CONCURRENCY),
        Run::List(1),
        Run::Sync(CONCURRENCY),
    ];
    once(Run::List(CONCURRENCY))?; // warm-up
    let mut walls: Vec<Vec<f64>> = vec![Vec::new(); runs.len()];
    for round in 0..config.latency_rounds {
        let mut line = format!("round {}:", round + 1);
        for (i, &run) in runs.iter().enumerate() {
            let t = once(run)?;
            let _ = write!(line, " {run:?} {t:.2} s,");
            walls[i].push(t);
        }
        step(&format!("  {}", line.trim_end_matches(',')));
    }
    let c = CONCURRENCY;
    let at = format!("{n} chats, {pages} pages of {size} at {LATENCY_MS} ms latency");
    let rows = [
        (
            0,
            1,
            format!("{at}: `chats export --concurrency {c}` vs `--concurrency 1`"),
        ),
        (
            0,
            2,
            format!("{at}: `chats export --concurrency {c}` vs Python requests + json"),
        ),
        (
            3,
            4,
            format!("{at}: `chats list --concurrency {c}` vs `--concurrency 1`"),
        ),
    ];
    for (ours, base, what) in rows {
        let speedup = Stat::of(&ratios(&walls[base], &walls[ours], |b, o| b / o));
        report.row(
            what,
            Stat::of(&walls[ours]).show(2, " s"),
            Stat::of(&walls[base]).show(2, " s"),
            format!("{} faster", speedup.show(2, "x")),
            ">= 6x faster",
            Some(speedup.median >= 6.0),
        );
    }
    // Throughputs of the same chats: (n / sync) / (n / export).
    let ratio = Stat::of(&ratios(&walls[0], &walls[5], |e, s| e / s));
    report.row(
        format!("{at}: `chats sync --concurrency {c}` into a new database vs `chats export --concurrency {c}`"),
        Stat::of(&walls[5]).show(2, " s"),
        Stat::of(&walls[0]).show(2, " s"),
        format!("sync / export throughput: {}", ratio.show(2, "x")),
        ">= 0.9x",
        Some(ratio.median >= 0.9),
    );
    report.notes.push(format!(
        "Latency: a mock adding {LATENCY_MS} ms to every request; `giosg chats export --out FILE` \
         and `giosg chats list --format jsonl > FILE` with `--page-size {size}` and \
         `--concurrency {c}` or 1, and `bench/export.py` (sequential keyset pages of 100), \
         {} rounds after a warm-up, interleaved. Every run's file is checked to hold all {n} \
         chats exactly once. With the default ordering the listing is split into start-time \
         windows fetched concurrently, each paged by keyset; `list` keeps them in order. \
         `giosg chats sync --db F.db` with the same flags goes into a new database each run, \
         its closing line checked to say it stored all {n}.",
        config.latency_rounds,
    ));
    Ok(())
}

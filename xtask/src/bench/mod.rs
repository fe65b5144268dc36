//! `cargo xtask bench [--quick]`: where giosg-rs stands against what a user would otherwise
//! write, as ratios measured run by run, interleaved; writes `BENCHMARKS.md`.
//!
//! 1. decoding a 100-chat page: `Page<Chat>` vs `serde_json::Value` vs an all-`String` twin
//!    (in process; [`decode`]);
//! 2. exporting chats to a file: `giosg chats export` vs `bench/export.py` (requests + json, in
//!    `bench/.venv`) vs a raw reqwest + serde_json loop (`xtask bench raw-export`, [`raw`]):
//!    wall time, CPU time and peak RSS of each child (`wait4`; [`export`]);
//! 3. 100 ms latency per request (a real network's): `giosg chats export` and `giosg chats list`
//!    with `--concurrency 8` vs 1, and the export vs the Python script, every chat exactly once
//!    ([`latency`]);
//! 4. peak RSS of the export over 10k, 100k and 1M chats ([`memory`]);
//! 5. giosg-mock's own throughput, so that a slow mock cannot hide a fast client
//!    ([`throughput`]);
//! 6. bytes on the wire per chat, gzipped (as the clients ask since they send
//!    `Accept-Encoding: gzip`) and plain (as they asked before); `cargo xtask bench --wire`
//!    prints this one alone ([`wire`]);
//! 7. `giosg chats sync` of every chat into a new database against `giosg chats export` of the
//!    same chats (throughput, peak RSS), and how many requests a second sync with nothing
//!    changed makes; `cargo xtask bench --sync [--quick]` prints this one alone ([`sync`]).
//! 8. `giosg chats sync` into PostgreSQL (a throwaway cluster) against the same into SQLite and
//!    the export, on loopback and at latency ([`postgres`]; with `--sync` too).
//! 9. Encrypted chats: decrypting a page against decoding it, and the export with
//!    `--private-key` against the plain one ([`decrypt`]; `--decrypt --quick` alone, with 10).
//! 10. `giosg report` of a copy against `giosg chats summary --db` of it ([`report_page`]).
//!
//! Everything end to end runs against `giosg-mock` processes on 127.0.0.1 serving chats from
//! one seed: one for the export and the mock throughput, one with `--latency-ms 100`, one per
//! other data size, and two for the sync (the second logging its requests). Run from a debug
//! build (`cargo xtask`), it first builds the release binaries (`giosg-mock`, `giosg`, and
//! itself) and runs the release build of itself.
//!
//! This file holds the order of the run and how much each part measures ([`Config`]); the
//! other modules: [`env`](mod@env) (the workspace, the release binaries, the Python venv), [`proc`]
//! (mock processes, measured child processes), [`stats`] (median and spread, ratios run by
//! run), [`report`] (the table and `BENCHMARKS.md`), and one module per section.

mod copy;
mod decode;
mod decrypt;
mod env;
mod export;
mod latency;
mod memory;
mod postgres;
mod proc;
mod raw;
mod report;
mod report_page;
mod stats;
mod sync;
mod throughput;
mod wire;

use env::{target_dir, workspace, Bins};
use proc::{Mock, Usage};
use report::{Facts, Report};
use std::process::Command;
use std::time::{Duration, Instant};

/// The data every mock serves: `giosg_mock::generate(SEED, n)`.
const SEED: u64 = crate::fixtures::SEED;
const TOKEN: &str = "bench-token";
/// Longest a single measured command may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(900);
/// Longest a mock may take to generate its chats and listen.
const MOCK_TIMEOUT: Duration = Duration::from_secs(300);
const LATENCY_MS: u64 = 100;
/// The concurrency measured against sequential at latency.
const CONCURRENCY: usize = 8;

const USAGE: &str =
    "usage: cargo xtask bench [--quick] [--sync] | --postgres --quick | --decrypt --quick | --wire";

/// `xtask bench ...`.
pub(crate) fn main(args: &[&str]) -> Result<(), String> {
    match args {
        ["raw-export", rest @ ..] => raw::main(rest),
        [] => run(false),
        ["--quick"] => run(true),
        ["--sync"] => run_sync(false, false),
        ["--sync", "--quick"] | ["--quick", "--sync"] => run_sync(true, false),
        ["--postgres", "--quick"] => run_sync(true, true),
        ["--decrypt", "--quick"] => run_decrypt(),
        ["--wire"] => {
            let mut report = Report::default();
            wire::section(&Config::new(true), &mut report)?;
            report.print_rows();
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    }
}

/// How much to measure.
struct Config {
    quick: bool,
    decode_rounds: usize,
    decode_batch: Duration,
    export_chats: usize,
    export_rounds: usize,
    throughput_rounds: usize,
    latency_chats: usize,
    latency_page_size: usize,
    latency_rounds: usize,
    /// Sizes for the memory runs besides `export_chats` (whose export runs are reused).
    memory_sizes: Vec<usize>,
    memory_rounds: usize,
    /// Chats synced (and exported, to compare), as many as the export's.
    sync_chats: usize,
    sync_rounds: usize,
}

impl Config {
    fn new(quick: bool) -> Self {
        if quick {
            Config {
                quick,
                decode_rounds: 5,
                decode_batch: Duration::from_millis(30),
                export_chats: 20_000,
                export_rounds: 3,
                throughput_rounds: 2,
                latency_chats: 4_000,
                latency_page_size: 100,
                latency_rounds: 1,
                memory_sizes: vec![5_000],
                memory_rounds: 2,
                sync_chats: 20_000,
                sync_rounds: 3,
            }
        } else {
            Config {
                quick,
                decode_rounds: 15,
                decode_batch: Duration::from_millis(100),
                export_chats: 100_000,
                export_rounds: 5,
                throughput_rounds: 3,
                latency_chats: 20_000,
                latency_page_size: 100,
                latency_rounds: 3,
                memory_sizes: vec![10_000, 1_000_000],
                memory_rounds: 3,
                sync_chats: 100_000,
                sync_rounds: 5,
            }
        }
    }
}

fn run(quick: bool) -> Result<(), String> {
    if cfg!(debug_assertions) {
        return rerun_in_release(if quick { &["--quick"] } else { &[] });
    }
    let started = Instant::now();
    let config = Config::new(quick);
    let bins = Bins::find()?;
    let python = env::venv()?;
    let tmp = target_dir().join("bench-tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let facts = Facts::collect(&python, &tmp);
    let mut report = Report::default();

    step("decode: a 100-chat page, typed vs all-String twin vs Value");
    decode::section(&config, &mut report)?;

    let mut memory: Vec<(usize, Vec<Usage>)> = Vec::new();
    {
        let n = config.export_chats;
        step(&format!("export: starting giosg-mock with {n} chats"));
        let mock = Mock::start(&bins.mock, n, SEED, TOKEN, None, None, MOCK_TIMEOUT)?;
        report.mock(&mock, None)?;
        let ours = export::section(&config, &bins, &python, &tmp, &mock, &mut report)?;
        throughput::section(&config, &mock, &ours, &mut report)?;
        memory.push((n, ours));
    }
    {
        let n = config.latency_chats;
        step(&format!(
            "latency: starting giosg-mock with {n} chats, {LATENCY_MS} ms per request"
        ));
        let mock = Mock::start(
            &bins.mock,
            n,
            SEED,
            TOKEN,
            Some(LATENCY_MS),
            None,
            MOCK_TIMEOUT,
        )?;
        report.mock(&mock, Some(LATENCY_MS))?;
        latency::section(&config, &bins, &python, &tmp, &mock, &mut report)?;
    }
    for &n in &config.memory_sizes {
        step(&format!("memory: starting giosg-mock with {n} chats"));
        let mock = Mock::start(&bins.mock, n, SEED, TOKEN, None, None, MOCK_TIMEOUT)?;
        report.mock(&mock, None)?;
        let mut runs = Vec::new();
        for round in 0..config.memory_rounds {
            let usage = export::once(export::Who::Ours, &bins, None, &tmp, &mock)?;
            progress(&format!("{n} chats, run {}", round + 1), &usage);
            runs.push(usage);
        }
        memory.push((n, runs));
    }
    memory.sort_by_key(|(n, _)| *n);
    memory::section(&memory, &mut report);
    memory::hostile_page(&bins, &tmp, &mut report)?;
    // Before the sync's section, whose data swells this process (and so the peak RSS each
    // child reports, forked from it).
    postgres::section(&config, &bins, &tmp, &mut report)?;
    sync::section(&config, &bins, &tmp, &mut report)?;
    decrypt::section(&config, &bins, &tmp, &mut report)?;
    report_page::section(&config, &bins, &tmp, &mut report)?;
    // Last: it runs a mock in this process, whose heap every child forked after it would
    // inherit, and report in its `ru_maxrss`, until it execs.
    step("wire: bytes per chat, gzipped vs plain");
    wire::section(&config, &mut report)?;

    let _ = std::fs::remove_dir_all(&tmp);
    let path = workspace().join("BENCHMARKS.md");
    let text = report.render(&config, &facts, started.elapsed());
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    step(&format!(
        "wrote {} in {:.0} s",
        path.display(),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// `xtask bench --sync [--quick]`: the sync section alone, printed rather than written.
fn run_sync(quick: bool, postgres_only: bool) -> Result<(), String> {
    if cfg!(debug_assertions) {
        return rerun_in_release(match (quick, postgres_only) {
            (_, true) => &["--postgres", "--quick"],
            (true, false) => &["--sync", "--quick"],
            (false, false) => &["--sync"],
        });
    }
    let config = Config::new(quick);
    let bins = Bins::find()?;
    let tmp = target_dir().join("bench-tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let mut report = Report::default();
    if !postgres_only {
        sync::section(&config, &bins, &tmp, &mut report)?;
    }
    postgres::section(&config, &bins, &tmp, &mut report)?;
    let _ = std::fs::remove_dir_all(&tmp);
    report.print_rows();
    for note in &report.notes {
        println!("\n{note}");
    }
    Ok(())
}

/// `xtask bench --decrypt --quick`: the decryption section alone, printed.
fn run_decrypt() -> Result<(), String> {
    if cfg!(debug_assertions) {
        return rerun_in_release(&["--decrypt", "--quick"]);
    }
    let config = Config::new(true);
    let bins = Bins::find()?;
    let tmp = target_dir().join("bench-tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let mut report = Report::default();
    decrypt::section(&config, &bins, &tmp, &mut report)?;
    report_page::section(&config, &bins, &tmp, &mut report)?;
    let _ = std::fs::remove_dir_all(&tmp);
    report.print_rows();
    for note in &report.notes {
        println!("\n{note}");
    }
    Ok(())
}

/// Builds the release binaries and runs the release build of `xtask bench ARGS`.
fn rerun_in_release(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    step("building release binaries: giosg-mock, giosg, xtask");
    let status = Command::new(&cargo)
        .current_dir(workspace())
        .args(["build", "--release", "--quiet"])
        .args(["-p", "giosg-mock", "-p", "giosg-cli", "-p", "xtask"])
        .status()
        .map_err(|e| format!("{cargo}: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build --release failed: {status}"));
    }
    let xtask = target_dir().join("release/xtask");
    let status = Command::new(&xtask)
        .arg("bench")
        .args(args)
        .status()
        .map_err(|e| format!("{}: {e}", xtask.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("bench failed ({status})"))
    }
}

fn step(what: &str) {
    eprintln!("bench: {what}");
}

fn progress(what: &str, u: &Usage) {
    eprintln!(
        "bench:   {what}: {:.2} s wall, {:.2} s CPU, {:.1} MiB peak RSS",
        u.wall, u.cpu, u.rss_mib
    );
}

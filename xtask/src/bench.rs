//! `cargo xtask bench [--quick]`: where giosg-rs stands against what a user would otherwise
//! write, as ratios measured run by run, interleaved; writes `BENCHMARKS.md`.
//!
//! 1. decoding a 100-chat page: `Page<Chat>` vs `serde_json::Value` vs an all-`String` twin
//!    (in process);
//! 2. exporting chats to a file: `giosg chats export` vs `bench/export.py` (requests + json, in
//!    `bench/.venv`) vs a raw reqwest + serde_json loop (`xtask bench raw-export`): wall time,
//!    CPU time and peak RSS of each child (`wait4`);
//! 3. 100 ms latency per request (a real network's): `giosg chats export` and `giosg chats list`
//!    with `--concurrency 8` vs 1, and the export vs the Python script, every chat exactly once;
//! 4. peak RSS of the export over 10k, 100k and 1M chats;
//! 5. giosg-mock's own throughput, so that a slow mock cannot hide a fast client;
//! 6. bytes on the wire per chat, gzipped (as the clients ask since they send
//!    `Accept-Encoding: gzip`) and plain (as they asked before); `cargo xtask bench --wire`
//!    prints this one alone.
//!
//! Everything end to end runs against `giosg-mock` processes on 127.0.0.1 serving chats from
//! one seed: one for the export and the mock throughput, one with `--latency-ms 100`, and one per
//! other data size. Run from a debug build (`cargo xtask`), it first builds the release binaries
//! (`giosg-mock`, `giosg`, and itself) and runs the release build of itself.

#[path = "bench_decode.rs"]
mod decode;
#[path = "bench_proc.rs"]
mod proc;
#[path = "bench_raw.rs"]
mod raw;
#[path = "bench_wire.rs"]
mod wire;

use proc::{Mock, Usage};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
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

const USAGE: &str = "usage: cargo xtask bench [--quick | --wire]";

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_owned()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace().join("target"), PathBuf::from)
}

/// `xtask bench ...`.
pub fn main(args: &[&str]) -> Result<(), String> {
    match args {
        ["raw-export", rest @ ..] => raw::main(rest),
        [] => run(false),
        ["--quick"] => run(true),
        ["--wire"] => {
            let mut report = Report::default();
            wire_section(&Config::new(true), &mut report)?;
            for r in &report.rows {
                println!("{}: {} vs {} ({})", r.what, r.ours, r.baseline, r.ratio);
            }
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
            }
        }
    }
}

fn run(quick: bool) -> Result<(), String> {
    if cfg!(debug_assertions) {
        return rerun_in_release(quick);
    }
    let started = Instant::now();
    let config = Config::new(quick);
    let bins = Bins::find()?;
    let python = venv()?;
    let tmp = target_dir().join("bench-tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let facts = Facts::collect(&python, &tmp);
    let mut report = Report::default();

    step("decode: a 100-chat page, typed vs all-String twin vs Value");
    decode_section(&config, &mut report)?;

    let mut memory: Vec<(usize, Vec<Usage>)> = Vec::new();
    {
        let n = config.export_chats;
        step(&format!("export: starting giosg-mock with {n} chats"));
        let mock = Mock::start(&bins.mock, n, SEED, TOKEN, None, MOCK_TIMEOUT)?;
        report.mock(&mock, None)?;
        let ours = export_section(&config, &bins, &python, &tmp, &mock, &mut report)?;
        throughput_section(&config, &mock, &ours, &mut report)?;
        memory.push((n, ours));
    }
    {
        let n = config.latency_chats;
        step(&format!(
            "latency: starting giosg-mock with {n} chats, {LATENCY_MS} ms per request"
        ));
        let mock = Mock::start(&bins.mock, n, SEED, TOKEN, Some(LATENCY_MS), MOCK_TIMEOUT)?;
        report.mock(&mock, Some(LATENCY_MS))?;
        latency_section(&config, &bins, &python, &tmp, &mock, &mut report)?;
    }
    for &n in &config.memory_sizes {
        step(&format!("memory: starting giosg-mock with {n} chats"));
        let mock = Mock::start(&bins.mock, n, SEED, TOKEN, None, MOCK_TIMEOUT)?;
        report.mock(&mock, None)?;
        let mut runs = Vec::new();
        for round in 0..config.memory_rounds {
            let usage = export_once(Who::Ours, &bins, &python, &tmp, &mock)?;
            progress(&format!("{n} chats, run {}", round + 1), &usage);
            runs.push(usage);
        }
        memory.push((n, runs));
    }
    memory.sort_by_key(|(n, _)| *n);
    memory_section(&memory, &mut report);
    // Last: it runs a mock in this process, whose heap every child forked after it would
    // inherit, and report in its `ru_maxrss`, until it execs.
    step("wire: bytes per chat, gzipped vs plain");
    wire_section(&config, &mut report)?;

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

/// Builds the release binaries and runs the release build of this command.
fn rerun_in_release(quick: bool) -> Result<(), String> {
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
    let mut cmd = Command::new(&xtask);
    cmd.arg("bench");
    if quick {
        cmd.arg("--quick");
    }
    let status = cmd
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

/// The release binaries the benchmark runs.
struct Bins {
    mock: PathBuf,
    giosg: PathBuf,
    xtask: PathBuf,
}

impl Bins {
    fn find() -> Result<Bins, String> {
        let release = target_dir().join("release");
        let bins = Bins {
            mock: release.join("giosg-mock"),
            giosg: release.join("giosg"),
            xtask: std::env::current_exe().map_err(|e| format!("current exe: {e}"))?,
        };
        for bin in [&bins.mock, &bins.giosg] {
            if !bin.exists() {
                return Err(format!(
                    "{} is missing: run `cargo xtask bench`, which builds it",
                    bin.display()
                ));
            }
        }
        Ok(bins)
    }
}

/// `bench/.venv/bin/python`, with `requests` installed (created on first use).
fn venv() -> Result<PathBuf, String> {
    let dir = workspace().join("bench/.venv");
    let python = dir.join("bin/python");
    let has_requests = |python: &Path| {
        Command::new(python)
            .args(["-c", "import requests"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if python.exists() && has_requests(&python) {
        return Ok(python);
    }
    step("creating bench/.venv (python3 -m venv, pip install requests)");
    let run = |cmd: &mut Command| -> Result<(), String> {
        let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
        status
            .success()
            .then_some(())
            .ok_or_else(|| format!("{cmd:?} failed: {status}"))
    };
    run(Command::new("python3").args(["-m", "venv"]).arg(&dir))?;
    run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "requests",
    ]))?;
    if has_requests(&python) {
        Ok(python)
    } else {
        Err(format!("{} cannot import requests", python.display()))
    }
}

/// Median, min and max of a series.
#[derive(Clone, Copy, Debug)]
struct Stat {
    median: f64,
    min: f64,
    max: f64,
}

impl Stat {
    fn of(values: &[f64]) -> Stat {
        let mut v: Vec<f64> = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = match n {
            0 => f64::NAN,
            _ if n % 2 == 1 => v[n / 2],
            _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        };
        Stat {
            median,
            min: v.first().copied().unwrap_or(f64::NAN),
            max: v.last().copied().unwrap_or(f64::NAN),
        }
    }

    /// `1.23 unit (1.20–1.31)` with `digits` decimals.
    fn show(&self, digits: usize, unit: &str) -> String {
        format!(
            "{:.digits$}{unit} ({:.digits$}–{:.digits$})",
            self.median, self.min, self.max
        )
    }
}

fn ratios(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()
}

/// One line of the table.
struct Row {
    what: String,
    ours: String,
    baseline: String,
    ratio: String,
    target: String,
    met: Option<bool>,
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    mocks: Vec<String>,
    notes: Vec<String>,
}

impl Report {
    fn row(
        &mut self,
        what: impl Into<String>,
        ours: impl Into<String>,
        baseline: impl Into<String>,
        ratio: impl Into<String>,
        target: impl Into<String>,
        met: Option<bool>,
    ) {
        self.rows.push(Row {
            what: what.into(),
            ours: ours.into(),
            baseline: baseline.into(),
            ratio: ratio.into(),
            target: target.into(),
            met,
        });
    }

    /// Describes a mock server (startup, memory, keyset and numbered paging throughput).
    fn mock(&mut self, mock: &Mock, latency: Option<u64>) -> Result<(), String> {
        let rss = mock.rss_mib();
        let pages = 100;
        let (keyset, numbered) = if latency.is_none() {
            let k = raw::mock_throughput(&mock.base_url, &mock.org, TOKEN, true, pages)?;
            let n = raw::mock_throughput(&mock.base_url, &mock.org, TOKEN, false, pages)?;
            let rate = |s: raw::Served| format!("{:.0}", s.requests as f64 / s.secs);
            (rate(k), rate(n))
        } else {
            ("–".to_owned(), "–".to_owned())
        };
        let latency = latency.map_or_else(|| "none".to_owned(), |ms| format!("{ms} ms"));
        step(&format!(
            "  giosg-mock: {} chats, started in {:.2} s, RSS {rss:.0} MiB",
            mock.chats, mock.startup
        ));
        self.mocks.push(format!(
            "| {} | {latency} | {:.2} s | {rss:.0} MiB | {keyset} | {numbered} |",
            mock.chats, mock.startup
        ));
        Ok(())
    }

    fn render(&self, config: &Config, facts: &Facts, took: Duration) -> String {
        let mut md = String::new();
        let kind = if config.quick {
            "a quick smoke run (`--quick`: fewer rounds, smaller sizes, no 1M chats): not figures to quote"
        } else {
            "a full run"
        };
        let _ = writeln!(md, "# Benchmarks\n");
        let _ = writeln!(
            md,
            "Written by `cargo xtask bench`, {kind}; it took {:.0} s. Median (min–max) of the runs; \
             every ratio is computed run by run, with ours and the baselines interleaved, then \
             summarised the same way. Numbers are from a shared machine: read the ratios, not \
             the absolute figures.\n",
            took.as_secs_f64()
        );
        let _ = writeln!(md, "| what | ours | baseline | ratio | target | met? |");
        let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- |");
        for r in &self.rows {
            let met = match r.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "–",
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {met} |",
                r.what, r.ours, r.baseline, r.ratio, r.target
            );
        }
        let met = self.rows.iter().filter(|r| r.met == Some(true)).count();
        let total = self.rows.iter().filter(|r| r.met.is_some()).count();
        let _ = writeln!(md, "\nTargets met: {met} of {total}.\n");
        let _ = writeln!(md, "## Machine\n");
        for (k, v) in &facts.0 {
            let _ = writeln!(md, "- {k}: {v}");
        }
        let _ = writeln!(md, "\n## Mock servers\n");
        let _ = writeln!(
            md,
            "Each a `giosg-mock` process on 127.0.0.1 serving `generate({SEED}, chats)`. Pages/s: \
             a tight loop fetching the first 100 pages of 100 chats, by keyset (`since_id`, as \
             the export pages) and by page number, timing only the requests.\n"
        );
        let _ = writeln!(
            md,
            "| chats | latency | startup | RSS | keyset pages/s | numbered pages/s |"
        );
        let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- |");
        for m in &self.mocks {
            let _ = writeln!(md, "{m}");
        }
        let _ = writeln!(md, "\n## How it is measured\n");
        for n in &self.notes {
            let _ = writeln!(md, "- {n}");
        }
        md
    }
}

/// Facts about the machine, in order.
struct Facts(Vec<(&'static str, String)>);

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            let out = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&out).trim().to_owned()
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

impl Facts {
    fn collect(python: &Path, tmp: &Path) -> Facts {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, m)| m.trim().to_owned());
        let mem_kib: f64 = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0.0);
        let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
        let root = workspace();
        let root = root.to_string_lossy();
        let commit = command_line("git", &["-C", &root, "rev-parse", "--short", "HEAD"]);
        let tmp = tmp.to_string_lossy();
        Facts(vec![
            ("date", command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"])),
            ("commit", commit),
            ("nproc", nproc.to_string()),
            ("CPU", cpu),
            ("memory", format!("{:.1} GiB", mem_kib / 1024.0 / 1024.0)),
            (
                "kernel",
                read("/proc/sys/kernel/osrelease").trim().to_owned(),
            ),
            ("rustc", command_line("rustc", &["-V"])),
            (
                "python",
                format!(
                    "{}, requests {}",
                    command_line(&python.to_string_lossy(), &["-V"]),
                    command_line(
                        &python.to_string_lossy(),
                        &["-c", "import requests; print(requests.__version__)"]
                    )
                ),
            ),
            (
                "export files on",
                format!(
                    "{} (`stat -f`: {})",
                    tmp.trim_start_matches(&*root).trim_start_matches('/'),
                    command_line("stat", &["-f", "-c", "%T", &tmp])
                ),
            ),
            (
                "load average at start",
                read("/proc/loadavg").trim().to_owned(),
            ),
        ])
    }
}

fn decode_section(config: &Config, report: &mut Report) -> Result<(), String> {
    let path = workspace().join("fixtures/generated/page-100.json");
    let page = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let [typed, twin, value] = decode::measure(&page, config.decode_rounds, config.decode_batch);
    let kb = page.len() as f64 / 1000.0;
    for (name, series) in decode::VARIANTS.iter().zip([&typed, &twin, &value]) {
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

/// Bytes on the wire per chat, gzipped against plain, over every page of a listing.
fn wire_section(config: &Config, report: &mut Report) -> Result<(), String> {
    let n = if config.quick { 2_000 } else { 10_000 };
    let w = wire::measure(SEED, n)?;
    let per = |bytes: u64| bytes as f64 / w.chats as f64;
    step(&format!(
        "  {n} chats: {:.0} B/chat gzipped, {:.0} B/chat plain",
        per(w.gzip),
        per(w.plain)
    ));
    report.row(
        format!("bytes on the wire per chat ({n} chats, 100 a page): gzip vs plain"),
        format!("{:.0} B", per(w.gzip)),
        format!("{:.0} B", per(w.plain)),
        format!("{:.1}x smaller", w.plain as f64 / w.gzip as f64),
        "–",
        None,
    );
    report.notes.push(format!(
        "Wire: every page of `generate({SEED}, {n})`, 100 chats a page, from an in-process \
         giosg-mock that gzips when asked (as giosg's servers do), over a raw HTTP/1.1 socket \
         counting every byte of each response (status line, headers, body): once with \
         `Accept-Encoding: gzip`, as both clients send it now, once without, as they did before."
    ));
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Ours,
    Python,
    Raw,
}

/// One export of every chat of `mock` into a fresh file, checked for its line count.
fn export_once(
    who: Who,
    bins: &Bins,
    python: &Path,
    tmp: &Path,
    mock: &Mock,
) -> Result<Usage, String> {
    let out = tmp.join(format!("export-{who:?}.jsonl").to_lowercase());
    let log = tmp.join(format!("export-{who:?}.log").to_lowercase());
    proc::remove(&out);
    let mut cmd = match who {
        Who::Ours => {
            let mut c = Command::new(&bins.giosg);
            c.args(["chats", "export", "--org", &mock.org, "--out"])
                .arg(&out)
                .args(["--base-url", &mock.base_url]);
            c
        }
        Who::Python => {
            let mut c = Command::new(python);
            c.arg(workspace().join("bench/export.py"))
                .args(["--base-url", &mock.base_url, "--org", &mock.org, "--out"])
                .arg(&out);
            c
        }
        Who::Raw => {
            let mut c = Command::new(&bins.xtask);
            c.args(["bench", "raw-export", "--base-url", &mock.base_url])
                .args(["--org", &mock.org, "--out"])
                .arg(&out);
            c
        }
    };
    cmd.env("GIOSG_API_TOKEN", TOKEN).stdout(Stdio::null());
    let usage = proc::measure(&mut cmd, &log, RUN_TIMEOUT)?;
    let (lines, _) = proc::count_lines(&out)?;
    proc::remove(&out);
    if lines != mock.chats as u64 {
        return Err(format!("{who:?} exported {lines} chats of {}", mock.chats));
    }
    Ok(usage)
}

/// Part 2: ours vs Python vs raw, interleaved. Returns our runs.
fn export_section(
    config: &Config,
    bins: &Bins,
    python: &Path,
    tmp: &Path,
    mock: &Mock,
    report: &mut Report,
) -> Result<Vec<Usage>, String> {
    let n = config.export_chats;
    let who = [Who::Ours, Who::Python, Who::Raw];
    step("export: one warm-up run each");
    for w in who {
        export_once(w, bins, python, tmp, mock)?;
    }
    let mut runs: [Vec<Usage>; 3] = Default::default();
    let mut mock_cpu: [Vec<f64>; 3] = Default::default();
    for round in 0..config.export_rounds {
        for (i, w) in who.into_iter().enumerate() {
            let before = mock.cpu();
            let usage = export_once(w, bins, python, tmp, mock)?;
            mock_cpu[i].push(mock.cpu() - before);
            progress(&format!("round {} {w:?}", round + 1), &usage);
            runs[i].push(usage);
        }
    }
    let field = |i: usize, f: fn(&Usage) -> f64| runs[i].iter().map(f).collect::<Vec<f64>>();
    let wall = |u: &Usage| u.wall;
    let cpu = |u: &Usage| u.cpu;
    let rss = |u: &Usage| u.rss_mib;
    let k = format!("{}k", n / 1000);

    // Against Python: how many times faster / less.
    let (ow, pw, rw) = (field(0, wall), field(1, wall), field(2, wall));
    let (oc, pc, rc) = (field(0, cpu), field(1, cpu), field(2, cpu));
    let (om, pm, rm) = (field(0, rss), field(1, rss), field(2, rss));
    let faster = Stat::of(&ratios(&pw, &ow, |p, o| p / o));
    report.row(
        format!("export {k} chats, wall time: `giosg chats export` vs Python requests + json"),
        Stat::of(&ow).show(2, " s"),
        Stat::of(&pw).show(2, " s"),
        format!("{} faster", faster.show(1, "x")),
        ">= 3.5x faster",
        Some(faster.median >= 3.5),
    );
    let floor = Stat::of(&ratios(&pw, &rw, |p, r| p / r));
    report.row(
        format!("export {k} chats, wall time: the raw loop (below) vs Python, for scale"),
        Stat::of(&rw).show(2, " s"),
        Stat::of(&pw).show(2, " s"),
        format!("{} faster", floor.show(1, "x")),
        "–",
        None,
    );
    let less_cpu = Stat::of(&ratios(&pc, &oc, |p, o| p / o));
    report.row(
        format!("export {k} chats, CPU time (user + sys): vs Python"),
        Stat::of(&oc).show(2, " s"),
        Stat::of(&pc).show(2, " s"),
        format!("{} less", less_cpu.show(1, "x")),
        ">= 5x less",
        Some(less_cpu.median >= 5.0),
    );
    let less_rss = Stat::of(&ratios(&pm, &om, |p, o| p / o));
    report.row(
        format!("export {k} chats, peak RSS: vs Python"),
        Stat::of(&om).show(1, " MiB"),
        Stat::of(&pm).show(1, " MiB"),
        format!("{} less", less_rss.show(1, "x")),
        "–",
        None,
    );
    // Against the raw loop: ours / raw.
    let w = Stat::of(&ratios(&ow, &rw, |o, r| o / r));
    report.row(
        format!("export {k} chats, wall time: vs raw reqwest + serde_json loop"),
        Stat::of(&ow).show(2, " s"),
        Stat::of(&rw).show(2, " s"),
        format!("ours / raw: {}", w.show(2, "x")),
        "–",
        None,
    );
    let c = Stat::of(&ratios(&oc, &rc, |o, r| o / r));
    report.row(
        format!("export {k} chats, CPU time: vs raw loop"),
        Stat::of(&oc).show(2, " s"),
        Stat::of(&rc).show(2, " s"),
        format!("ours / raw: {}", c.show(2, "x")),
        "<= 1.0x",
        Some(c.median <= 1.0),
    );
    let m = Stat::of(&ratios(&om, &rm, |o, r| o / r));
    report.row(
        format!("export {k} chats, peak RSS: vs raw loop"),
        Stat::of(&om).show(1, " MiB"),
        Stat::of(&rm).show(1, " MiB"),
        format!("ours / raw: {}", m.show(2, "x")),
        "–",
        None,
    );
    let mock_share: Vec<String> = mock_cpu
        .iter()
        .zip(who)
        .map(|(s, w)| format!("{w:?} {:.2} s", Stat::of(s).median))
        .collect();
    report.notes.push(format!(
        "Export: {n} chats into a new file each run (`target/bench-tmp`, deleted after its line \
         count is checked), {} rounds of ours, Python, raw after one warm-up run each. Wall time \
         is from spawn to reaped; CPU time and peak RSS are the child's own (`wait4` rusage: \
         user + sys, `ru_maxrss`). All three page by keyset (`page_size=100`, `since_id` of the \
         last chat) and write one JSON object per line; the CLI with its default `--concurrency \
         4` in start-time windows (so its lines come in arrival order), the baselines one page \
         after the other. The CLI also syncs the file to disk and saves its resume state once a \
         second (crash-safe resume); the baselines do not. \
         The mock's CPU time per export (median): {}.",
        config.export_rounds,
        mock_share.join(", ")
    ));
    report.notes.push(
        "Raw loop: `xtask bench raw-export` (release build; `xtask/src/bench_raw.rs`): \
         reqwest on a current-thread tokio runtime, `serde_json::from_slice::<Page<Chat>>`, \
         `serde_json::to_writer` per chat into a `BufWriter`. Python: `bench/export.py` in \
         `bench/.venv` (requests `Session`, `response.json()`, `json.dumps` per chat)."
            .to_owned(),
    );
    Ok(runs[0].clone())
}

/// Part 5: the mock's own throughput on the export's data, against our export's page rate.
fn throughput_section(
    config: &Config,
    mock: &Mock,
    ours: &[Usage],
    report: &mut Report,
) -> Result<(), String> {
    let n = config.export_chats;
    let pages = n.div_ceil(raw::PAGE_SIZE) + 1;
    let ours_wall = Stat::of(&ours.iter().map(|u| u.wall).collect::<Vec<_>>()).median;
    for keyset in [true, false] {
        let mut rates = Vec::new();
        let mut mbps = Vec::new();
        let mut share = Vec::new();
        for _ in 0..config.throughput_rounds {
            let s = raw::mock_throughput(&mock.base_url, &mock.org, TOKEN, keyset, pages)?;
            rates.push(s.requests as f64 / s.secs);
            mbps.push(s.bytes as f64 / s.secs / 1e6);
            share.push(s.secs / ours_wall * 100.0);
        }
        let how = if keyset {
            "keyset (`since_id`) pages, as the exports page"
        } else {
            "numbered pages"
        };
        let (r, b) = (Stat::of(&rates), Stat::of(&mbps));
        step(&format!(
            "  mock, {how}: {} pages/s, {}",
            r.show(0, ""),
            b.show(0, " MB/s")
        ));
        let our_rate = (n.div_ceil(raw::PAGE_SIZE)) as f64 / ours_wall;
        report.row(
            format!("giosg-mock alone: all {n} chats as {how}, tight loop"),
            format!("{} pages/s, {}", r.show(0, ""), b.show(0, " MB/s")),
            format!("our export: {our_rate:.0} pages/s"),
            format!(
                "mock = {} of our export's wall",
                Stat::of(&share).show(0, "%")
            ),
            "–",
            None,
        );
    }
    report.notes.push(format!(
        "Mock throughput: a reqwest loop in the release xtask fetching every page of the export's \
         mock {} times, timing only request to complete body (reading the next cursor is not \
         timed). The share says how much of our export's wall time the mock alone accounts for \
         with sequential paging: the rest is the client.",
        config.throughput_rounds
    ));
    Ok(())
}

/// Part 3: at 100 ms per request, `giosg chats export` and `giosg chats list` with
/// `--concurrency 8` against 1, and the export against the Python script.
fn latency_section(
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
        Python,
    }
    let once = |run: Run| -> Result<f64, String> {
        proc::remove(&out);
        let mut cmd = match run {
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
        proc::check_exactly_once(&out, n).map_err(|e| format!("{run:?}: {e}"))?;
        proc::remove(&out);
        Ok(usage.wall)
    };
    let runs = [
        Run::Export(CONCURRENCY),
        Run::Export(1),
        Run::Python,
        Run::List(CONCURRENCY),
        Run::List(1),
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
    report.notes.push(format!(
        "Latency: a mock adding {LATENCY_MS} ms to every request; `giosg chats export --out FILE` \
         and `giosg chats list --format jsonl > FILE` with `--page-size {size}` and \
         `--concurrency {c}` or 1, and `bench/export.py` (sequential keyset pages of 100), \
         {} rounds after a warm-up, interleaved. Every run's file is checked to hold all {n} \
         chats exactly once. With the default ordering the listing is split into start-time \
         windows fetched concurrently, each paged by keyset; `list` keeps them in order.",
        config.latency_rounds,
    ));
    Ok(())
}

/// Part 4: peak RSS of the export against the number of chats.
fn memory_section(memory: &[(usize, Vec<Usage>)], report: &mut Report) {
    let Some((smallest, base)) = memory.first() else {
        return;
    };
    let base: Vec<f64> = base.iter().map(|u| u.rss_mib).collect();
    let base_stat = Stat::of(&base);
    let label = |n: usize| {
        if n >= 1_000_000 {
            format!("{}M", n / 1_000_000)
        } else {
            format!("{}k", n / 1000)
        }
    };
    for (i, (n, runs)) in memory.iter().enumerate() {
        let rss: Vec<f64> = runs.iter().map(|u| u.rss_mib).collect();
        let stat = Stat::of(&rss);
        let walls: Vec<f64> = runs.iter().map(|u| u.wall).collect();
        let largest = i + 1 == memory.len() && i > 0;
        let (baseline, ratio, target, met) = if i == 0 {
            (
                "–".to_owned(),
                "–".to_owned(),
                "<= 32 MiB".to_owned(),
                stat.max <= 32.0,
            )
        } else {
            let r = stat.median / base_stat.median;
            let target = if largest {
                format!("<= 32 MiB and <= 1.20x the {} run", label(*smallest))
            } else {
                "<= 32 MiB".to_owned()
            };
            let met = stat.max <= 32.0 && (!largest || r <= 1.20);
            (
                format!("{} chats: {}", label(*smallest), base_stat.show(1, " MiB")),
                format!("{r:.2}x"),
                target,
                met,
            )
        };
        report.row(
            format!(
                "peak RSS, `giosg chats export` of {} chats (taking {:.1} s)",
                label(*n),
                Stat::of(&walls).median
            ),
            stat.show(1, " MiB"),
            baseline,
            ratio,
            target,
            Some(met),
        );
    }
    report.notes.push(
        "Memory: the export's peak RSS (`ru_maxrss`) per data size, each size on its own mock; \
         the export-size runs are those of the export comparison. `<= 32 MiB` is checked on \
         the largest run, the ratio on medians."
            .to_owned(),
    );
}

//! `cargo xtask fuzz --seconds N [--target NAME]`: runs the cargo-fuzz (libFuzzer) targets in
//! `fuzz/`, one after the other, each for N seconds, on a corpus seeded from `fixtures/`.
//!
//! cargo-fuzz is installed if missing (`cargo install cargo-fuzz --locked`). The targets need
//! nightly compiler flags; `RUSTC_BOOTSTRAP=1` lets the stable toolchain accept them. They are
//! built without a sanitizer (the code under test has no `unsafe`) and with debug assertions,
//! so that arithmetic overflow is a crash too. A crash leaves its input in
//! `fuzz/artifacts/<target>/`; each becomes a regression fixture in `fixtures/bad/`.
//!
//! The figures of the last run go to `reliability/fuzz-report.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The targets, in the order they run.
pub(crate) const TARGETS: [&str; 3] = ["decode_page", "query_decode", "paging"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_owned()
}

/// What one target's run came to.
struct Outcome {
    target: &'static str,
    seconds: u64,
    execs: Option<u64>,
    corpus: usize,
    crashes: Vec<PathBuf>,
    status: String,
}

pub(crate) fn run(args: &[&str]) -> Result<(), String> {
    let mut seconds: u64 = 60;
    let mut only: Option<String> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match *arg {
            "--seconds" => {
                seconds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--seconds needs a number")?;
            }
            "--target" => only = Some(it.next().ok_or("--target needs a name")?.to_string()),
            other => return Err(format!("fuzz: unknown argument {other:?}\n{USAGE}")),
        }
    }
    let targets: Vec<&'static str> = match &only {
        Some(name) => vec![*TARGETS
            .iter()
            .find(|t| *t == name)
            .ok_or_else(|| format!("no fuzz target {name:?}; there are {TARGETS:?}"))?],
        None => TARGETS.to_vec(),
    };
    ensure_cargo_fuzz()?;
    let root = root();
    let seeds = seed_corpora(&root)?;
    println!("fuzz: seeded {seeds} inputs from fixtures/ into fuzz/corpus/");
    let mut outcomes = Vec::new();
    for target in targets {
        outcomes.push(run_target(&root, target, seconds)?);
    }
    let report = report(&outcomes);
    print!("{report}");
    let dir = root.join("reliability");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("fuzz-report.md"), &report).map_err(|e| e.to_string())?;
    let crashes: usize = outcomes.iter().map(|o| o.crashes.len()).sum();
    if crashes > 0 {
        return Err(format!(
            "{crashes} crashing input(s) in fuzz/artifacts/: make each a fixture in fixtures/bad/ and fix it"
        ));
    }
    Ok(())
}

const USAGE: &str =
    "usage: cargo xtask fuzz [--seconds N] [--target decode_page|query_decode|paging]";

fn ensure_cargo_fuzz() -> Result<(), String> {
    let found = Command::new("cargo")
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Ok(());
    }
    println!("fuzz: installing cargo-fuzz (cargo install cargo-fuzz --locked)");
    let status = Command::new("cargo")
        .args(["install", "cargo-fuzz", "--locked"])
        .status()
        .map_err(|e| format!("cargo install: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("installing cargo-fuzz failed".to_owned())
    }
}

/// Writes the seed inputs of every target into `fuzz/corpus/<target>/`, from `fixtures/`.
/// Returns how many were written.
fn seed_corpora(root: &Path) -> Result<usize, String> {
    let fixtures = root.join("fixtures");
    let mut bodies: Vec<(String, Vec<u8>)> = Vec::new();
    for dir in ["", "edge", "malformed", "bad", "generated"] {
        let dir = fixtures.join(dir);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() && path.file_name().is_some_and(|n| n != "expected.json") {
                let name = path.strip_prefix(&fixtures).unwrap_or(&path);
                let name = name.to_string_lossy().replace(['/', '\\'], "-");
                let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                bodies.push((name, bytes));
            }
        }
    }
    bodies.sort();
    let corpus = root.join("fuzz/corpus");
    let mut written = 0;
    let mut write = |target: &str, name: &str, bytes: &[u8]| -> Result<(), String> {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::write(dir.join(format!("seed-{name}")), bytes).map_err(|e| e.to_string())?;
        written += 1;
        Ok(())
    };
    for (name, body) in &bodies {
        // decode_page: status bytes (even = 200; odd picks another status), cap byte, body.
        let mut input = vec![0, 0, 0];
        input.extend_from_slice(body);
        write("decode_page", name, &input)?;
        let mut as_error = vec![0x99, 0x02, 0x80];
        as_error.extend_from_slice(body);
        write("decode_page", &format!("{name}-as-error"), &as_error)?;
        // paging: any bytes drive the machines; the fixtures make varied page sequences.
        write("paging", name, body)?;
        // query_decode: the queries of every next/previous page URL in the fixtures.
        for (n, query) in queries(body).into_iter().enumerate() {
            write("query_decode", &format!("{name}-{n}"), query.as_bytes())?;
        }
    }
    for (n, query) in QUERIES.iter().enumerate() {
        write("query_decode", &format!("query-{n}"), query.as_bytes())?;
    }
    Ok(written)
}

/// Query strings exercising every parameter.
const QUERIES: &[&str] = &[
    "page=2&page_size=50",
    "ordering=-start_time,end_time&page=1",
    "since_id=58f5055c-56e0-11e5-9354-6c4008c08dfe&page_size=100",
    "start_time=2015-02-13T11%3A31%3A36.042Z&end_time=2015-02-14T00%3A00%3A00%2B02%3A00",
    "has_sales=true&is_real_conversation=false",
    "room_id=9926bdfa-56e0-11e5-b98c-6c4008c08dfe",
    "tag=VIP+%26+friends&tag2=x",
    "tag=x%26page_size%3D1000",
    "min_message_count=4&only_ended=true",
    "ordering=updated_at,-id&page=3&page_size=7&min_message_count=0&only_ended=true&tag=p%C3%A4iv%C3%A4",
];

/// The query strings of the `next_page_url` / `previous_page_url` values in a body.
fn queries(body: &[u8]) -> Vec<String> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Vec::new();
    };
    ["next_page_url", "previous_page_url"]
        .iter()
        .filter_map(|k| value.get(k)?.as_str())
        .filter_map(|url| url.split_once('?').map(|(_, q)| q.to_owned()))
        .collect()
}

fn run_target(root: &Path, target: &'static str, seconds: u64) -> Result<Outcome, String> {
    println!("fuzz: {target} for {seconds} s");
    let artifacts = root.join("fuzz/artifacts").join(target);
    let before = list(&artifacts);
    let log_path = root.join("fuzz").join(format!("{target}.log"));
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let status = Command::new("cargo")
        .current_dir(root)
        .env("RUSTC_BOOTSTRAP", "1")
        .args([
            "fuzz",
            "run",
            "--sanitizer",
            "none",
            "--debug-assertions",
            target,
        ])
        .arg(root.join("fuzz/corpus").join(target))
        .args([
            "--",
            &format!("-max_total_time={seconds}"),
            "-rss_limit_mb=2048",
            "-max_len=65536",
            "-timeout=10",
            "-print_final_stats=1",
        ])
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .status()
        .map_err(|e| format!("cargo fuzz: {e}"))?;
    let elapsed = started.elapsed().as_secs();
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    let crashes: Vec<PathBuf> = list(&artifacts)
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    let execs = final_execs(&text);
    let outcome = Outcome {
        target,
        seconds: elapsed,
        execs,
        corpus: list(&root.join("fuzz/corpus").join(target)).len(),
        crashes,
        status: if status.success() {
            "no crash".to_owned()
        } else {
            format!("stopped: {status} (see fuzz/{target}.log)")
        },
    };
    println!(
        "fuzz: {target}: {} execs in {elapsed} s, corpus {}, {}",
        outcome.execs.map_or("?".to_owned(), |n| n.to_string()),
        outcome.corpus,
        outcome.status
    );
    Ok(outcome)
}

fn list(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// libFuzzer's final count: `stat::number_of_executed_units: N`, or `Done N runs`.
fn final_execs(log: &str) -> Option<u64> {
    let stat = log.lines().rev().find_map(|l| {
        l.strip_prefix("stat::number_of_executed_units:")
            .and_then(|n| n.trim().parse().ok())
    });
    stat.or_else(|| {
        log.lines().rev().find_map(|l| {
            let rest = l.split("Done ").nth(1)?;
            rest.split_whitespace().next()?.parse().ok()
        })
    })
}

fn report(outcomes: &[Outcome]) -> String {
    let mut s = String::from("# Fuzzing report (`cargo xtask fuzz`)\n\n");
    s.push_str(
        "libFuzzer via cargo-fuzz, stable toolchain with `RUSTC_BOOTSTRAP=1`, no sanitizer, debug \
         assertions on; corpora seeded from `fixtures/`.\n\n",
    );
    s.push_str("| target | seconds | execs | execs/s | corpus | crashes | result |\n");
    s.push_str("| --- | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for o in outcomes {
        let execs = o.execs.map_or("?".to_owned(), |n| n.to_string());
        let rate = o
            .execs
            .map_or("?".to_owned(), |n| (n / o.seconds.max(1)).to_string());
        let _ = writeln!(
            s,
            "| {} | {} | {execs} | {rate} | {} | {} | {} |",
            o.target,
            o.seconds,
            o.corpus,
            o.crashes.len(),
            o.status
        );
    }
    let total: u64 = outcomes.iter().filter_map(|o| o.execs).sum();
    let _ = writeln!(s, "\nTotal: {total} executions.");
    for o in outcomes {
        for crash in &o.crashes {
            let _ = writeln!(s, "- crash in {}: `{}`", o.target, crash.display());
        }
    }
    s
}

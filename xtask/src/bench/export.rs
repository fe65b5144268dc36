//! `cargo xtask bench`, part 2: exporting every chat of a mock to a file, `giosg chats export`
//! against `bench/export.py` (Python requests + json) and the raw reqwest loop, interleaved, each
//! run a child process measured for wall time, CPU time and peak RSS.

use super::env::{workspace, Bins};
use super::proc::{self, Mock, Usage};
use super::report::Report;
use super::stats::{ratios, Stat};
use super::{progress, step, Config, RUN_TIMEOUT, TOKEN};
use std::path::Path;
use std::process::{Command, Stdio};

/// Who exports: the CLI, the Python script, or the raw loop.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Who {
    Ours,
    Python,
    Raw,
}

/// One export of every chat of `mock` into a fresh file, checked for its line count. `python`
/// (the venv's) is needed for [`Who::Python`] only.
pub(super) fn once(
    who: Who,
    bins: &Bins,
    python: Option<&Path>,
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
            let python = python.ok_or("the Python export needs bench/.venv")?;
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
pub(super) fn section(
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
        once(w, bins, Some(python), tmp, mock)?;
    }
    let mut runs: [Vec<Usage>; 3] = Default::default();
    let mut mock_cpu: [Vec<f64>; 3] = Default::default();
    for round in 0..config.export_rounds {
        for (i, w) in who.into_iter().enumerate() {
            let before = mock.cpu();
            let usage = once(w, bins, Some(python), tmp, mock)?;
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
        "Raw loop: `xtask bench raw-export` (release build; `xtask/src/bench/raw.rs`): \
         reqwest on a current-thread tokio runtime, `serde_json::from_slice::<Page<Chat>>`, \
         `serde_json::to_writer` per chat into a `BufWriter`. Python: `bench/export.py` in \
         `bench/.venv` (requests `Session`, `response.json()`, `json.dumps` per chat)."
            .to_owned(),
    );
    Ok(runs[0].clone())
}

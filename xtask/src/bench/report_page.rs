//! `cargo xtask bench`, part 10: `giosg report` of a copy against `giosg chats summary --db` of
//! the same copy, interleaved (both read every chat of it; the report draws its page too).

use super::copy::{once, Dest};
use super::env::Bins;
use super::proc::{self, Mock, Usage};
use super::report::Report;
use super::stats::{ratios, Stat};
use super::{progress, step, Config, MOCK_TIMEOUT, RUN_TIMEOUT, SEED, TOKEN};
use std::path::Path;
use std::process::{Command, Stdio};

/// The report's time at most, in multiples of the summary's.
const TARGET: f64 = 3.0;

/// Part 10.
pub(super) fn section(
    config: &Config,
    bins: &Bins,
    tmp: &Path,
    report: &mut Report,
) -> Result<(), String> {
    let n = config.sync_chats;
    step(&format!(
        "report: a copy of {n} chats, giosg report vs giosg chats summary --db"
    ));
    let db = tmp.join("report-bench.db");
    {
        let mock = Mock::start(&bins.mock, n, SEED, TOKEN, None, None, MOCK_TIMEOUT)?;
        once(bins, tmp, &mock, &Dest::Sqlite(&db), &[])?;
    }
    let out = tmp.join("report-bench.html");
    let (mut summaries, mut reports) = (Vec::new(), Vec::new());
    for round in 0..config.sync_rounds {
        let mut summary = Command::new(&bins.giosg);
        summary
            .args(["chats", "summary", "--db"])
            .arg(&db)
            .stdout(Stdio::null());
        let usage = proc::measure(&mut summary, &tmp.join("report-bench.log"), RUN_TIMEOUT)?;
        progress(&format!("round {} summary --db", round + 1), &usage);
        summaries.push(usage);
        let mut page = Command::new(&bins.giosg);
        page.args(["report", "--db"])
            .arg(&db)
            .arg("--out")
            .arg(&out);
        let usage = proc::measure(&mut page, &tmp.join("report-bench.log"), RUN_TIMEOUT)?;
        progress(&format!("round {} report", round + 1), &usage);
        reports.push(usage);
    }
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    proc::remove(&out.to_path_buf());
    proc::remove(&db.to_path_buf());
    let wall = |runs: &[Usage]| runs.iter().map(|u| u.wall).collect::<Vec<f64>>();
    let (sw, rw) = (wall(&summaries), wall(&reports));
    let ratio = Stat::of(&ratios(&rw, &sw, |r, s| r / s));
    report.row(
        format!(
            "giosg report of a {}k-chat copy vs giosg chats summary --db of it: time",
            n / 1000
        ),
        format!("{} ({} KiB page)", Stat::of(&rw).show(2, " s"), size / 1024),
        Stat::of(&sw).show(2, " s"),
        format!("report / summary: {}", ratio.show(2, "x")),
        format!("<= {TARGET}x"),
        Some(ratio.median <= TARGET),
    );
    report.notes.push(format!(
        "Report: a SQLite copy of {n} generated chats (`giosg chats sync`), then {} interleaved \
         rounds of `giosg chats summary --db F.db` and `giosg report --db F.db --out F.html`; \
         the ratio is the report's wall time over the summary's, round by round.",
        config.sync_rounds
    ));
    Ok(())
}

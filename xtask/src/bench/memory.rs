//! `cargo xtask bench`, part 4: the export's peak RSS against the number of chats, each size on
//! its own mock (the runs are measured by [`super::export::once`]; this summarises them).

use super::env::Bins;
use super::proc::{self, Mock, Usage};
use super::report::Report;
use super::stats::Stat;
use super::{step, MOCK_TIMEOUT, RUN_TIMEOUT, TOKEN};
use std::path::Path;
use std::process::{Command, Stdio};

/// The hostile page's unknown member, in bytes: under the 32 MiB body cap.
const HOSTILE_BYTES: usize = 30_000_000;
/// The most a client may hold for it, in MiB: the decoding budget (4 bytes per body byte,
/// plus 16 MiB) and the body itself, with room for the process.
const HOSTILE_TARGET_MIB: f64 = 5.0 * 30.0 + 16.0 + 48.0;

/// A page of one chat whose unknown member is 30 MB of empty arrays (`[],[],…`): what the
/// decoder's memory budget refuses, and the client's peak RSS while it does. Before the
/// budget, 349 MB.
pub(super) fn hostile_page(bins: &Bins, tmp: &Path, report: &mut Report) -> Result<(), String> {
    step("memory: a 30 MB page of empty arrays in a member the model does not know");
    let fixture = tmp.join("hostile.json");
    let mut body = String::with_capacity(HOSTILE_BYTES + 200);
    body.push_str(r#"[{"id": "58f5055c-56e0-11e5-9354-6c4008c08dfe", "x_junk": ["#);
    while body.len() < HOSTILE_BYTES {
        body.push_str("[],");
    }
    body.push_str("[]]}]");
    std::fs::write(&fixture, &body).map_err(|e| format!("{}: {e}", fixture.display()))?;
    drop(body);
    let mock = Mock::start_fixture(&bins.mock, &fixture, 1, TOKEN, None, MOCK_TIMEOUT)?;
    let mut runs = Vec::new();
    for _ in 0..3 {
        let mut cmd = Command::new(&bins.giosg);
        cmd.args(["chats", "list", "--format", "jsonl", "--org", &mock.org])
            .args(["--base-url", &mock.base_url, "--max-attempts", "1"])
            .env("GIOSG_API_TOKEN", TOKEN)
            .stdout(Stdio::null());
        let log = tmp.join("hostile.log");
        // Exit 6: a bad response, as it must be.
        let usage = proc::measure_exit(&mut cmd, &log, RUN_TIMEOUT, 6)?;
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        if !said.contains("bad response") {
            return Err(format!(
                "the hostile page was not refused as a bad response: {said}"
            ));
        }
        runs.push(usage.rss_mib);
    }
    let _ = std::fs::remove_file(&fixture);
    let stat = Stat::of(&runs);
    report.row(
        "peak RSS, `giosg chats list` refusing a 30 MB page of empty arrays in an unknown member",
        stat.show(1, " MiB"),
        "349 MB before the decoding budget",
        format!(
            "{:.2}x the body",
            stat.median * 1_048_576.0 / HOSTILE_BYTES as f64
        ),
        format!("<= {HOSTILE_TARGET_MIB} MiB"),
        Some(stat.max <= HOSTILE_TARGET_MIB),
    );
    report.notes.push(format!(
        "Hostile page: giosg-mock serving one chat whose member `x_junk` is {HOSTILE_BYTES} bytes \
         of `[],`; `giosg chats list` (one attempt) must refuse it as a bad response (exit 6, \
         the decoding budget of `giosg_model::BUDGET_PER_BODY_BYTE` per body byte plus \
         `BUDGET_BASE`); three runs, the largest peak RSS checked."
    ));
    Ok(())
}

/// Part 4: peak RSS of the export against the number of chats.
pub(super) fn section(memory: &[(usize, Vec<Usage>)], report: &mut Report) {
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

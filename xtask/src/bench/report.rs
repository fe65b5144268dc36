//! The report of `cargo xtask bench`: the table of results with their targets, the mock
//! servers, the machine, and how each part is measured, rendered as `BENCHMARKS.md`.

use super::{env::workspace, proc::Mock, raw, step, Config, SEED, TOKEN};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// One line of the table.
pub(super) struct Row {
    pub what: String,
    pub ours: String,
    pub baseline: String,
    pub ratio: String,
    pub target: String,
    pub met: Option<bool>,
}

/// The table, the mock servers and the notes on how each part is measured.
#[derive(Default)]
pub(super) struct Report {
    pub rows: Vec<Row>,
    mocks: Vec<String>,
    pub notes: Vec<String>,
}

impl Report {
    /// Adds a line to the table.
    pub(super) fn row(
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
    pub(super) fn mock(&mut self, mock: &Mock, latency: Option<u64>) -> Result<(), String> {
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

    /// The rows on stdout, one line each (a section run alone).
    pub(super) fn print_rows(&self) {
        for r in &self.rows {
            let target = match r.met {
                Some(met) => format!(
                    "; target {}: {}",
                    r.target,
                    if met { "met" } else { "NOT met" }
                ),
                None => String::new(),
            };
            println!(
                "{}: {} vs {} ({}{target})",
                r.what, r.ours, r.baseline, r.ratio
            );
        }
    }

    /// The whole of `BENCHMARKS.md`.
    pub(super) fn render(&self, config: &Config, facts: &Facts, took: Duration) -> String {
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
pub(super) struct Facts(Vec<(&'static str, String)>);

/// The trimmed output of a command, or `unknown`.
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
    /// What is known of this machine now.
    pub(super) fn collect(python: &Path, tmp: &Path) -> Facts {
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

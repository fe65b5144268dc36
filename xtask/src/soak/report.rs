//! The soak's report: the figures per transport and fault kind, as markdown.

use super::{Config, Run};
use std::fmt::Write as _;
use std::time::Duration;

/// The report of a soak, with the problems found (none: it passed).
pub(super) fn report(
    config: &Config,
    runs: &[Run],
    problems: &[String],
    total: Duration,
) -> String {
    let mut s = format!(
        "# Fault soak report (`cargo xtask soak{}`)\n\n",
        match config.mode {
            "quick" => " --quick",
            _ => "",
        }
    );
    let p = &config.policy;
    let _ = writeln!(
        s,
        "{} chats (seed {}) exported through giosg-mock on 127.0.0.1 with {:.0}% of requests \
         faulted, each of the {} kinds equally likely; page size {}; read timeout {:?}, stalls \
         of {:?}; drift and insertions add, and retention deletes, {} chats each time. Retry policy: {} attempts, backoff {:?} to {:?}, at most \
         {:?} waiting per page. Budget per transport: {} requests, {:?}.\n",
        config.chats,
        config.seed,
        config.fault_rate * 100.0,
        config.faults().len(),
        config.page_size,
        config.read_timeout,
        config.stall,
        config.drift,
        p.max_attempts,
        p.base_delay,
        p.max_delay,
        p.max_total_wait,
        config.max_requests,
        config.max_wall,
    );
    let _ = write!(s, "| |");
    for r in runs {
        let _ = write!(s, " {} |", r.name);
    }
    let _ = write!(s, "\n| --- |");
    for _ in runs {
        let _ = write!(s, " ---: |");
    }
    s.push('\n');
    let mut row = |label: &str, f: &dyn Fn(&Run) -> String| {
        let _ = write!(s, "| {label} |");
        for r in runs {
            let _ = write!(s, " {} |", f(r));
        }
        s.push('\n');
    };
    row("requests served", &|r| r.requests.to_string());
    row("requests sent by the client", &|r| r.sends.to_string());
    row("faulted requests", &|r| {
        let n: usize = r.faults.values().sum();
        format!("{n} ({:.1}%)", 100.0 * n as f64 / r.requests.max(1) as f64)
    });
    let kinds: Vec<String> = {
        let mut k: Vec<String> = runs.iter().flat_map(|r| r.faults.keys().cloned()).collect();
        k.sort();
        k.dedup();
        k
    };
    for kind in &kinds {
        row(&format!("— {kind}"), &|r| {
            r.faults.get(kind).copied().unwrap_or(0).to_string()
        });
    }
    row("retries", &|r| r.waits.len().to_string());
    row("most attempts at one page", &|r| {
        format!("{} (max {})", r.most_attempts, p.max_attempts)
    });
    row("longest wait", &|r| {
        format!(
            "{:?} (max {:?})",
            r.waits.iter().max().copied().unwrap_or_default(),
            p.max_delay
        )
    });
    row("chats yielded", &|r| r.yielded.to_string());
    row("original chats still served, each exactly once", &|r| {
        format!(
            "{} of {}",
            r.originals - r.deleted - r.missing,
            r.originals - r.deleted
        )
    });
    row("original chats deleted meanwhile", &|r| {
        r.deleted.to_string()
    });
    row("chats yielded twice", &|r| r.duplicates.to_string());
    row("chats out of order (ordered listings)", &|r| {
        r.out_of_order.to_string()
    });
    row("chats added meanwhile (seen / added)", &|r| {
        format!("{} / {}", r.drifted_seen, r.drifted_total)
    });
    row("repeats dropped", &|r| {
        r.dropped.map_or("—".to_owned(), |d| d.to_string())
    });
    row("panics", &|r| r.panics.to_string());
    row("wall time", &|r| format!("{:.1} s", r.wall.as_secs_f64()));
    let _ = writeln!(s, "\nTotal wall time: {:.1} s.\n", total.as_secs_f64());
    if problems.is_empty() {
        s.push_str("Result: **pass**. Every original chat still served exactly once, no chat twice, ordered listings in order, no panic, every request within the retry policy.\n");
    } else {
        s.push_str("Result: **FAIL**.\n\n");
        for p in problems {
            let _ = writeln!(s, "- {p}");
        }
    }
    s
}

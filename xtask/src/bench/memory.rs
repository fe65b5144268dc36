//! `cargo xtask bench`, part 4: the export's peak RSS against the number of chats, each size on
//! its own mock (the runs are measured by [`super::export::once`]; this summarises them).

use super::proc::Usage;
use super::report::Report;
use super::stats::Stat;

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

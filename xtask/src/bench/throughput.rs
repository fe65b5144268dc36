//! `cargo xtask bench`, part 5: giosg-mock's own throughput on the export's data, so that a
//! slow mock cannot hide a fast client.

use super::proc::{Mock, Usage};
use super::raw;
use super::report::Report;
use super::stats::Stat;
use super::{step, Config, TOKEN};

/// Part 5: the mock's own throughput on the export's data, against our export's page rate.
pub(super) fn section(
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

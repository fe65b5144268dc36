//! Warnings on stderr when a listing completed but its answers did not all add up.

use giosg_async::Completeness;

/// Says on stderr what did not add up in a listing that otherwise completed: the chats the
/// server counted but did not deliver, and each contradiction resolved along the way.
pub(crate) fn completeness(report: &Completeness) {
    for line in lines(report) {
        eprintln!("giosg: warning: {}", giosg_async::printable(&line));
    }
}

/// Says one warning on stderr, its control characters escaped.
pub(crate) fn say(message: &str) {
    eprintln!("giosg: warning: {}", giosg_async::printable(message));
}

/// The warning lines for a report (none when everything added up).
pub(crate) fn lines(report: &Completeness) -> Vec<String> {
    let mut lines: Vec<String> = report.anomalies.iter().map(ToString::to_string).collect();
    let short = report.shortfall();
    if short > 0 {
        let expected = report.expected.unwrap_or_default();
        lines.push(format!(
            "the server counted {expected} matching chats when the listing started, but {} were received ({short} fewer): chats deleted while listing, or a server that lost some; run again to check",
            report.delivered
        ));
    }
    lines
}

//! A progress bar on stderr, drawn from what a sync or an export tells
//! ([`giosg_sync::Observer`]), and the warnings of a listing that completed.

use crate::warn;
use giosg_async::Completeness;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar (hidden when stderr is not a terminal).
pub(crate) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar, drawn only when `show`.
    pub(crate) fn new(show: bool) -> Self {
        let bar = if show {
            progress_bar()
        } else {
            ProgressBar::hidden()
        };
        Progress { bar }
    }

    /// Clears the bar once the command is done, or leaves it where it stopped on a failure.
    pub(crate) fn end(&self, ok: bool) {
        if ok {
            self.bar.finish_and_clear();
        } else {
            self.bar.abandon();
        }
    }
}

impl giosg_sync::Observer for Progress {
    fn expected(&mut self, total: u64) {
        self.bar.set_length(total);
    }

    fn chats(&mut self, n: u64) {
        self.bar.inc(n);
    }

    fn warning(&mut self, message: &str) {
        self.bar
            .suspend(|| eprintln!("giosg: warning: {}", giosg_async::printable(message)));
    }

    fn listed(&mut self, completeness: &Completeness) {
        self.bar.finish_and_clear();
        warn::completeness(completeness);
    }
}

/// A progress bar of the chats fetched: done / count (once known), rate, ETA.
pub(crate) fn progress_bar() -> ProgressBar {
    let style = ProgressStyle::with_template(
        "{spinner} [{bar:30}] {human_pos}/{human_len} chats  {rate}  ETA {eta}",
    )
    .expect("a valid template")
    .with_key(
        "rate",
        |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0} chats/s", state.per_sec());
        },
    )
    .progress_chars("=> ");
    ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(style)
}

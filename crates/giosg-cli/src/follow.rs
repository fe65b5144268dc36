//! Which chats a rerun of `sync` or `export` lists again to follow their changes.
//!
//! The API has no "changed since" filter, so a rerun lists again, from the start time of the
//! earliest of them, the chats that may have changed since they were written: every chat that
//! started within the lookback (messages, tags and carts are added to recent chats) and every
//! chat still going on when it was written (it ends, with more messages). A chat still going on
//! [`OPEN_FOR`] after it started is taken as abandoned (giosg ends chats within hours) and not
//! followed any more: one such chat would otherwise make every rerun list everything after it.
//! Chats that start after now are not recent either: the window ends now.

use giosg_async::{Chat, DateTime, Utc};

/// How long a chat still going on is followed after it started.
pub(crate) const OPEN_FOR: chrono::TimeDelta = chrono::TimeDelta::days(30);

/// The rule at one moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Follow {
    now: DateTime<Utc>,
    /// The start of the lookback window (`now` without one).
    recent_since: DateTime<Utc>,
}

impl Follow {
    /// The rule now, with this lookback (zero: none).
    pub(crate) fn now(lookback: chrono::TimeDelta) -> Follow {
        Follow::at(
            DateTime::<Utc>::from(std::time::SystemTime::now()),
            lookback,
        )
    }

    /// The rule at `now`.
    pub(crate) fn at(now: DateTime<Utc>, lookback: chrono::TimeDelta) -> Follow {
        Follow {
            now,
            recent_since: now - lookback.max(chrono::TimeDelta::zero()),
        }
    }

    /// Whether a chat that started at `start`, and was going on (`open`) when written, is
    /// listed again.
    pub(crate) fn follows(&self, start: Option<DateTime<Utc>>, open: bool) -> bool {
        let Some(start) = start else {
            // Without a start time there is no window to list it in again.
            return false;
        };
        start <= self.now && (start >= self.recent_since || (open && start >= self.open_since()))
    }

    /// Whether this chat, as the server sends it now, is listed again.
    pub(crate) fn follows_chat(&self, chat: &Chat) -> bool {
        self.follows(chat.start_time, chat.end_time.is_none())
    }

    /// The earliest start time an open chat is followed from.
    pub(crate) fn open_since(&self) -> DateTime<Utc> {
        self.now - OPEN_FOR
    }

    /// Where a listing of every chat followed starts, given the earliest start of the open
    /// chats written (one older than [`OPEN_FOR`] is not followed).
    pub(crate) fn from(&self, earliest_open: Option<DateTime<Utc>>) -> DateTime<Utc> {
        earliest_open
            .filter(|t| *t >= self.open_since())
            .map_or(self.recent_since, |t| t.min(self.recent_since))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        giosg_async::time::parse(s).unwrap()
    }

    #[test]
    fn recent_and_open_chats_are_followed_and_old_or_future_ones_not() {
        let rule = Follow::at(t("2026-11-24T12:00:00Z"), chrono::TimeDelta::days(3));
        let follows = |s: &str, open| rule.follows(Some(t(s)), open);
        assert!(
            follows("2026-11-22T00:00:00Z", false),
            "within the lookback"
        );
        assert!(!follows("2026-11-20T00:00:00Z", false), "ended before it");
        assert!(follows("2026-11-01T00:00:00Z", true), "still open");
        assert!(
            !follows("2026-10-01T00:00:00Z", true),
            "open for over 30 days"
        );
        assert!(!follows("2026-11-25T00:00:00Z", true), "starts after now");
        assert!(!rule.follows(None, true), "no start time");
        assert_eq!(rule.from(None), t("2026-11-21T12:00:00Z"));
        assert_eq!(
            rule.from(Some(t("2026-11-01T00:00:00Z"))),
            t("2026-11-01T00:00:00Z")
        );
        assert_eq!(
            rule.from(Some(t("2026-09-01T00:00:00Z"))),
            t("2026-11-21T12:00:00Z")
        );
        let none = Follow::at(t("2026-11-24T12:00:00Z"), chrono::TimeDelta::zero());
        assert!(!none.follows(Some(t("2026-11-24T11:00:00Z")), false));
        assert!(none.follows(Some(t("2026-11-24T11:00:00Z")), true));
    }
}

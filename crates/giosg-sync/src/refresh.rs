//! The refresh rule: which chats a copy reads again, because they may have changed since they
//! were copied.
//!
//! The API has no "changed since" filter. A chat changes while it goes on (it ends, with more
//! messages) and for a while after (tags, carts and messages are added to recent chats). So a
//! copy reads again:
//! - every chat that was still going on when it was copied, **at any age**: a chat open for two
//!   years that ended since is current after the next run;
//! - every chat that started within the lookback (default 3 days).
//!
//! Reading them again costs no full listing: the old ones are fetched in narrow windows around
//! their start times ([`Checkpoint::revisiting`](giosg_query::Checkpoint::revisiting)), about
//! one request each (merged where they are close), and the recent ones with the new chats.

use chrono::TimeDelta;
use giosg_model::{Chat, DateTime, Utc};

/// How far back a copy reads chats again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refresh {
    /// Chats that started within this long before a run are read again (zero: none but the
    /// chats still going on).
    pub lookback: TimeDelta,
}

impl Default for Refresh {
    /// A lookback of 3 days.
    fn default() -> Self {
        Refresh {
            lookback: TimeDelta::days(3),
        }
    }
}

impl Refresh {
    /// The rule with this lookback (a negative one counts as zero).
    pub fn lookback(lookback: TimeDelta) -> Self {
        Refresh {
            lookback: lookback.max(TimeDelta::zero()),
        }
    }

    /// The start of the lookback window at `now`.
    pub fn recent_since(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now.checked_sub_signed(self.lookback)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// Whether a chat that started at `start`, and was going on (`open`) when copied, is read
    /// again at `now`. A chat without a start time has no window to be read again in.
    ///
    /// ```
    /// use giosg_sync::Refresh;
    /// use giosg_model::time;
    /// let now = time::parse("2026-11-24T12:00:00Z").unwrap();
    /// let rule = Refresh::default();
    /// let at = |s| Some(time::parse(s).unwrap());
    /// assert!(rule.rereads(at("2026-11-22T00:00:00Z"), false, now), "recent");
    /// assert!(!rule.rereads(at("2026-11-20T00:00:00Z"), false, now), "ended, older");
    /// assert!(rule.rereads(at("2024-11-01T00:00:00Z"), true, now), "open, at any age");
    /// ```
    pub fn rereads(&self, start: Option<DateTime<Utc>>, open: bool, now: DateTime<Utc>) -> bool {
        start.is_some_and(|start| open || (start >= self.recent_since(now) && start <= now))
    }

    /// Whether this chat, as the server sent it, is read again at `now`.
    pub fn rereads_chat(&self, chat: &Chat, now: DateTime<Utc>) -> bool {
        self.rereads(chat.start_time, chat.end_time.is_none(), now)
    }
}

/// The current time (the rule takes time as an argument; the drivers read the clock once).
pub(crate) fn now() -> DateTime<Utc> {
    DateTime::<Utc>::from(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        giosg_model::time::parse(s).unwrap()
    }

    #[test]
    fn recent_and_open_chats_are_read_again_and_old_ended_or_future_ones_not() {
        let now = t("2026-11-24T12:00:00Z");
        let rule = Refresh::lookback(TimeDelta::days(3));
        let rereads = |s: &str, open| rule.rereads(Some(t(s)), open, now);
        assert!(
            rereads("2026-11-22T00:00:00Z", false),
            "within the lookback"
        );
        assert!(!rereads("2026-11-20T00:00:00Z", false), "ended before it");
        assert!(rereads("2026-11-01T00:00:00Z", true), "still open");
        assert!(rereads("2024-10-01T00:00:00Z", true), "open for two years");
        assert!(!rereads("2026-11-25T00:00:00Z", false), "starts after now");
        assert!(!rule.rereads(None, true, now), "no start time");
        assert_eq!(rule.recent_since(now), t("2026-11-21T12:00:00Z"));
        let none = Refresh::lookback(TimeDelta::zero());
        assert!(!none.rereads(Some(t("2026-11-24T11:00:00Z")), false, now));
        assert!(none.rereads(Some(t("2026-11-24T11:00:00Z")), true, now));
        assert_eq!(Refresh::lookback(TimeDelta::days(-1)), none);
    }
}

//! What a listing reports: the anomalies it resolved, how complete it is, and the checkpoint
//! to resume it from.

use super::window::Cursor;
use chrono::{DateTime, Utc};
use giosg_model::Uuid;
use serde::{Deserialize, Serialize};
use std::fmt;
/// Something the server's answers said that did not add up, and that the planner resolved
/// (by fetching more, or by re-anchoring); the chats handed out are still complete.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Anomaly {
    /// An answer's envelope contradicted itself (no `next_page` while `count` said more, or a
    /// page shorter than asked while more was said to follow); paging went on until the
    /// evidence agreed.
    EnvelopeConflict {
        /// The answer's `count`.
        count: u64,
        /// How many chats it carried.
        received: u64,
        /// Its `next_page`.
        next_page: Option<u64>,
    },
    /// The number of chats after the cursor changed between two answers: chats were added or
    /// deleted while listing (harmless with keyset paging, noted for the record).
    CountChanged {
        /// What the earlier answer implied.
        expected: u64,
        /// What the later one said.
        got: u64,
    },
    /// An answer after a cursor was empty although the previous one promised more, or it
    /// ignored the cursor: the cursor chat was probably deleted. Paging went on from the
    /// cursor's start time.
    CursorLost {
        /// The cursor.
        cursor: Uuid,
    },
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anomaly::EnvelopeConflict {
                count,
                received,
                next_page,
            } => {
                let next = next_page.map_or_else(|| "none".to_owned(), |n| n.to_string());
                write!(
                    f,
                    "a page of {received} chats said count {count} and next page {next}; paging continued until the answers agreed"
                )
            }
            Anomaly::CountChanged { expected, got } => write!(
                f,
                "the server's count changed while listing ({expected} chats expected after the cursor, {got} reported): chats were added or deleted"
            ),
            Anomaly::CursorLost { cursor } => write!(
                f,
                "chat {cursor} vanished while listing after it (deleted?); continued from its start time"
            ),
        }
    }
}

/// How complete a listing is: what was handed out against what the server counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Completeness {
    /// Chats handed out.
    pub delivered: u64,
    /// How many chats the server counted for the whole listing when it started (`None` when
    /// the listing resumed from a checkpoint, or has not had an answer yet).
    pub expected: Option<u64>,
    /// Whether a limit ended the listing early.
    pub limited: bool,
    /// Whether the listing is complete: every window ended with agreeing evidence.
    pub finished: bool,
    /// Chats dropped because they were already handed out (a server that ignored the
    /// cursor, or re-anchoring after a lost one).
    pub repeats: u64,
    /// Contradictions that were resolved.
    pub anomalies: Vec<Anomaly>,
}

impl Completeness {
    /// How many fewer chats were handed out than the server counted at the start (0 when a
    /// limit ended the listing): chats deleted while listing, or a server that lost some.
    pub fn shortfall(&self) -> u64 {
        if self.limited || !self.finished {
            return 0;
        }
        self.expected
            .map_or(0, |e| e.saturating_sub(self.delivered))
    }
}

/// The remaining work of a listing, to resume it later (in another process, say): each
/// unfinished window with the last chat handed out from it.
///
/// A finished listing's checkpoint keeps the open-ended windows, so that resuming it fetches
/// only what was added since.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub(super) windows: Vec<SavedWindow>,
}

impl Checkpoint {
    /// The listing after a chat known by its id (`None`: the whole listing), as if it had
    /// been handed out last: how a file written before checkpoints existed resumes.
    pub fn after(id: Option<Uuid>) -> Self {
        Checkpoint {
            windows: vec![SavedWindow {
                lo: None,
                hi: None,
                nulls: false,
                cursor: id.map(Cursor::id),
            }],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct SavedWindow {
    #[serde(with = "giosg_model::time::option")]
    pub(super) lo: Option<DateTime<Utc>>,
    #[serde(with = "giosg_model::time::option")]
    pub(super) hi: Option<DateTime<Utc>>,
    #[serde(default)]
    pub(super) nulls: bool,
    pub(super) cursor: Option<Cursor>,
}

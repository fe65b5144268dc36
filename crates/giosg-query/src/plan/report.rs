//! What a listing reports: the anomalies it resolved, how complete it is, and the checkpoint
//! to resume it from.

use super::window::{floor_ms, Cursor};
use crate::{ListingIdentity, ValidationError, MAX_PAGE_SIZE};
use chrono::{DateTime, TimeDelta, Utc};
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
    /// An answer held the same chat twice in a row (a join without `DISTINCT` on the server,
    /// typical under a tag filter): it was handed out once, as its later row.
    Repeated {
        /// The chat.
        id: Uuid,
        /// Whether the two rows differed (the later one was kept).
        changed: bool,
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
            Anomaly::Repeated { id, changed } => {
                let how = if *changed {
                    "with different content; the later one was kept"
                } else {
                    "identical; it was taken once"
                };
                write!(f, "an answer held chat {id} twice in a row ({how})")
            }
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
    /// Rows dropped because an answer held the same chat twice in a row (see
    /// [`Anomaly::Repeated`]); the server's count includes them.
    pub duplicates: u64,
    /// Contradictions that were resolved.
    pub anomalies: Vec<Anomaly>,
    /// Requests made by this run of the listing.
    pub requests: u64,
    /// Chats handed out from the narrow windows of a [`Checkpoint::revisiting`] plan.
    pub revisited: u64,
    /// Requests those windows took.
    pub revisit_requests: u64,
}

impl Completeness {
    /// How many fewer chats were handed out than the server counted at the start (0 when a
    /// limit ended the listing): chats deleted while listing, or a server that lost some.
    pub fn shortfall(&self) -> u64 {
        if self.limited || !self.finished {
            return 0;
        }
        self.expected
            .map_or(0, |e| e.saturating_sub(self.delivered + self.duplicates))
    }
}

/// The version of [`Checkpoint`]'s layout that this crate writes and resumes.
pub const CHECKPOINT_VERSION: u32 = 2;

/// The remaining work of a listing, to resume it later (in another process, say): each
/// unfinished window with the last chat handed out from it, and the [`ListingIdentity`] of the
/// listing it belongs to (resuming another listing from it is a
/// [`ValidationError::OtherListing`]).
///
/// A finished listing's checkpoint keeps the open-ended windows, so that resuming it fetches
/// only what was added since. It serialises (serde) with a format version
/// ([`CHECKPOINT_VERSION`]): a checkpoint of another version is refused, never misread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    #[serde(default)]
    pub(super) version: u32,
    pub(super) listing: Option<ListingIdentity>,
    pub(super) windows: Vec<SavedWindow>,
}

impl Checkpoint {
    /// The listing after a chat known by its id (`None`: the whole listing), as if it had
    /// been handed out last: how a file written before checkpoints existed resumes.
    pub fn after(listing: ListingIdentity, id: Option<Uuid>) -> Self {
        Checkpoint {
            version: CHECKPOINT_VERSION,
            listing: Some(listing),
            windows: vec![SavedWindow::new(None, None, false, id.map(Cursor::id))],
        }
    }

    /// The listing it belongs to (`None` for a version 1 checkpoint, which did not say).
    pub fn listing(&self) -> Option<&ListingIdentity> {
        self.listing.as_ref()
    }

    /// The format version it was written with.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// A version 1 checkpoint (which did not record its listing) as this version's, for the
    /// listing its owner recorded beside it. A checkpoint of this version is returned as it
    /// is if it belongs to `listing`; any other is refused.
    pub fn upgrade(mut self, listing: &ListingIdentity) -> Result<Self, ValidationError> {
        match self.version {
            0 | 1 if self.listing.is_none() => {
                self.version = CHECKPOINT_VERSION;
                self.listing = Some(listing.clone());
                Ok(self)
            }
            _ => {
                self.check(listing)?;
                Ok(self)
            }
        }
    }

    /// Whether this checkpoint may resume `listing`.
    pub(super) fn check(&self, listing: &ListingIdentity) -> Result<(), ValidationError> {
        if self.version != CHECKPOINT_VERSION {
            return Err(ValidationError::CheckpointVersion {
                found: self.version,
                supported: CHECKPOINT_VERSION,
            });
        }
        match &self.listing {
            Some(own) if own == listing => Ok(()),
            own => Err(ValidationError::OtherListing {
                checkpoint: own
                    .as_ref()
                    .map_or_else(|| "an unknown listing".to_owned(), ToString::to_string),
                listing: listing.to_string(),
            }),
        }
    }

    /// A listing of every chat from `from` on (`None`: every chat), and of the chats that
    /// started at the moments `around` (to read again chats that may have changed) without
    /// listing what lies between them: each moment gets a window one millisecond wide, and
    /// windows close together are merged while `chats_in(lo, hi)`, an estimate of the chats
    /// that started in `[lo, hi)` (a local copy's count, say), fits in one page. Each window's
    /// first request asks for no more chats than it is estimated to hold, plus the one past its
    /// end that proves it over: about one request per window.
    ///
    /// With a `from`, the chats without a start time (which no `start_time` filter reaches) are
    /// listed too, in a window of their own. The plan is resumed like any checkpoint; its
    /// narrow windows report what they brought in [`Completeness::revisited`].
    ///
    /// ```
    /// use giosg_model::{time, ChatFilter, Uuid};
    /// use giosg_query::{Checkpoint, ListingIdentity};
    /// let t = |s| time::parse(s).unwrap();
    /// let listing = ListingIdentity::new(Uuid::from_u128(1), &ChatFilter::new());
    /// let around = [t("2024-01-01T10:00:00Z"), t("2024-01-01T10:00:01Z"), t("2024-06-01T00:00:00Z")];
    /// // The local copy holds 3 chats between the first two moments, thousands elsewhere.
    /// let plan = Checkpoint::revisiting(listing, Some(t("2025-01-01T00:00:00Z")), &around, 100, |lo, hi| {
    ///     if hi <= t("2024-01-01T10:00:02Z") { 3 } else { 5000 }
    /// });
    /// // Two narrow windows (the first two moments merged), the rest, and the chats without a
    /// // start time.
    /// assert_eq!(plan.window_count(), 4);
    /// ```
    pub fn revisiting(
        listing: ListingIdentity,
        from: Option<DateTime<Utc>>,
        around: &[DateTime<Utc>],
        page_size: u32,
        chats_in: impl FnMut(DateTime<Utc>, DateTime<Utc>) -> u64,
    ) -> Self {
        let Some(from) = from.map(floor_ms) else {
            // The whole listing reads every chat anyway.
            return Checkpoint::after(listing, None);
        };
        let mut windows = narrow_windows(from, around, page_size, chats_in);
        windows.push(SavedWindow::new(Some(from), None, false, None));
        windows.push(SavedWindow::new(None, None, true, None));
        Checkpoint {
            version: CHECKPOINT_VERSION,
            listing: Some(listing),
            windows,
        }
    }

    /// This checkpoint, continued with narrow windows around the moments `around` (see
    /// [`Checkpoint::revisiting`]), for a listing whose timed chats were all handed out in
    /// order up to one chat: a finished listing's checkpoint, or one of a single window.
    ///
    /// Returns the plan and that chat's position (its start time and id). The plan lists the
    /// chats of that chat's millisecond again, so a chat at or before the position was handed
    /// out before, and one after it is new; the narrow windows bring only chats before it.
    /// `None` when the checkpoint has other windows left, or its position has no start time:
    /// resume it as it is.
    pub fn revisit(
        &self,
        around: &[DateTime<Utc>],
        page_size: u32,
        chats_in: impl FnMut(DateTime<Utc>, DateTime<Utc>) -> u64,
    ) -> Option<(Checkpoint, (DateTime<Utc>, Uuid))> {
        let timed: Vec<&SavedWindow> = self.windows.iter().filter(|w| !w.nulls).collect();
        let [open] = timed.as_slice() else {
            return None;
        };
        let cursor = open.cursor?;
        let start = cursor.start_time()?;
        if open.hi.is_some() || open.revisit {
            return None;
        }
        let from = floor_ms(start);
        let mut windows = narrow_windows(from, around, page_size, chats_in);
        windows.push(SavedWindow::new(Some(from), None, false, None));
        let nulls: Vec<SavedWindow> = self.windows.iter().filter(|w| w.nulls).cloned().collect();
        if nulls.is_empty() {
            // The chats without a start time come after every other: none was handed out.
            windows.push(SavedWindow::new(None, None, true, None));
        }
        windows.extend(nulls);
        let plan = Checkpoint {
            version: self.version,
            listing: self.listing.clone(),
            windows,
        };
        Some((plan, (start, cursor.id)))
    }

    /// How many windows of the listing are left to fetch (or to follow, when it finished).
    pub fn window_count(&self) -> usize {
        self.windows.len()
    }

    /// How many of them are narrow windows of a [`Checkpoint::revisiting`] plan.
    pub fn revisit_windows(&self) -> usize {
        self.windows.iter().filter(|w| w.revisit).count()
    }
}

/// Windows one millisecond wide at the moments before `from`, merged while the estimate of
/// the chats they hold fits a page.
fn narrow_windows(
    from: DateTime<Utc>,
    around: &[DateTime<Utc>],
    page_size: u32,
    mut chats_in: impl FnMut(DateTime<Utc>, DateTime<Utc>) -> u64,
) -> Vec<SavedWindow> {
    let page_size = page_size.clamp(1, MAX_PAGE_SIZE);
    let ms = TimeDelta::milliseconds(1);
    let mut moments: Vec<DateTime<Utc>> = around
        .iter()
        .map(|t| floor_ms(*t))
        .filter(|t| *t < from)
        .collect();
    moments.sort_unstable();
    moments.dedup();
    let mut windows: Vec<SavedWindow> = Vec::new();
    let narrow = |lo: DateTime<Utc>, hi: DateTime<Utc>, chats: u64| {
        let mut w = SavedWindow::new(Some(lo), Some(hi.min(from)), false, None);
        w.revisit = true;
        // The chats it holds, and the next one, which proves it over.
        let size = chats.saturating_add(1).min(u64::from(page_size));
        w.size = Some(u32::try_from(size).unwrap_or(page_size));
        w
    };
    let mut open: Option<(DateTime<Utc>, DateTime<Utc>, u64)> = None;
    for t in moments {
        let hi = t + ms;
        if let Some((lo, old_hi, chats)) = open {
            let merged = chats_in(lo, hi);
            if merged < u64::from(page_size) {
                open = Some((lo, hi, merged));
                continue;
            }
            windows.push(narrow(lo, old_hi, chats));
        }
        open = Some((t, hi, chats_in(t, hi)));
    }
    if let Some((lo, hi, chats)) = open {
        windows.push(narrow(lo, hi, chats));
    }
    windows
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
    /// A narrow window around chats to read again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(super) revisit: bool,
    /// The page size of its first request, when smaller than the listing's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) size: Option<u32>,
}

impl SavedWindow {
    pub(super) fn new(
        lo: Option<DateTime<Utc>>,
        hi: Option<DateTime<Utc>>,
        nulls: bool,
        cursor: Option<Cursor>,
    ) -> Self {
        SavedWindow {
            lo,
            hi,
            nulls,
            cursor,
            revisit: false,
            size: None,
        }
    }
}

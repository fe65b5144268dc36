//! How an answer becomes chats: matched to its request, judged against what was asked, and
//! where the evidence does not agree, followed up or re-anchored.

use super::window::{compare, floor_ms, Ask, Cursor, End, Mode, SortValues, Window};
use super::Planner;
use super::{Anomaly, Delivery, Ticket, MAX_STUCK};
use crate::PagingError;
use chrono::TimeDelta;
use giosg_model::{Chat, Page, Uuid};
use std::cmp::Ordering;

impl Planner {
    /// Takes the answer to a request. Chats become available from [`Planner::poll_page`].
    ///
    /// An error means the listing cannot be completed; it is over.
    pub fn accept(&mut self, ticket: Ticket, page: Page<Chat>) -> Result<(), PagingError> {
        let Some(index) = self
            .windows
            .iter()
            .position(|w| w.pending.is_some_and(|a| a.ticket == ticket.0))
        else {
            return Err(PagingError::UnknownTicket);
        };
        let result = self.take(index, page);
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    /// A request failed for good: the listing is over.
    pub fn fail(&mut self, ticket: Ticket) {
        for w in &mut self.windows {
            if w.pending.is_some_and(|a| a.ticket == ticket.0) {
                w.pending = None;
            }
        }
        self.failed = true;
    }

    pub(super) fn take(&mut self, index: usize, page: Page<Chat>) -> Result<(), PagingError> {
        let ask = self.windows[index]
            .pending
            .take()
            .expect("found by its ask");
        if page.current_page > 1 {
            return Err(PagingError::WrongPage {
                requested: 1,
                got: page.current_page,
            });
        }
        let (envelope, chats) = page.into_parts();
        if self.first.is_none() {
            if !self.resumed {
                self.expected = Some(envelope.count);
            }
            self.first = Some(envelope.clone());
        }
        let received = chats.len() as u64;
        let size = u64::from(ask.size);
        let full_size = match envelope.per_page {
            0 => size,
            served => served.min(size),
        };
        // `count` decodes as 0 when missing: only trust it when it is consistent with the
        // results it came with.
        let count_known = envelope.count >= received && !(envelope.count == 0 && received > 0);
        let more_by_count = count_known && envelope.count > received;
        let more_by_next = envelope.next_page.is_some();
        let full = received >= full_size;
        let says_more = more_by_next || more_by_count || (full && !count_known);
        let conflict = (count_known && more_by_count != more_by_next) || (!full && says_more);
        if conflict {
            self.note(Anomaly::EnvelopeConflict {
                count: envelope.count,
                received,
                next_page: envelope.next_page,
            });
        }
        let keys = self.keys.clone();
        let w = &mut self.windows[index];
        // Noted only if this answer makes progress: an empty one is judged below.
        let count_changed = match (w.after, ask.since, w.mode, count_known && !conflict) {
            (Some(expected), Some(_), Mode::Keyset, true) if expected != envelope.count => {
                Some(Anomaly::CountChanged {
                    expected,
                    got: envelope.count,
                })
            }
            _ => None,
        };
        let saw_cursor = w
            .cursor
            .is_some_and(|c| chats.iter().any(|chat| chat.id == c.id));
        if saw_cursor {
            // The cursor chat is there: whatever this is, it did not vanish.
            w.lost = None;
        }

        // Split the answer: chats already taken (at or before the cursor), the window's new
        // chats, and whether it ran past the window's end.
        let mut skip = 0usize;
        if let Some(c) = w.cursor.filter(|c| c.sort.is_none()) {
            // A cursor known by id only: what precedes it in this answer is a repeat.
            if let Some(i) = chats.iter().position(|chat| chat.id == c.id) {
                skip = i + 1;
            }
        }
        let mut taken: Vec<Chat> = Vec::with_capacity(chats.len());
        let mut repeats = 0usize;
        let mut last_repeat: Option<Uuid> = None;
        let mut repeated: Vec<Anomaly> = Vec::new();
        let mut past = false;
        for (i, chat) in chats.into_iter().enumerate() {
            if ask.nulls_first && chat.start_time.is_some() {
                // In `-start_time` order the chats without a start time come first: done.
                past = true;
                break;
            }
            // Before the window's start (a server that ignored `start_time`): another
            // window's chat.
            let before_lo =
                w.lo.is_some_and(|lo| chat.start_time.is_some_and(|t| t < lo));
            let behind = i < skip
                || before_lo
                || w.cursor.is_some_and(|c| c.id == chat.id)
                || w.cursor
                    .and_then(|c| c.sort.map(|s| (c.id, s)))
                    .is_some_and(|(id, s)| compare(&chat, id, &s, &keys) != Ordering::Greater);
            if behind {
                repeats += 1;
                last_repeat = Some(chat.id);
                continue;
            }
            if !w.contains(&chat) {
                past = true;
                break;
            }
            if let Some(prev) = taken.last_mut() {
                if prev.id == chat.id {
                    // The same chat twice in a row (a join on the server): the later row
                    // stands.
                    repeated.push(Anomaly::Repeated {
                        id: chat.id,
                        changed: *prev != chat,
                    });
                    *prev = chat;
                    continue;
                }
                let s = SortValues {
                    start_time: prev.start_time,
                    end_time: prev.end_time,
                };
                if compare(&chat, prev.id, &s, &keys) != Ordering::Greater {
                    return Err(PagingError::OutOfOrder { id: chat.id });
                }
            }
            if !self.seen.insert(chat.id) {
                repeats += 1;
                continue;
            }
            taken.push(chat);
        }
        self.repeats += repeats as u64;
        self.duplicates += repeated.len() as u64;
        for anomaly in repeated {
            self.note(anomaly);
        }
        let w = &mut self.windows[index];
        w.after = count_known.then(|| envelope.count.saturating_sub(received));
        let answered_before = std::mem::replace(&mut w.answered, true);
        w.size = None;

        if let Some(last) = taken.last() {
            let cursor = Cursor::at(last);
            if !w.nulls {
                if let (Some(a), Some(b)) =
                    (taken.first().and_then(|c| c.start_time), last.start_time)
                {
                    if taken.len() >= 2 {
                        let span = (b - a).num_milliseconds().max(1) as f64;
                        let d = (taken.len() - 1) as f64 / span;
                        w.density = Some(d);
                        self.density = Some(d);
                    }
                }
            }
            w.cursor = Some(cursor);
            w.mode = Mode::Keyset;
            w.stuck = 0;
            let lost = w.lost.take();
            if let Some(cursor) = lost {
                self.note(Anomaly::CursorLost { cursor });
            }
            if let Some(a) = count_changed {
                self.note(a);
            }
            let w = &mut self.windows[index];
            let page = envelope.with_results(taken);
            match self.options.delivery {
                Delivery::Ordered => w.held.push_back((page, cursor)),
                Delivery::Unordered => self.ready.push_back((page, cursor, w.id)),
            }
            let w = &mut self.windows[index];
            if past {
                w.end = Some(End::Bound);
            } else if !says_more {
                self.exhausted(index, ask);
            }
            return Ok(());
        }

        // Nothing new in this answer.
        if past {
            w.end = Some(End::Bound);
            return Ok(());
        }
        let cursor = w.cursor;
        let cursor_id = cursor.map_or(Uuid::nil(), |c| c.id);
        let can_reanchor = self.windowed && cursor.is_some_and(|c| c.sort.is_some());
        if repeats > 0 {
            if !says_more {
                // Everything from here on was taken already.
                self.exhausted(index, ask);
                return Ok(());
            }
            // A full answer of chats at or before the cursor: the server ignored `since_id`,
            // or the chats sharing the cursor's start time fill pages while re-anchoring.
            let next = match w.mode {
                Mode::Reanchor { probe } if probe != last_repeat => {
                    // The probe moves on through the chats sharing the cursor's start time.
                    w.stuck = 0;
                    Mode::Reanchor { probe: last_repeat }
                }
                Mode::Keyset if can_reanchor => Mode::Reanchor { probe: None },
                // The same answer again: ask again, a few times.
                same => same,
            };
            if next == w.mode || w.mode == Mode::Keyset {
                w.stuck += 1;
            }
            if w.stuck > MAX_STUCK {
                return Err(PagingError::CursorStuck { cursor: cursor_id });
            }
            if w.mode == Mode::Keyset && next != Mode::Keyset && !saw_cursor {
                // Only chats before the cursor, and not the cursor itself: it may be gone.
                w.lost = Some(cursor_id);
            }
            w.mode = next;
            return Ok(());
        }
        if ask.since.is_some() && (says_more || answered_before) {
            // Empty right after a cursor that was promised followers: the cursor chat (or the
            // probe) vanished, and the server answered as if nothing followed it.
            w.stuck += 1;
            if !can_reanchor {
                return Err(PagingError::CursorVanished { cursor: cursor_id });
            }
            if w.stuck > MAX_STUCK {
                return Err(PagingError::CursorStuck { cursor: cursor_id });
            }
            if w.mode == Mode::Keyset {
                w.lost = Some(cursor_id);
            }
            w.mode = Mode::Reanchor { probe: None };
            w.after = None;
            return Ok(());
        }
        if says_more {
            // Nothing at all, yet more is said to follow: ask again, a few times.
            w.stuck += 1;
            if w.stuck > MAX_STUCK {
                return Err(PagingError::EmptyButMore {
                    count: envelope.count,
                });
            }
            return Ok(());
        }
        self.exhausted(index, ask);
        Ok(())
    }

    /// Ends a window whose listing has nothing after its cursor. A window that also covers
    /// the chats without a start time, re-anchored with a `start_time` filter (which leaves
    /// them out), is split instead: its timed part ends just after the cursor, and the chats
    /// without a start time get their window, as when the first window splits.
    pub(super) fn exhausted(&mut self, index: usize, ask: Ask) {
        if let Some(cursor) = self.windows[index].lost.take() {
            self.note(Anomaly::CursorLost { cursor });
        }
        let w = &mut self.windows[index];
        let covers_nulls = !w.nulls && w.lo.is_none() && w.hi.is_none();
        let at = w
            .cursor
            .and_then(|c| c.start_time())
            .map(|t| floor_ms(t) + TimeDelta::milliseconds(1));
        match at {
            Some(at) if ask.by_time && covers_nulls => {
                w.hi = Some(at);
                w.end = Some(End::Bound);
                let timed = Window::new(self.next_window, Some(at), None, false, None);
                let nulls = Window::new(self.next_window + 1, None, None, true, None);
                self.next_window += 2;
                self.windows.insert(index + 1, timed);
                self.windows.push(nulls);
            }
            _ => w.end = Some(End::Exhausted),
        }
    }

    pub(super) fn note(&mut self, anomaly: Anomaly) {
        if !self.anomalies.contains(&anomaly) && self.anomalies.len() < 100 {
            self.anomalies.push(anomaly);
        }
    }
}

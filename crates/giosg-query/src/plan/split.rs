//! Splitting: where a window with enough chats left is cut in two, so that an idle request
//! slot has work.

use super::window::{floor_ms, Mode, Window};
use super::Delivery;
use super::Planner;
use chrono::{DateTime, TimeDelta, Utc};

impl Planner {
    /// Splits a window with enough chats left, when a request slot is idle; returns the new
    /// window's index.
    pub(super) fn split(&mut self) -> Option<usize> {
        if !self.windowed || self.options.limit.is_some() {
            return None;
        }
        let page = f64::from(self.page_size);
        let end_time = self.list.filter().end_time;
        let (index, at) = match self.options.delivery {
            Delivery::Unordered => {
                let mut best: Option<(usize, DateTime<Utc>, f64)> = None;
                for (i, w) in self.windows.iter().enumerate() {
                    let Some((at, left)) = self.split_point(w, None) else {
                        continue;
                    };
                    if left >= 2.0 * page && best.is_none_or(|(_, _, l)| left > l) {
                        best = Some((i, at, left));
                    }
                }
                let (i, at, _) = best?;
                (i, at)
            }
            Delivery::Ordered => {
                // Open one window just ahead: split the last timed window, about half of
                // `pages_ahead` pages on from its cursor.
                // At most `concurrency` windows fetch, and none opens while half the pages
                // they may hold are held already: memory stays bounded (by 1.5 ×
                // `concurrency × pages_ahead` pages) however slowly pages are taken, and
                // windows that ended holding pages leave their request slot to a new one.
                let active = self.windows.iter().filter(|w| w.end.is_none()).count();
                let held: usize = self.windows.iter().map(|w| w.held.len()).sum();
                let budget = self.options.concurrency * self.options.pages_ahead;
                if active >= self.options.concurrency || 2 * held >= budget {
                    return None;
                }
                let i = self.windows.iter().rposition(|w| !w.nulls)?;
                let ahead = page * (self.options.pages_ahead as f64 / 2.0).max(1.0);
                let (at, left) = self.split_point(&self.windows[i], Some(ahead))?;
                if left <= ahead {
                    return None;
                }
                (i, at)
            }
        };
        let at = match end_time {
            Some(end) if at >= end => return None,
            _ => at,
        };
        let density = self.windows[index].density.or(self.density).unwrap_or(0.0);
        let w = &mut self.windows[index];
        let covered_nulls = w.lo.is_none() && w.hi.is_none() && !w.nulls;
        // What an open-ended window is thought to hold past the split, until it answers.
        let left = w.after.map(|a| a as f64).or(w.estimate);
        let from = w.cursor.and_then(|c| c.start_time()).or(w.lo);
        let moved = from.map_or(0.0, |f| (at - f).num_milliseconds() as f64 * density);
        let hi = w.hi.replace(at);
        let mut fresh = Window::new(self.next_window, Some(at), hi, false, None);
        if hi.is_none() {
            fresh.estimate = left.map(|l| (l - moved).max(0.0));
        }
        self.next_window += 1;
        self.windows.insert(index + 1, fresh);
        if covered_nulls {
            self.windows
                .push(Window::new(self.next_window, None, None, true, None));
            self.next_window += 1;
        }
        Some(index + 1)
    }

    /// Where a window could be split, and how many chats it has left (an estimate): half-way
    /// through what is left, or `ahead` chats on from its cursor (from its start, before its
    /// first answer).
    pub(super) fn split_point(
        &self,
        w: &Window,
        ahead: Option<f64>,
    ) -> Option<(DateTime<Utc>, f64)> {
        if w.end.is_some() || w.nulls || w.mode != Mode::Keyset {
            return None;
        }
        let from = match w.cursor {
            Some(c) => c.start_time()?,
            None => w.lo?,
        };
        let density = w.density.or(self.density)?;
        let left = match (w.hi, w.after) {
            (Some(hi), _) => (hi - from).num_milliseconds() as f64 * density,
            (None, Some(after)) => after as f64,
            (None, None) => w.estimate?,
        };
        let chats = ahead.unwrap_or(left / 2.0);
        let ms = (chats / density).clamp(1.0, 1e15);
        let at = floor_ms(from.checked_add_signed(TimeDelta::milliseconds(ms as i64))?);
        let at = if at <= from {
            floor_ms(from) + TimeDelta::milliseconds(1)
        } else {
            at
        };
        if w.hi.is_some_and(|hi| at >= hi) {
            return None;
        }
        Some((at, left))
    }
}

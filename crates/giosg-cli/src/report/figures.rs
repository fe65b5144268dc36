//! The report's figures: the summary's, computed by the summary itself (so that both show
//! the same numbers), and what only the report shows.

use crate::error::{CliError, Failure};
use crate::summary::Summary;
use chrono::{Datelike, NaiveDate, Timelike};
use giosg_async::{Chat, DateTime, Decimal, MessageType, SenderType, Utc};
use std::collections::{BTreeMap, HashMap};

/// Everything the report shows.
#[derive(Debug, Default)]
pub(crate) struct Figures {
    /// The summary's figures (totals, messages per chat, per day, per room, names).
    pub summary: Summary,
    /// Chats started per weekday (Monday first) and hour, UTC.
    pub heat: [[u64; 24]; 7],
    /// Chats per tag.
    pub tags: BTreeMap<String, u64>,
    /// Per operator (by user id, else the name shown in their messages).
    pub operators: HashMap<String, Operator>,
    /// Purchased carts' totals per currency and day (UTC), never summed across currencies.
    pub sales_per_day: BTreeMap<String, BTreeMap<NaiveDate, Decimal>>,
    /// The first and last start times: the period the report covers.
    pub period: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// One operator's figures.
#[derive(Debug, Default, Clone)]
pub(crate) struct Operator {
    /// Chats they wrote a message in.
    pub conversations: u64,
    /// Messages they wrote.
    pub messages: u64,
    /// The name shown in their last message.
    pub shown: Option<String>,
    /// For each chat they answered first: milliseconds from the visitor's first message to
    /// their first message after it.
    pub first_responses: Vec<i64>,
}

impl Operator {
    /// The median first response in seconds (the mean of the two middle ones for an even
    /// count).
    pub(crate) fn median_first_response(&self) -> Option<f64> {
        let mut waits = self.first_responses.clone();
        if waits.is_empty() {
            return None;
        }
        waits.sort_unstable();
        let n = waits.len();
        Some((waits[(n - 1) / 2] + waits[n / 2]) as f64 / 2000.0)
    }
}

impl Figures {
    /// Counts one chat in; sales are summed exactly (an overflow is an error, as in the
    /// summary).
    pub(crate) fn add(&mut self, chat: &Chat) -> Result<(), CliError> {
        self.summary.add(chat)?;
        if let Some(start) = chat.start_time {
            let weekday = start.weekday().num_days_from_monday() as usize;
            self.heat[weekday][start.hour() as usize] += 1;
            self.period = Some(match self.period {
                None => (start, start),
                Some((a, b)) => (a.min(start), b.max(start)),
            });
        }
        for tag in chat.tags.iter().filter_map(|t| t.name.clone()) {
            *self.tags.entry(tag).or_default() += 1;
        }
        let is_message = |l: &&giosg_async::ChatLog, who: SenderType| {
            l.sender_type == Some(who) && l.message_type == Some(MessageType::Message)
        };
        let key = |l: &giosg_async::ChatLog| l.sender_id.clone().or_else(|| l.display_name.clone());
        let mut wrote: HashMap<String, Option<String>> = HashMap::new();
        for log in chat
            .logs
            .iter()
            .filter(|l| is_message(l, SenderType::Operator))
        {
            let Some(k) = key(log) else { continue };
            self.operators.entry(k.clone()).or_default().messages += 1;
            let shown = wrote.entry(k).or_default();
            if log.display_name.is_some() {
                shown.clone_from(&log.display_name);
            }
        }
        for (k, shown) in wrote {
            let op = self.operators.entry(k).or_default();
            op.conversations += 1;
            if shown.is_some() {
                op.shown = shown;
            }
        }
        // The first response: from the visitor's first message to the first operator message
        // after it, credited to the operator who wrote it.
        let asked = chat
            .logs
            .iter()
            .filter(|l| is_message(l, SenderType::Visitor))
            .filter_map(|l| l.created_at)
            .min();
        if let Some(asked) = asked {
            let answer = chat
                .logs
                .iter()
                .filter(|l| is_message(l, SenderType::Operator))
                .filter_map(|l| Some((l.created_at?, key(l)?)))
                .filter(|(t, _)| *t > asked)
                .min_by_key(|(t, _)| *t);
            if let Some((at, k)) = answer {
                let op = self.operators.entry(k).or_default();
                op.first_responses.push((at - asked).num_milliseconds());
            }
        }
        if let Some(start) = chat.start_time {
            let totals = chat.sales_totals().map_err(|e| CliError::overflow(&e))?;
            for (currency, total) in totals {
                let day = self
                    .sales_per_day
                    .entry(currency.clone())
                    .or_default()
                    .entry(start.date_naive())
                    .or_default();
                *day = day.checked_add(total).ok_or_else(|| {
                    CliError::new(
                        Failure::BadResponse,
                        format!(
                            "the sales in {:?} on {} total more than a decimal holds: no total is given rather than a wrong one",
                            giosg_async::printable(&currency),
                            start.date_naive()
                        ),
                    )
                })?;
            }
        }
        Ok(())
    }
}

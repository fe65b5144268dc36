//! `giosg chats summary`: counts, sales totals, messages per chat and a chats-per-day chart,
//! computed in one streaming pass (memory grows with distinct days and message counts, not
//! with chats).

use crate::args::SummaryArgs;
use crate::connect;
use crate::error::CliError;
use chrono::{Datelike, Days, Months, NaiveDate};
use futures_util::TryStreamExt;
use giosg_async::{Chat, Decimal};
use giosg_async::{ChatFilter, Client, Uuid};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The widest bar of the chart, in terminal cells.
const BAR_WIDTH: usize = 40;
/// The most rows the chart draws before it groups days into weeks, then weeks into months.
const MAX_ROWS: i64 = 62;

/// Runs `giosg chats summary`.
pub(crate) async fn run(args: &SummaryArgs) -> Result<(), CliError> {
    let filter = args.filter.to_filter_from(args.page)?;
    let summary = match &args.db {
        Some(db) => offline(db, args.api.org, &filter)?,
        None => {
            let client = connect::client(&args.api)?;
            collect(&client, args.api.org, filter, args.concurrency.into()).await?
        }
    };
    let mut out = io::stdout().lock();
    summary
        .render(&mut out)
        .and_then(|()| out.flush())
        .or_else(|e| match e.kind() {
            io::ErrorKind::BrokenPipe => Ok(()),
            _ => Err(CliError::io("cannot write to stdout", &e)),
        })
}

/// The figures of the chats a store holds that the server still serves, offline.
pub(crate) fn offline(
    db: &std::path::Path,
    org: Uuid,
    filter: &ChatFilter,
) -> Result<Summary, CliError> {
    if !db.exists() {
        return Err(CliError::usage(format!(
            "{}: no such database; create it with `giosg chats sync --db`",
            db.display()
        )));
    }
    let store = crate::sync::open(db, org, filter)?;
    let mut summary = Summary::default();
    store
        .for_each_live(|chat| summary.add(&chat))
        .map_err(|e| crate::sync::store_error(db, &e))?;
    Ok(summary)
}

/// Streams every matching chat into a [`Summary`].
pub(crate) async fn collect(
    client: &Client,
    org: Uuid,
    filter: ChatFilter,
    concurrency: usize,
) -> Result<Summary, CliError> {
    tracing::debug!(%org, ?filter, "summarising chats");
    let mut chats = client.chats(org).filter(filter).concurrency(concurrency);
    if concurrency > 1 {
        chats = chats.unordered();
    }
    let mut chats = chats.stream();
    let mut summary = Summary::default();
    while let Some(chat) = chats
        .try_next()
        .await
        .map_err(|e| CliError::from_giosg(&e, Some(org)))?
    {
        summary.add(&chat);
    }
    crate::warn::completeness(&chats.completeness());
    Ok(summary)
}

/// The figures of a set of chats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    /// How many chats.
    pub chats: u64,
    /// How many are real conversations.
    pub real: u64,
    /// How many have ended.
    pub ended: u64,
    /// How many have a purchased cart.
    pub with_sales: u64,
    /// Purchased carts' totals per currency.
    pub sales: BTreeMap<String, Decimal>,
    /// How many chats had each message count.
    pub messages: BTreeMap<u64, u64>,
    /// How many chats started on each day (UTC).
    pub per_day: BTreeMap<NaiveDate, u64>,
    /// Chats without a start time.
    pub undated: u64,
}

impl Summary {
    /// Counts one chat in.
    pub(crate) fn add(&mut self, chat: &Chat) {
        self.chats += 1;
        self.real += u64::from(chat.is_real_conversation == Some(true));
        self.ended += u64::from(chat.is_ended());
        self.with_sales += u64::from(chat.has_sales());
        for (currency, total) in chat.sales_totals() {
            *self.sales.entry(currency).or_default() += total;
        }
        let messages = chat.message_count.unwrap_or(chat.logs.len() as u64);
        *self.messages.entry(messages).or_default() += 1;
        match chat.start_time {
            Some(t) => *self.per_day.entry(t.date_naive()).or_default() += 1,
            None => self.undated += 1,
        }
    }

    /// The nearest-rank percentile `p` (0 to 100) of messages per chat.
    pub(crate) fn messages_percentile(&self, p: u64) -> Option<u64> {
        let n: u64 = self.messages.values().sum();
        if n == 0 {
            return None;
        }
        let rank = (p * n).div_ceil(100).max(1);
        let mut seen = 0;
        self.messages.iter().find_map(|(&value, &count)| {
            seen += count;
            (seen >= rank).then_some(value)
        })
    }

    /// Writes the summary as text, with the chart.
    pub(crate) fn render(&self, out: &mut impl Write) -> io::Result<()> {
        let share = |n: u64| {
            if self.chats == 0 {
                String::new()
            } else {
                format!(" ({:.1}%)", n as f64 * 100.0 / self.chats as f64)
            }
        };
        writeln!(out, "chats                {:>8}", self.chats)?;
        writeln!(
            out,
            "real conversations   {:>8}{}",
            self.real,
            share(self.real)
        )?;
        writeln!(
            out,
            "ended                {:>8}{}",
            self.ended,
            share(self.ended)
        )?;
        writeln!(
            out,
            "with sales           {:>8}{}",
            self.with_sales,
            share(self.with_sales)
        )?;
        if self.sales.is_empty() {
            writeln!(out, "sales totals             none")?;
        }
        for (i, (currency, total)) in self.sales.iter().enumerate() {
            let label = if i == 0 { "sales totals" } else { "" };
            // The currency is the API's text: its control characters are escaped.
            let currency = giosg_async::printable(currency);
            writeln!(out, "{label:<20} {total:>8} {currency}")?;
        }
        match (self.messages_percentile(50), self.messages_percentile(90)) {
            (Some(median), Some(p90)) => {
                writeln!(out, "messages per chat    median {median}, p90 {p90}")?
            }
            _ => writeln!(out, "messages per chat    -")?,
        }
        self.render_chart(out)
    }

    /// The chats-per-day bar chart (per week or month over long spans).
    fn render_chart(&self, out: &mut impl Write) -> io::Result<()> {
        let (Some(&first), Some(&last)) =
            (self.per_day.keys().next(), self.per_day.keys().next_back())
        else {
            return Ok(());
        };
        let span = (last - first).num_days() + 1;
        let unit = if span <= MAX_ROWS {
            Unit::Day
        } else if span / 7 < MAX_ROWS {
            Unit::Week
        } else {
            Unit::Month
        };
        let mut rows: Vec<(NaiveDate, u64)> = Vec::new();
        let mut bucket = unit.start(first);
        while bucket <= last {
            rows.push((bucket, 0));
            bucket = unit.next(bucket);
        }
        for (&day, &count) in &self.per_day {
            let start = unit.start(day);
            if let Some(row) = rows.iter_mut().find(|(b, _)| *b == start) {
                row.1 += count;
            }
        }
        let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
        writeln!(out)?;
        writeln!(out, "chats per {} (UTC)", unit.name())?;
        for (bucket, count) in rows {
            writeln!(
                out,
                "{}  {} {count}",
                unit.label(bucket),
                bar(count, max, BAR_WIDTH)
            )?;
        }
        if self.undated > 0 {
            writeln!(out, "(and {} chats without a start time)", self.undated)?;
        }
        Ok(())
    }
}

/// The chart's time unit.
#[derive(Debug, Clone, Copy)]
enum Unit {
    /// One row per day.
    Day,
    /// One row per week, from Monday.
    Week,
    /// One row per month.
    Month,
}

impl Unit {
    /// The unit's name in the chart's title.
    fn name(self) -> &'static str {
        match self {
            Unit::Day => "day",
            Unit::Week => "week",
            Unit::Month => "month",
        }
    }

    /// The first day of the bucket holding `day` (weeks start on Monday).
    fn start(self, day: NaiveDate) -> NaiveDate {
        match self {
            Unit::Day => day,
            Unit::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
            Unit::Month => day.with_day(1).expect("every month has a first day"),
        }
    }

    /// The first day of the next bucket.
    fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Unit::Day => start + Days::new(1),
            Unit::Week => start + Days::new(7),
            Unit::Month => start + Months::new(1),
        }
    }

    /// The row's label, all of one width.
    fn label(self, start: NaiveDate) -> String {
        match self {
            Unit::Day | Unit::Week => start.format("%Y-%m-%d").to_string(),
            Unit::Month => format!("{}   ", start.format("%Y-%m")),
        }
    }
}

/// A bar of `count` out of `max` in `width` cells, in eighths of a cell, padded to the width.
fn bar(count: u64, max: u64, width: usize) -> String {
    const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let eighths = (count * width as u64 * 8).div_ceil(max) as usize;
    let mut s = "█".repeat(eighths / 8);
    if eighths % 8 > 0 {
        s.push(EIGHTHS[eighths % 8]);
    }
    let cells = s.chars().count();
    s.extend(std::iter::repeat_n(' ', width.saturating_sub(cells)));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use giosg_async::time::parse;

    fn chat(n: u128, start: &str, messages: u64) -> Chat {
        let mut chat = Chat::new(Uuid::from_u128(n));
        chat.start_time = Some(parse(start).unwrap());
        chat.message_count = Some(messages);
        chat
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut s = Summary::default();
        for (i, m) in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].into_iter().enumerate() {
            s.add(&chat(i as u128, "2025-01-01T00:00:00", m));
        }
        assert_eq!(s.messages_percentile(50), Some(5));
        assert_eq!(s.messages_percentile(90), Some(9));
        assert_eq!(Summary::default().messages_percentile(50), None);
    }

    #[test]
    fn bars_scale_to_the_widest() {
        assert_eq!(bar(4, 4, 4), "████");
        assert_eq!(bar(2, 4, 4), "██  ");
        assert_eq!(bar(1, 16, 4), "▎   ");
        assert_eq!(bar(0, 4, 4), "    ");
    }

    #[test]
    fn long_spans_are_charted_per_week_or_month() {
        let mut s = Summary::default();
        s.add(&chat(1, "2025-01-01T00:00:00", 1));
        s.add(&chat(2, "2025-04-01T00:00:00", 1));
        let mut out = Vec::new();
        s.render(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("chats per week"), "{text}");
        s.add(&chat(3, "2027-01-01T00:00:00", 1));
        let mut out = Vec::new();
        s.render(&mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("chats per month"));
    }
}

//! `giosg chats summary`: counts, sales totals, messages per chat and a chats-per-day chart,
//! computed in one streaming pass (memory grows with distinct days and message counts, not
//! with chats).

use crate::args::SummaryArgs;
use crate::connect;
use crate::error::{CliError, Failure};
use chrono::{Datelike, Days, Months, NaiveDate};
use futures_util::TryStreamExt;
use giosg_async::{Chat, Decimal};
use giosg_async::{ChatFilter, Client, Uuid};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

/// The widest bar of the chart, in terminal cells.
const BAR_WIDTH: usize = 40;
/// The most rows the chart draws: days are grouped into weeks, months, then years to fit, and
/// over longer spans only the latest years with chats are drawn.
const MAX_ROWS: i64 = 62;

/// Runs `giosg chats summary`.
pub(crate) async fn run(args: &SummaryArgs) -> Result<(), CliError> {
    let filter = args.filter.to_filter_from(args.page)?;
    let summary = match &args.db {
        Some(db) => offline(
            &connect::location(db, args.db_schema.as_deref())?,
            args.api.org,
            &filter,
        )?,
        None => {
            let client = connect::client(&args.api)?;
            let org = connect::org(&args.api, &client).await?;
            let mut summary = collect(&client, org, filter, args.concurrency.into()).await?;
            summary.names = Names::read(&client, org).await;
            summary
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

/// The figures of the chats a store holds that the server still serves and that `filter`
/// selects, offline: the file is opened read-only, and its organisation is its own (`org`, when
/// given, must be it).
pub(crate) fn offline(
    db: &giosg_sync::Location,
    org: Option<Uuid>,
    filter: &ChatFilter,
) -> Result<Summary, CliError> {
    let mut summary = Summary::default();
    summary.names = each_stored(db, org, filter, |chat| summary.add(chat))?;
    Ok(summary)
}

/// Calls `f` with each chat a copy holds that the server still serves and that `filter`
/// selects, offline (the copy opened read-only; its organisation is its own, and `org`, when
/// given, must be it); returns the rooms' and users' names it holds. The first error of `f`
/// ends it.
pub(crate) fn each_stored(
    db: &giosg_sync::Location,
    org: Option<Uuid>,
    filter: &ChatFilter,
    mut f: impl FnMut(&Chat) -> Result<(), CliError>,
) -> Result<Names, CliError> {
    if db.path().is_some_and(|path| !path.exists()) {
        return Err(CliError::usage(format!(
            "{db}: no such database; create it with `giosg chats sync --db`"
        )));
    }
    if filter.page.is_some() || filter.since_id.is_some() || filter.ordering.is_some() {
        return Err(CliError::usage(
            "--page, --since-id and --ordering page the API: a summary of --db takes the other filters",
        ));
    }
    let store = giosg_sync::Store::open_read_only(db).map_err(|e| CliError::store(db, &e))?;
    let holds = store.organisation().map_err(|e| CliError::store(db, &e))?;
    if let (Some(org), Some(holds)) = (org, &holds) {
        if org.to_string() != *holds {
            return Err(CliError::usage(format!(
                "{db} holds the chats of organisation {holds}, not {org}: leave out --org, or give the database of {org}"
            )));
        }
    }
    let names = Names {
        rooms: std::sync::Arc::new(
            store
                .room_names()
                .map_err(|e| CliError::store(db, &e))?
                .into_iter()
                .filter_map(|(id, name)| Some((Uuid::parse_str(&id).ok()?, name)))
                .collect(),
        ),
        users: store.user_names().map_err(|e| CliError::store(db, &e))?,
    };
    let mut failed = None;
    store
        .for_each_live(|chat| {
            if failed.is_none() && giosg_async::query::matches(filter, &chat) {
                failed = f(&chat).err();
            }
        })
        .map_err(|e| CliError::store(db, &e))?;
    match failed {
        Some(e) => Err(e),
        None => Ok(names),
    }
}

/// Counts by name, rows of one name merged, sorted by count (most first), ties by name.
pub(crate) fn ranked(rows: impl IntoIterator<Item = (String, u64)>) -> Vec<(String, u64)> {
    let mut merged: BTreeMap<String, u64> = BTreeMap::new();
    for (name, n) in rows {
        *merged.entry(name).or_default() += n;
    }
    let mut rows: Vec<(String, u64)> = merged.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows
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
        summary.add(&chat)?;
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
    /// Chats per room (by id; `None`: no room).
    pub per_room: HashMap<Option<Uuid>, u64>,
    /// Per operator (by user id, else the name shown): the chats they wrote in, and the name
    /// shown in the last of them.
    pub operators: HashMap<String, (u64, Option<String>)>,
    /// Rooms' and users' names, to show them by name.
    pub names: Names,
}

/// Rooms' and users' names by id, to show figures by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Names {
    /// Rooms' names to show.
    pub rooms: giosg_sync::format::RoomNames,
    /// Users' full names, by user id (as text: a message's `sender_id`).
    pub users: HashMap<String, String>,
}

impl Names {
    /// The rooms and users of `org`, read once (deleted ones included); what cannot be read is
    /// said once on stderr, and shown by id.
    pub(crate) async fn read(client: &Client, org: Uuid) -> Names {
        let rooms = crate::list::room_names(client, org).await;
        let users: Result<Vec<giosg_async::User>, _> = client
            .users(org)
            .include_deleted(true)
            .stream()
            .try_collect()
            .await;
        let mut names = Names {
            rooms,
            users: HashMap::new(),
        };
        match users {
            Ok(users) => {
                names.users = users
                    .into_iter()
                    .filter_map(|u| Some((u.id.to_string(), u.full_name?)))
                    .collect();
            }
            Err(e) => crate::warn::say(&format!(
                "the users could not be read ({}); operators are shown by the name in their messages",
                e.display_chain()
            )),
        }
        names
    }
}

impl Summary {
    /// Counts one chat in. Sales are summed exactly: a chat whose carts, or the chats so far
    /// with it, total more than a decimal holds in a currency is an error naming it (and the
    /// summary is left as it was), never a wrong figure.
    pub(crate) fn add(&mut self, chat: &Chat) -> Result<(), CliError> {
        let totals = chat.sales_totals().map_err(|e| CliError::overflow(&e))?;
        let mut sales = Vec::with_capacity(totals.len());
        for (currency, total) in totals {
            let sum = self.sales.get(&currency).copied().unwrap_or_default();
            let Some(sum) = sum.checked_add(total) else {
                return Err(CliError::new(
                    Failure::BadResponse,
                    format!(
                        "bad response from the API: the sales in {currency:?} of the chats up to chat {} total more than a decimal holds (±{}): no total is given rather than a wrong one; summarise fewer chats with the filters",
                        chat.id,
                        Decimal::MAX
                    ),
                ));
            };
            sales.push((currency, sum));
        }
        self.sales.extend(sales);
        self.chats += 1;
        self.real += u64::from(chat.is_real_conversation == Some(true));
        self.ended += u64::from(chat.is_ended());
        self.with_sales += u64::from(chat.has_sales());
        let messages = chat.message_count.unwrap_or(chat.logs.len() as u64);
        *self.messages.entry(messages).or_default() += 1;
        match chat.start_time {
            Some(t) => *self.per_day.entry(t.date_naive()).or_default() += 1,
            None => self.undated += 1,
        }
        *self.per_room.entry(chat.room_id).or_default() += 1;
        let mut wrote: HashMap<String, Option<String>> = HashMap::new();
        for log in &chat.logs {
            if log.sender_type != Some(giosg_async::SenderType::Operator) {
                continue;
            }
            let Some(key) = log.sender_id.clone().or_else(|| log.display_name.clone()) else {
                continue;
            };
            let shown = wrote.entry(key).or_default();
            if log.display_name.is_some() {
                shown.clone_from(&log.display_name);
            }
        }
        for (key, shown) in wrote {
            let entry = self.operators.entry(key).or_default();
            entry.0 += 1;
            if shown.is_some() {
                entry.1 = shown;
            }
        }
        Ok(())
    }

    /// The rows of a by-name section: the ten largest counts, ties by name.
    fn top(rows: impl IntoIterator<Item = (String, u64)>) -> Vec<(String, u64)> {
        let mut rows = ranked(rows);
        rows.truncate(10);
        rows
    }

    /// Chats per room and the operators with the most chats, by name.
    fn render_names(&self, out: &mut impl Write) -> io::Result<()> {
        if self.chats == 0 {
            return Ok(());
        }
        let rooms = Self::top(self.per_room.iter().map(|(room, &n)| {
            let name = match room {
                None => "(no room)".to_owned(),
                Some(id) => self
                    .names
                    .rooms
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| id.to_string()),
            };
            (name, n)
        }));
        writeln!(out, "chats per room")?;
        for (name, n) in rooms {
            writeln!(out, "  {:<32} {n:>8}", giosg_async::printable(&name))?;
        }
        if self.operators.is_empty() {
            return Ok(());
        }
        let operators = Self::top(self.operators.iter().map(|(key, (n, shown))| {
            let name = self
                .names
                .users
                .get(key)
                .cloned()
                .or_else(|| shown.clone())
                .unwrap_or_else(|| key.clone());
            (name, *n)
        }));
        writeln!(out, "operators, by the chats they wrote in")?;
        for (name, n) in operators {
            writeln!(out, "  {:<32} {n:>8}", giosg_async::printable(&name))?;
        }
        Ok(())
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
        self.render_names(out)?;
        self.render_chart(out)
    }

    /// The chats-per-day bar chart: per week, month or year over longer spans, and never more
    /// than [`MAX_ROWS`] rows, whatever the dates (a chat in year 1 and one in 9999, say).
    ///
    /// The finest unit whose span fits in [`MAX_ROWS`] rows draws every bucket of the span,
    /// empty ones included. Over a span longer than [`MAX_ROWS`] years, only the years with
    /// chats are drawn, the latest [`MAX_ROWS`] of them, and a last line says what was left
    /// out. Counting is one pass over the days with chats into a map by bucket, and each row
    /// is one lookup in it.
    fn render_chart(&self, out: &mut impl Write) -> io::Result<()> {
        let (Some(&first), Some(&last)) =
            (self.per_day.keys().next(), self.per_day.keys().next_back())
        else {
            return Ok(());
        };
        let unit = [Unit::Day, Unit::Week, Unit::Month]
            .into_iter()
            .find(|u| u.rows(first, last) <= MAX_ROWS)
            .unwrap_or(Unit::Year);
        let mut buckets: HashMap<NaiveDate, u64> = HashMap::new();
        for (&day, &count) in &self.per_day {
            *buckets.entry(unit.start(day)).or_default() += count;
        }
        let (rows, left_out): (Vec<Row>, Vec<Row>) = if unit.rows(first, last) <= MAX_ROWS {
            let mut rows: Vec<Row> = Vec::new();
            let mut bucket = Some(unit.start(first));
            while let Some(b) = bucket.filter(|b| *b <= last) {
                rows.push((b, buckets.get(&b).copied().unwrap_or(0)));
                bucket = unit.next(b);
            }
            (rows, Vec::new())
        } else {
            let mut years: Vec<Row> = buckets.into_iter().collect();
            years.sort_unstable();
            let cut = years.len().saturating_sub(MAX_ROWS as usize);
            let rows = years.split_off(cut);
            (rows, years)
        };
        let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
        writeln!(out)?;
        if rows.len() as i64 == unit.rows(first, last) {
            writeln!(out, "chats per {} (UTC)", unit.name())?;
        } else {
            writeln!(
                out,
                "chats per {} (UTC; years without chats left out)",
                unit.name()
            )?;
        }
        if let (Some(oldest), Some(newest)) = (left_out.first(), left_out.last()) {
            let chats: u64 = left_out.iter().map(|r| r.1).sum();
            writeln!(
                out,
                "(left out: {} earlier years with chats, {} to {}, holding {chats} chats)",
                left_out.len(),
                oldest.0.format("%Y"),
                newest.0.format("%Y")
            )?;
        }
        for (bucket, count) in rows {
            writeln!(
                out,
                "{}  {} {count}",
                unit.label(bucket),
                bar(count, max, BAR_WIDTH)
            )?;
        }
        if self.undated > 0 {
            let s = if self.undated == 1 { "" } else { "s" };
            writeln!(out, "(and {} chat{s} without a start time)", self.undated)?;
        }
        Ok(())
    }
}

/// A row of the chart: the first day of its bucket, and how many chats started in it.
type Row = (NaiveDate, u64);

/// The chart's time unit.
#[derive(Debug, Clone, Copy)]
enum Unit {
    /// One row per day.
    Day,
    /// One row per week, from Monday.
    Week,
    /// One row per month.
    Month,
    /// One row per year.
    Year,
}

impl Unit {
    /// The unit's name in the chart's title.
    fn name(self) -> &'static str {
        match self {
            Unit::Day => "day",
            Unit::Week => "week",
            Unit::Month => "month",
            Unit::Year => "year",
        }
    }

    /// The first day of the bucket holding `day` (weeks start on Monday).
    fn start(self, day: NaiveDate) -> NaiveDate {
        let first = match self {
            Unit::Day => Some(day),
            Unit::Week => {
                day.checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))
            }
            Unit::Month => day.with_day(1),
            Unit::Year => NaiveDate::from_ymd_opt(day.year(), 1, 1),
        };
        // Only a week before the first representable date has no start: it starts there.
        first.unwrap_or(day)
    }

    /// The first day of the next bucket, `None` past the last representable date.
    fn next(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            Unit::Day => start.checked_add_days(Days::new(1)),
            Unit::Week => start.checked_add_days(Days::new(7)),
            Unit::Month => start.checked_add_months(Months::new(1)),
            Unit::Year => start.checked_add_months(Months::new(12)),
        }
    }

    /// How many rows the buckets from `first`'s to `last`'s take, counted without walking
    /// them.
    fn rows(self, first: NaiveDate, last: NaiveDate) -> i64 {
        let (a, b) = (self.start(first), self.start(last));
        let months = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
        match self {
            Unit::Day => (b - a).num_days() + 1,
            Unit::Week => (b - a).num_days() / 7 + 1,
            Unit::Month => months(b) - months(a) + 1,
            Unit::Year => i64::from(b.year()) - i64::from(a.year()) + 1,
        }
    }

    /// The row's label, all of one width.
    fn label(self, start: NaiveDate) -> String {
        match self {
            Unit::Day | Unit::Week => start.format("%Y-%m-%d").to_string(),
            Unit::Month => format!("{:<10}", start.format("%Y-%m").to_string()),
            Unit::Year => format!("{:<10}", start.format("%Y").to_string()),
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
            s.add(&chat(i as u128, "2025-01-01T00:00:00", m)).unwrap();
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
        s.add(&chat(1, "2025-01-01T00:00:00", 1)).unwrap();
        s.add(&chat(2, "2025-04-01T00:00:00", 1)).unwrap();
        let mut out = Vec::new();
        s.render(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("chats per week"), "{text}");
        s.add(&chat(3, "2027-01-01T00:00:00", 1)).unwrap();
        let mut out = Vec::new();
        s.render(&mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("chats per month"));
    }

    /// The summary's text, rendered.
    fn rendered(s: &Summary) -> String {
        let mut out = Vec::new();
        s.render(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_chart_never_draws_more_than_its_rows_whatever_the_dates() {
        // Year 1 and year 9999: once 119,996 lines.
        let mut s = Summary::default();
        s.add(&chat(1, "0001-01-01T00:00:00", 1)).unwrap();
        s.add(&chat(2, "9999-12-31T23:59:59", 1)).unwrap();
        let text = rendered(&s);
        assert!(text.lines().count() < 80, "{text}");
        assert!(
            text.contains("chats per year (UTC; years without chats left out)"),
            "{text}"
        );
        assert!(text.contains("\n0001        "), "{text}");
        assert!(text.contains("\n9999        "), "{text}");

        // Chats in more years than the chart has rows: the latest are drawn, the rest counted.
        let mut s = Summary::default();
        for year in 0..100u128 {
            let start = format!("{:04}-06-01T00:00:00", 1000 + 10 * year);
            s.add(&chat(year, &start, 1)).unwrap();
        }
        let text = rendered(&s);
        let bars = text.lines().filter(|l| l.contains('█')).count();
        assert_eq!(bars, MAX_ROWS as usize, "{text}");
        assert!(
            text.contains(
                "(left out: 38 earlier years with chats, 1000 to 1370, holding 38 chats)"
            ),
            "{text}"
        );
        assert!(text.contains("\n1990        "), "{text}");
    }

    #[test]
    fn spans_up_to_the_row_limit_draw_every_bucket() {
        let mut s = Summary::default();
        s.add(&chat(1, "2020-01-15T00:00:00", 1)).unwrap();
        s.add(&chat(2, "2024-12-15T00:00:00", 1)).unwrap();
        let text = rendered(&s);
        assert!(text.contains("chats per month (UTC)\n"), "{text}");
        // January 2020 to December 2024: 60 rows, the empty months included.
        assert_eq!(
            text.lines().filter(|l| l.starts_with("20")).count(),
            60,
            "{text}"
        );
        s.add(&chat(3, "2030-01-01T00:00:00", 1)).unwrap();
        let text = rendered(&s);
        assert!(text.contains("chats per year (UTC)\n"), "{text}");
        assert_eq!(
            text.lines().filter(|l| l.starts_with("20")).count(),
            11,
            "{text}"
        );
    }
}

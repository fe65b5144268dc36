//! The report as one self-contained HTML file: inline SVG charts drawn here (no script, no
//! font, no image, no request of any kind; a Content-Security-Policy forbids them all), each
//! with a title, axis labels, units and the period, and its figures in a table beside it.
//! Every text from the API is escaped. The same figures give the same bytes (the generation
//! time aside).

use super::figures::Figures;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::fmt::Write;

/// What the report is of, for its header.
#[derive(Debug)]
pub(crate) struct Meta {
    /// The copy it was made from (a password masked).
    pub source: String,
    /// The filters, as given (empty: none).
    pub filters: String,
    /// When it was made (the only part that changes between two reports of the same copy).
    pub generated: String,
}

/// Text as HTML text or an attribute's value: `&`, `<`, `>`, `"` and `'` escaped.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters have no business in a page.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters of a label, `…` for the rest (the table has it whole).
fn short(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_owned()
    } else {
        let mut s: String = label.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

const STYLE: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 1.5rem auto; max-width: 72rem; padding: 0 1rem; color: #1d2733; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin: 0 0 .5rem; }
.meta { color: #566372; margin-top: 0; }
section { margin: 2rem 0; }
figure { margin: 0; display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; break-inside: avoid; page-break-inside: avoid; }
figure svg { flex: 2 1 28rem; width: 100%; max-width: 100%; height: auto; }
.table { flex: 1 1 16rem; overflow-x: auto; max-height: 28rem; overflow-y: auto; }
table { border-collapse: collapse; font-size: .85rem; }
th, td { padding: .15rem .6rem; border-bottom: 1px solid #e3e7eb; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
figcaption { flex-basis: 100%; color: #566372; font-size: .85rem; }
.bar { fill: #2f6fb0; }
.axis { stroke: #8895a3; stroke-width: 1; }
svg text { font-size: 11px; fill: #1d2733; }
.cell-label { font-size: 9px; }
@media print {
  body { max-width: none; margin: 0; }
  section, figure { break-inside: avoid; page-break-inside: avoid; }
  .table { max-height: none; overflow: visible; }
}
";

/// The whole page.
pub(crate) fn render(f: &Figures, meta: &Meta) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let period = period(f);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'\">\n",
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>giosg chats report</title>\n<style>");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n<h1>giosg chats report</h1>\n");
    let _ = writeln!(
        out,
        "<p class=\"meta\">{} · from {} · filters: {} · made {}</p>",
        escape(&period),
        escape(&meta.source),
        escape(if meta.filters.is_empty() {
            "none"
        } else {
            &meta.filters
        }),
        escape(&meta.generated)
    );
    totals(&mut out, f);
    per_day(&mut out, f, &period);
    per_room(&mut out, f, &period);
    heat(&mut out, f, &period);
    tags(&mut out, f, &period);
    operators(&mut out, f, &period);
    sales(&mut out, f, &period);
    out.push_str("</body>\n</html>\n");
    out
}

fn period(f: &Figures) -> String {
    match f.period {
        Some((a, b)) => format!(
            "{} to {} (UTC)",
            a.format("%Y-%m-%d %H:%M"),
            b.format("%Y-%m-%d %H:%M")
        ),
        None => "no chats".to_owned(),
    }
}

fn totals(out: &mut String, f: &Figures) {
    let s = &f.summary;
    let share = |n: u64| {
        if s.chats == 0 {
            String::new()
        } else {
            format!(" ({:.1}%)", n as f64 * 100.0 / s.chats as f64)
        }
    };
    out.push_str("<section id=\"totals\">\n<h2>Totals</h2>\n<table>\n");
    let mut row = |name: &str, value: String| {
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td></tr>",
            escape(name),
            escape(&value)
        );
    };
    row("chats", s.chats.to_string());
    row("real conversations", format!("{}{}", s.real, share(s.real)));
    row("ended", format!("{}{}", s.ended, share(s.ended)));
    row(
        "with sales",
        format!("{}{}", s.with_sales, share(s.with_sales)),
    );
    if s.sales.is_empty() {
        row("sales", "none".to_owned());
    }
    for (currency, total) in &s.sales {
        row(
            &format!("sales ({currency})"),
            format!("{total} {currency}"),
        );
    }
    match (s.messages_percentile(50), s.messages_percentile(90)) {
        (Some(median), Some(p90)) => {
            row("messages per chat, median", median.to_string());
            row("messages per chat, p90", p90.to_string());
        }
        _ => row("messages per chat", "-".to_owned()),
    }
    out.push_str("</table>\n</section>\n");
}

/// A figure: caption, chart and table.
fn figure(out: &mut String, id: &str, title: &str, caption: &str, svg: &str, table: &str) {
    let _ = write!(
        out,
        "<section id=\"{id}\">\n<h2>{}</h2>\n<figure>\n<figcaption>{}</figcaption>\n{svg}<div class=\"table\">{table}</div>\n</figure>\n</section>\n",
        escape(title),
        escape(caption)
    );
}

/// A table of `header` and `rows`, numeric columns (all but the first) right-aligned.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut t = String::from("<table>\n<thead><tr>");
    for (i, h) in header.iter().enumerate() {
        let class = if i == 0 { "" } else { " class=\"n\"" };
        let _ = write!(t, "<th scope=\"col\"{class}>{}</th>", escape(h));
    }
    t.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        t.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            if i == 0 {
                let _ = write!(t, "<th scope=\"row\">{}</th>", escape(cell));
            } else {
                let _ = write!(t, "<td class=\"n\">{}</td>", escape(cell));
            }
        }
        t.push_str("</tr>\n");
    }
    t.push_str("</tbody>\n</table>\n");
    t
}

/// Horizontal bars, one per row: `(label, value)`, value in `unit`.
fn hbars(id: &str, title: &str, value_axis: &str, rows: &[(String, f64)]) -> String {
    let (left, width, row_h, top) = (210.0, 640.0, 20.0, 10.0);
    let height = top + rows.len() as f64 * row_h + 40.0;
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1e-9);
    let plot = width - left - 60.0;
    let mut s = format!(
        "<svg data-chart=\"{id}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\">\n",
        escape(title)
    );
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = top + i as f64 * row_h;
        let w = (value / max * plot).max(if *value > 0.0 { 1.0 } else { 0.0 });
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect class=\"bar\" x=\"{left}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\"><title>{}: {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            left - 6.0,
            y + 14.0,
            escape(&short(label, 32)),
            y + 3.0,
            row_h - 6.0,
            escape(label),
            number(*value),
            left + w + 4.0,
            y + 14.0,
            number(*value)
        );
        s.push('\n');
    }
    let axis_y = top + rows.len() as f64 * row_h + 4.0;
    let _ = write!(
        s,
        "<line class=\"axis\" x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{axis_y}\"/><line class=\"axis\" x1=\"{left}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\"/><text x=\"{left}\" y=\"{:.1}\">0</text><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n</svg>\n",
        left + plot,
        axis_y + 14.0,
        left + plot,
        axis_y + 14.0,
        number(max),
        left + plot / 2.0,
        axis_y + 30.0,
        escape(value_axis)
    );
    s
}

/// Vertical bars over time, one per row: `(label, value)`.
fn vbars(id: &str, title: &str, x_axis: &str, y_axis: &str, rows: &[(String, f64)]) -> String {
    let (left, top, plot_h) = (56.0, 10.0, 220.0);
    // The same width for any number of bars: a few bars are wide, many are thin.
    let step = 600.0 / rows.len().max(1) as f64;
    let width = left + 600.0 + 20.0;
    let height = top + plot_h + 50.0;
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1e-9);
    let mut s = format!(
        "<svg data-chart=\"{id}\" viewBox=\"0 0 {width:.1} {height}\" role=\"img\" aria-label=\"{}\">\n",
        escape(title)
    );
    let base = top + plot_h;
    for (i, (label, value)) in rows.iter().enumerate() {
        let h = value / max * plot_h;
        let x = left + i as f64 * step;
        let _ = write!(
            s,
            "<rect class=\"bar\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\"><title>{}: {}</title></rect>",
            base - h,
            (step * 0.8).clamp(0.5, 40.0),
            escape(label),
            number(*value)
        );
        s.push('\n');
    }
    let (first, last) = (
        rows.first().map_or("", |r| r.0.as_str()),
        rows.last().map_or("", |r| r.0.as_str()),
    );
    let _ = write!(
        s,
        "<line class=\"axis\" x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{base}\"/><line class=\"axis\" x1=\"{left}\" y1=\"{base}\" x2=\"{:.1}\" y2=\"{base}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">0</text><text x=\"{left}\" y=\"{:.1}\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text><text x=\"12\" y=\"{:.1}\" transform=\"rotate(-90 12 {:.1})\" text-anchor=\"middle\">{}</text>\n</svg>\n",
        width - 10.0,
        left - 4.0,
        top + 10.0,
        number(max),
        left - 4.0,
        base,
        base + 14.0,
        escape(first),
        width - 10.0,
        base + 14.0,
        escape(last),
        left + (width - left) / 2.0,
        base + 34.0,
        escape(x_axis),
        top + plot_h / 2.0,
        top + plot_h / 2.0,
        escape(y_axis)
    );
    s
}

/// A number as the report writes it: whole numbers plain, others to two decimals.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The days of the period, each with its count; over more than 400 days, months.
fn days(per_day: &BTreeMap<NaiveDate, u64>) -> (&'static str, Vec<(String, u64)>) {
    let (Some(&first), Some(&last)) = (per_day.keys().next(), per_day.keys().next_back()) else {
        return ("day", Vec::new());
    };
    if (last - first).num_days() <= 400 {
        let mut rows = Vec::new();
        let mut day = Some(first);
        while let Some(d) = day.filter(|d| *d <= last) {
            rows.push((
                d.format("%Y-%m-%d").to_string(),
                per_day.get(&d).copied().unwrap_or(0),
            ));
            day = d.succ_opt();
        }
        ("day", rows)
    } else {
        let mut months: BTreeMap<String, u64> = BTreeMap::new();
        for (d, n) in per_day {
            *months.entry(d.format("%Y-%m").to_string()).or_default() += n;
        }
        (
            "month (days over 400: by month)",
            months.into_iter().collect(),
        )
    }
}

fn per_day(out: &mut String, f: &Figures, period: &str) {
    let (unit, rows) = days(&f.summary.per_day);
    let title = format!("Chats per {}", unit.split(' ').next().unwrap_or(unit));
    let chart: Vec<(String, f64)> = rows.iter().map(|(d, n)| (d.clone(), *n as f64)).collect();
    let svg = vbars("per-day", &title, &format!("{unit}, UTC"), "chats", &chart);
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|(d, n)| vec![d.clone(), n.to_string()])
        .collect();
    let mut caption = format!("chats that started each {unit}, UTC; {period}");
    if f.summary.undated > 0 {
        caption.push_str(&format!(
            "; {} without a start time left out",
            f.summary.undated
        ));
    }
    figure(
        out,
        "per-day",
        &title,
        &caption,
        &svg,
        &table(&["day", "chats"], &table_rows),
    );
}

use crate::summary::ranked;

fn per_room(out: &mut String, f: &Figures, period: &str) {
    let s = &f.summary;
    let rows = ranked(s.per_room.iter().map(|(room, &n)| {
        let name = match room {
            None => "(no room)".to_owned(),
            Some(id) => s
                .names
                .rooms
                .get(id)
                .cloned()
                .unwrap_or_else(|| id.to_string()),
        };
        (name, n)
    }));
    let chart: Vec<(String, f64)> = rows.iter().map(|(r, n)| (r.clone(), *n as f64)).collect();
    let svg = hbars("per-room", "Chats per room", "chats", &chart);
    let t: Vec<Vec<String>> = rows
        .iter()
        .map(|(r, n)| vec![r.clone(), n.to_string()])
        .collect();
    figure(
        out,
        "per-room",
        "Chats per room",
        &format!("chats by the room's name; {period}"),
        &svg,
        &table(&["room", "chats"], &t),
    );
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn heat(out: &mut String, f: &Figures, period: &str) {
    let (left, top, cell) = (40.0, 16.0, 24.0);
    let width = left + 24.0 * cell + 10.0;
    let height = top + 7.0 * cell + 40.0;
    let max = f.heat.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let mut svg = format!(
        "<svg data-chart=\"heat\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"When chats start: weekday by hour, UTC\">\n"
    );
    for h in (0..24).step_by(3) {
        let _ = write!(
            svg,
            "<text class=\"cell-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{h:02}</text>",
            left + h as f64 * cell + cell / 2.0,
            top - 4.0
        );
    }
    for (d, row) in f.heat.iter().enumerate() {
        let y = top + d as f64 * cell;
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 4.0,
            y + 16.0,
            WEEKDAYS[d]
        );
        for (h, &n) in row.iter().enumerate() {
            let opacity = if n == 0 {
                0.04
            } else {
                0.15 + 0.85 * n as f64 / max
            };
            let _ = write!(
                svg,
                "<rect class=\"cell\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#2f6fb0\" fill-opacity=\"{opacity:.3}\"><title>{} {h:02}:00–{h:02}:59 UTC: {n} chats</title></rect>",
                left + h as f64 * cell,
                cell - 2.0,
                cell - 2.0,
                WEEKDAYS[d]
            );
        }
        svg.push('\n');
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">hour of the day the chat started (UTC); darker: more chats, at most {}</text>\n</svg>\n",
        left + 12.0 * cell,
        top + 7.0 * cell + 24.0,
        max as u64
    );
    let mut header = vec!["weekday"];
    let hours: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
    header.extend(hours.iter().map(String::as_str));
    let rows: Vec<Vec<String>> = f
        .heat
        .iter()
        .enumerate()
        .map(|(d, row)| {
            std::iter::once(WEEKDAYS[d].to_owned())
                .chain(row.iter().map(u64::to_string))
                .collect()
        })
        .collect();
    figure(
        out,
        "heat",
        "When chats start",
        &format!("chats by weekday and hour they started, UTC; {period}"),
        &svg,
        &table(&header, &rows),
    );
}

fn tags(out: &mut String, f: &Figures, period: &str) {
    let mut rows = ranked(f.tags.iter().map(|(t, &n)| (t.clone(), n)));
    rows.truncate(20);
    let chart: Vec<(String, f64)> = rows.iter().map(|(t, n)| (t.clone(), *n as f64)).collect();
    let svg = hbars("tags", "Top tags", "chats with the tag", &chart);
    let t: Vec<Vec<String>> = rows
        .iter()
        .map(|(r, n)| vec![r.clone(), n.to_string()])
        .collect();
    figure(
        out,
        "tags",
        "Top tags",
        &format!("the 20 tags on the most chats; {period}"),
        &svg,
        &table(&["tag", "chats"], &t),
    );
}

fn operators(out: &mut String, f: &Figures, period: &str) {
    let names = &f.summary.names.users;
    let mut rows: Vec<(String, &super::figures::Operator)> = f
        .operators
        .iter()
        .map(|(key, op)| {
            let name = names
                .get(key)
                .cloned()
                .or_else(|| op.shown.clone())
                .unwrap_or_else(|| key.clone());
            (name, op)
        })
        .filter(|(_, op)| op.conversations > 0)
        .collect();
    rows.sort_by(|a, b| {
        b.1.conversations
            .cmp(&a.1.conversations)
            .then_with(|| a.0.cmp(&b.0))
    });
    rows.truncate(20);
    let chart: Vec<(String, f64)> = rows
        .iter()
        .map(|(name, op)| (name.clone(), op.conversations as f64))
        .collect();
    let svg = hbars(
        "operators",
        "Operators",
        "conversations they wrote in",
        &chart,
    );
    let t: Vec<Vec<String>> = rows
        .iter()
        .map(|(name, op)| {
            vec![
                name.clone(),
                op.conversations.to_string(),
                op.messages.to_string(),
                op.median_first_response()
                    .map_or_else(|| "-".to_owned(), |s| format!("{s:.1}")),
            ]
        })
        .collect();
    figure(
        out,
        "operators",
        "Operators",
        &format!(
            "the 20 operators in the most conversations; first response: from a chat's first visitor message to the first operator message after it, credited to its writer; {period}"
        ),
        &svg,
        &table(
            &["operator", "conversations", "messages", "median first response (s)"],
            &t,
        ),
    );
}

fn sales(out: &mut String, f: &Figures, period: &str) {
    if f.sales_per_day.is_empty() {
        let _ = writeln!(
            out,
            "<section id=\"sales\">\n<h2>Sales per day</h2>\n<p>No purchased carts; {}.</p>\n</section>",
            escape(period)
        );
        return;
    }
    for (i, (currency, per_day)) in f.sales_per_day.iter().enumerate() {
        let id = format!("sales-{i}");
        let title = format!("Sales per day ({currency})");
        let chart: Vec<(String, f64)> = per_day
            .iter()
            .map(|(d, v)| {
                (
                    d.format("%Y-%m-%d").to_string(),
                    v.to_string().parse().unwrap_or(0.0),
                )
            })
            .collect();
        let svg = vbars(&id, &title, "day the chat started, UTC", currency, &chart);
        let t: Vec<Vec<String>> = per_day
            .iter()
            .map(|(d, v)| vec![d.format("%Y-%m-%d").to_string(), format!("{v} {currency}")])
            .collect();
        figure(
            out,
            &id,
            &title,
            &format!("purchased carts' totals in {currency} (never summed with another currency), by the day the chat started; {period}"),
            &svg,
            &table(&["day", &format!("sales ({currency})")], &t),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_the_api_cannot_become_markup() {
        assert_eq!(
            escape(r#"<script>alert(1)</script>"#),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            escape(r#""><img src=x onerror=alert(1)>"#),
            "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(escape("O'Brien & Co"), "O&#39;Brien &amp; Co");
        assert_eq!(escape("a\u{1b}]0;x\u{7}b"), "a\u{fffd}]0;x\u{fffd}b");
        assert_eq!(escape("päivä+1"), "päivä+1");
    }

    #[test]
    fn a_page_of_no_chats_is_whole_and_forbids_every_load() {
        let page = render(
            &Figures::default(),
            &Meta {
                source: "chats.db".into(),
                filters: String::new(),
                generated: "now".into(),
            },
        );
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.ends_with("</html>\n"));
        assert!(page.contains("default-src 'none'"));
        assert!(
            !page.contains("<script") && !page.contains("http://") && !page.contains("https://")
        );
        assert!(page.contains("no chats"));
    }
}

//! `giosg report`: the page opened in a real headless Chromium from disk with the network off
//! (no console error, no request but the file, no dialog, every chart's bars as many as its
//! figures, hostile text shown as text, charts within a phone's width; a screenshot under
//! target/), its figures against the mock's chats computed here, the summary's figures, and the
//! same bytes twice.

use crate::common::{giosg, run, temp_dir};
use giosg_async::{Chat, MessageType, SenderType, Tag};
use giosg_mock::MockServer;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

const HOSTILE: [&str; 2] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
];

/// Generated chats over a few days, two of them tagged with hostile text.
fn data() -> Vec<Chat> {
    let mut chats = giosg_mock::generate(91, 400);
    for (chat, tag) in chats.iter_mut().zip(HOSTILE) {
        chat.tags.push(Tag::new(tag));
    }
    chats
}

/// A copy of `chats` synced from a mock, and the report of it.
fn report_of(chats: &[Chat], name: &str) -> (MockServer, PathBuf, PathBuf) {
    let mock = MockServer::builder().chats(chats.to_vec()).start().unwrap();
    let dir = temp_dir(name);
    let db = dir.join("chats.db");
    let mut sync = crate::common::chats(&mock, "sync", &[]);
    sync.arg("--db").arg(&db);
    run(&mut sync).ok();
    let out = dir.join("report.html");
    let mut report = giosg(["report", "--db"]);
    report.arg(&db).arg("--out").arg(&out);
    run(&mut report).ok();
    (mock, db, out)
}

fn html(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// The escaping the page uses, written again here.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[test]
fn the_report_opens_offline_in_chromium_and_draws_what_its_tables_hold() {
    let chats = data();
    let (_mock, _db, out) = report_of(&chats, "report-browser");
    let mut browser = giosg_test_browser::Browser::launch();
    let visit = browser.open_offline(&out);
    assert!(
        visit.errors.is_empty(),
        "console errors: {:?}",
        visit.errors
    );
    assert!(visit.dialogs.is_empty(), "dialogs: {:?}", visit.dialogs);
    let url = format!("file://{}", out.canonicalize().unwrap().display());
    assert_eq!(visit.requests, vec![url], "no request but the file itself");

    // Every chart holds as many bars as its table has rows, and as the chats say.
    let count = |browser: &mut giosg_test_browser::Browser, selector: &str| {
        browser
            .eval(&format!("document.querySelectorAll({selector:?}).length"))
            .as_u64()
            .unwrap()
    };
    for chart in [
        "per-day",
        "per-room",
        "tags",
        "operators",
        "sales-0",
        "sales-1",
    ] {
        let bars = count(&mut browser, &format!("svg[data-chart='{chart}'] rect.bar"));
        let rows = count(&mut browser, &format!("section#{chart} tbody tr"));
        assert_eq!(bars, rows, "{chart}");
        assert!(bars > 0, "{chart}");
    }
    let rooms: BTreeSet<_> = chats.iter().map(|c| c.room_id).collect();
    assert_eq!(
        count(&mut browser, "svg[data-chart='per-room'] rect.bar"),
        rooms.len() as u64
    );
    let days: BTreeSet<_> = chats
        .iter()
        .filter_map(|c| c.start_time.map(|t| t.date_naive()))
        .collect();
    let span = (*days.last().unwrap() - *days.first().unwrap()).num_days() as u64 + 1;
    assert_eq!(
        count(&mut browser, "svg[data-chart='per-day'] rect.bar"),
        span
    );
    assert_eq!(
        count(&mut browser, "svg[data-chart='heat'] rect.cell"),
        7 * 24
    );
    let tags: BTreeSet<_> = chats
        .iter()
        .flat_map(|c| c.tags.iter().filter_map(|t| t.name.clone()))
        .collect();
    assert_eq!(
        count(&mut browser, "svg[data-chart='tags'] rect.bar"),
        tags.len().min(20) as u64
    );

    // Hostile text is text: shown as written, and nothing of it became markup.
    let text = browser
        .eval("document.body.innerText")
        .as_str()
        .unwrap()
        .to_owned();
    for tag in HOSTILE {
        assert!(text.contains(tag), "{tag} shown as text");
    }
    assert_eq!(count(&mut browser, "script, img, iframe, object, link"), 0);

    // On a phone's width the charts fit the window (the tables scroll in their own box).
    browser.width(390);
    let widest = browser
        .eval("Math.max(...[...document.querySelectorAll('svg')].map(s => s.getBoundingClientRect().right))")
        .as_f64()
        .unwrap();
    assert!(
        widest <= 390.5,
        "a chart ends at {widest}px on a 390px window"
    );
    browser.width(1200);
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report.png");
    browser.screenshot(&shot);
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
}

#[test]
fn the_report_figures_are_the_chats_and_the_summarys() {
    let chats = data();
    let (mock, db, out) = report_of(&chats, "report-figures");
    let page = html(&out);
    let row = |name: &str, value: &str| {
        format!(
            "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td></tr>",
            escaped(name),
            escaped(value)
        )
    };

    // Totals, as the summary of the same copy prints them.
    let mut summary = giosg(["chats", "summary", "--db"]);
    summary.arg(&db);
    let summary = run(&mut summary).ok().to_owned();
    let line = |label: &str| {
        summary
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("{label} in {summary}"))[label.len()..]
            .trim()
            .to_owned()
    };
    assert!(
        page.contains(&row("chats", &line("chats "))),
        "{}",
        line("chats ")
    );
    assert!(page.contains(&row("real conversations", &line("real conversations"))));
    assert!(page.contains(&row("ended", &line("ended"))));
    assert!(page.contains(&row("with sales", &line("with sales"))));
    assert_eq!(chats.len().to_string(), line("chats "));

    // Sales per currency, summed here.
    let mut sales: BTreeMap<String, giosg_async::Decimal> = BTreeMap::new();
    for chat in &chats {
        for cart in chat.shopping_carts.iter().filter(|c| c.is_purchased()) {
            if let (Some(currency), Some(total)) = (&cart.currency, cart.total_price) {
                *sales.entry(currency.clone()).or_default() += total;
            }
        }
    }
    assert!(sales.len() >= 2);
    for (currency, total) in &sales {
        assert!(
            page.contains(&row(
                &format!("sales ({currency})"),
                &format!("{total} {currency}")
            )),
            "{currency} {total}"
        );
    }

    // Operators by full name: conversations, messages and the median first response,
    // computed here from the chats.
    let names: HashMap<String, String> = giosg_mock::users(mock.org())
        .into_iter()
        .filter_map(|u| Some((u.id.to_string(), u.full_name?)))
        .collect();
    #[derive(Default)]
    struct Op {
        conversations: u64,
        messages: u64,
        waits: Vec<i64>,
    }
    let mut ops: BTreeMap<String, Op> = BTreeMap::new();
    let name_of = |l: &giosg_async::ChatLog| {
        l.sender_id
            .as_ref()
            .and_then(|id| names.get(id).cloned())
            .or_else(|| l.display_name.clone())
    };
    for chat in &chats {
        let says = |who| {
            chat.logs.iter().filter(move |l: &&giosg_async::ChatLog| {
                l.sender_type == Some(who) && l.message_type == Some(MessageType::Message)
            })
        };
        let mut wrote = BTreeSet::new();
        for l in says(SenderType::Operator) {
            if let Some(name) = name_of(l) {
                ops.entry(name.clone()).or_default().messages += 1;
                wrote.insert(name);
            }
        }
        for name in wrote {
            ops.entry(name).or_default().conversations += 1;
        }
        let Some(asked) = says(SenderType::Visitor).filter_map(|l| l.created_at).min() else {
            continue;
        };
        let first = says(SenderType::Operator)
            .filter_map(|l| Some((l.created_at?, name_of(l)?)))
            .filter(|(t, _)| *t > asked)
            .min_by_key(|(t, _)| *t);
        if let Some((at, name)) = first {
            ops.entry(name)
                .or_default()
                .waits
                .push((at - asked).num_milliseconds());
        }
    }
    assert!(!ops.is_empty());
    for (name, op) in &mut ops {
        op.waits.sort_unstable();
        let n = op.waits.len();
        let median = if n == 0 {
            "-".to_owned()
        } else {
            format!(
                "{:.1}",
                (op.waits[(n - 1) / 2] + op.waits[n / 2]) as f64 / 2000.0
            )
        };
        let want = format!(
            "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{median}</td></tr>",
            escaped(name),
            op.conversations,
            op.messages
        );
        assert!(page.contains(&want), "{want}");
    }

    // The same copy and options give the same bytes, the time it was made aside.
    let again = out.with_file_name("again.html");
    let mut report = giosg(["report", "--db"]);
    report.arg(&db).arg("--out").arg(&again);
    run(&mut report).ok();
    let without_time = |page: &str| {
        page.lines()
            .filter(|l| !l.starts_with("<p class=\"meta\">"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without_time(&page), without_time(&html(&again)));

    // Filters: a room's chats only.
    let room = chats[0].room_id.unwrap();
    let one = out.with_file_name("room.html");
    let mut report = giosg(["report", "--db"]);
    report
        .arg(&db)
        .arg("--out")
        .arg(&one)
        .args(["--room-id", &room.to_string()]);
    run(&mut report).ok();
    let in_room = chats.iter().filter(|c| c.room_id == Some(room)).count();
    assert!(html(&one).contains(&row("chats", &in_room.to_string())));
    drop(mock);
}

#[test]
fn a_missing_copy_is_a_usage_error_and_no_request_is_sent() {
    let dir = temp_dir("report-missing");
    let mut report = giosg(["report", "--db"]);
    report
        .arg(dir.join("none.db"))
        .arg("--out")
        .arg(dir.join("r.html"));
    let done = run(&mut report);
    assert_eq!(done.code, 2, "{}", done.stderr);
    assert!(!dir.join("r.html").exists());
}

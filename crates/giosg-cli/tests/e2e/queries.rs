//! The README's SQL, exactly as the README shows it, run against a copy `giosg chats sync`
//! made, each answer checked against figures this test computes from the mock's chats.

use crate::common::{chats, run, temp_dir};
use giosg_async::{Chat, DateTime, MessageType, SenderType, Utc};
use giosg_mock::MockServer;
use rusqlite::types::Value;
use std::collections::BTreeMap;

/// The README's queries: the SQL block that starts with the chats per room, one query per
/// paragraph.
fn readme_queries() -> Vec<String> {
    let readme = include_str!("../../../../README.md");
    let start = readme
        .find("```sql\n-- Chats per room in the last 7 days")
        .expect("the README's queries");
    let block = &readme[start + "```sql\n".len()..];
    let block = &block[..block.find("```").expect("the end of the block")];
    block
        .split("\n\n")
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A query's rows, every value as text (`NULL` for null, reals to 6 decimals).
fn rows(conn: &rusqlite::Connection, sql: &str) -> Vec<Vec<String>> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| {
                Ok(match r.get::<_, Value>(i)? {
                    Value::Null => "NULL".to_owned(),
                    Value::Integer(v) => v.to_string(),
                    Value::Real(v) => format!("{v:.6}"),
                    Value::Text(v) => v,
                    Value::Blob(_) => "BLOB".to_owned(),
                })
            })
            .collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn text<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "NULL".to_owned(), |v| v.to_string())
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// Chats of the last 16 days, none starting within a minute of 7 days ago (where the test's
/// clock and SQLite's could disagree).
fn data() -> Vec<Chat> {
    let now = DateTime::<Utc>::from(std::time::SystemTime::now());
    let week = now - chrono::TimeDelta::days(7);
    let mut generator = giosg_mock::Generator::new(71, now - chrono::TimeDelta::days(16));
    (0..1_400)
        .map(|_| generator.chat())
        .filter(|c| {
            c.start_time.is_some_and(|t| {
                t < now - chrono::TimeDelta::minutes(1) && (t - week).num_seconds().abs() > 60
            })
        })
        .collect()
}

#[test]
fn the_readme_queries_answer_what_they_say() {
    let chats_served = data();
    let mock = MockServer::builder()
        .chats(chats_served.clone())
        .start()
        .unwrap();
    let dir = temp_dir("queries");
    let db = dir.join("chats.db");
    let mut sync = chats(&mock, "sync", &[]);
    sync.arg("--db").arg(&db);
    run(&mut sync).ok();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let queries = readme_queries();
    assert_eq!(queries.len(), 4, "{queries:#?}");
    let now = DateTime::<Utc>::from(std::time::SystemTime::now());

    // Chats per room in the last 7 days, by the rooms' names as the mock serves them.
    let names: BTreeMap<giosg_async::Uuid, String> = giosg_mock::rooms(mock.org())
        .into_iter()
        .map(|r| (r.id, r.shown_name().unwrap().to_owned()))
        .collect();
    let mut per_room: BTreeMap<String, i64> = BTreeMap::new();
    for c in &chats_served {
        if c.start_time
            .is_some_and(|t| t >= now - chrono::TimeDelta::days(7))
        {
            let name = c.room_id.and_then(|r| names.get(&r).cloned());
            *per_room.entry(text(name)).or_default() += 1;
        }
    }
    let mut want: Vec<(String, i64)> = per_room.into_iter().collect();
    want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let want: Vec<Vec<String>> = want
        .into_iter()
        .map(|(room, n)| vec![room, n.to_string()])
        .collect();
    assert!(!want.is_empty());
    assert_eq!(rows(&conn, &queries[0]), want, "{}", queries[0]);

    // Operators by messages, by the users' full names as the mock serves them.
    let full_names: BTreeMap<String, String> = giosg_mock::users(mock.org())
        .into_iter()
        .filter_map(|u| Some((u.id.to_string(), u.full_name?)))
        .collect();
    let mut operators: BTreeMap<Option<String>, (i64, std::collections::BTreeSet<String>)> =
        BTreeMap::new();
    for c in &chats_served {
        for l in &c.logs {
            if l.sender_type == Some(SenderType::Operator)
                && l.message_type == Some(MessageType::Message)
            {
                let name = l
                    .sender_id
                    .as_ref()
                    .and_then(|id| full_names.get(id).cloned())
                    .or_else(|| l.display_name.clone());
                let e = operators.entry(name).or_default();
                e.0 += 1;
                e.1.insert(c.id.to_string());
            }
        }
    }
    let mut want: Vec<(Option<String>, i64, usize)> = operators
        .into_iter()
        .map(|(name, (n, chats))| (name, n, chats.len()))
        .collect();
    // NULL sorts first in SQLite's ascending order, as `None` does here.
    want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    want.truncate(10);
    let want: Vec<Vec<String>> = want
        .into_iter()
        .map(|(name, n, c)| vec![text(name), n.to_string(), c.to_string()])
        .collect();
    assert!(!want.is_empty());
    assert_eq!(rows(&conn, &queries[1]), want, "{}", queries[1]);

    // Sales per day per currency.
    let mut sales: BTreeMap<(String, String), f64> = BTreeMap::new();
    for c in &chats_served {
        for cart in c.shopping_carts.iter().filter(|s| s.is_purchased()) {
            let key = (text(c.start_time.map(day)), text(cart.currency.clone()));
            let price: f64 = cart
                .total_price
                .map_or(0.0, |p| p.to_string().parse().unwrap());
            *sales.entry(key).or_default() += price;
        }
    }
    let got = rows(&conn, &queries[2]);
    assert!(!sales.is_empty());
    assert_eq!(got.len(), sales.len(), "{}", queries[2]);
    for (row, ((d, currency), total)) in got.iter().zip(&sales) {
        assert_eq!((&row[0], &row[1]), (d, currency));
        let sum: f64 = row[2].parse().unwrap();
        assert!(
            (sum - total).abs() < 1e-6,
            "{d} {currency}: {sum} vs {total}"
        );
    }

    // Median first response per day.
    let mut waits: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for c in &chats_served {
        let by = |kind: SenderType| {
            c.logs
                .iter()
                .filter(move |l| {
                    l.sender_type == Some(kind) && l.message_type == Some(MessageType::Message)
                })
                .filter_map(|l| l.created_at)
        };
        let Some(asked) = by(SenderType::Visitor).min() else {
            continue;
        };
        let Some(answered) = by(SenderType::Operator).filter(|t| *t > asked).min() else {
            continue;
        };
        waits
            .entry(day(asked))
            .or_default()
            .push(answered.timestamp() - asked.timestamp());
    }
    let want: Vec<Vec<String>> = waits
        .into_iter()
        .map(|(d, mut w)| {
            w.sort_unstable();
            let n = w.len();
            let median = (w[n.div_ceil(2) - 1] + w[n / 2]) as f64 / 2.0;
            vec![d, format!("{median:.6}")]
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(rows(&conn, &queries[3]), want, "{}", queries[3]);
}

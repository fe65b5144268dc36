//! The README's SQL, exactly as the README shows it, run against a copy `giosg chats sync`
//! made, each answer checked against figures this test computes from the mock's chats.

use crate::common::{chats, run, temp_dir};
use giosg_async::{Chat, DateTime, MessageType, SenderType, Utc};
use giosg_mock::MockServer;
use rusqlite::types::Value;
use std::collections::BTreeMap;

/// The README's queries: the SQL block that starts with `first`, one query per paragraph.
fn readme_queries(first: &str) -> Vec<String> {
    let readme = include_str!("../../../../README.md");
    let start = readme
        .find(&format!("```sql\n{first}"))
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

/// What the README's four queries must answer, computed from the chats the mock serves.
struct Expected {
    /// Chats per room name in the last 7 days, most first.
    rooms: Vec<Vec<String>>,
    /// Operators by name, messages and conversations, most messages first, ten.
    operators: Vec<Vec<String>>,
    /// Sales per day and currency.
    sales: BTreeMap<(String, String), f64>,
    /// The median first response per day, in seconds (to the microsecond).
    medians: Vec<(String, f64)>,
}

impl Expected {
    fn of(chats_served: &[Chat], org: giosg_async::Uuid, now: DateTime<Utc>) -> Expected {
        // Chats per room in the last 7 days, by the rooms' names as the mock serves them.
        let names: BTreeMap<giosg_async::Uuid, String> = giosg_mock::rooms(org)
            .into_iter()
            .map(|r| (r.id, r.shown_name().unwrap().to_owned()))
            .collect();
        let mut per_room: BTreeMap<String, i64> = BTreeMap::new();
        for c in chats_served {
            if c.start_time
                .is_some_and(|t| t >= now - chrono::TimeDelta::days(7))
            {
                let name = c.room_id.and_then(|r| names.get(&r).cloned());
                *per_room.entry(text(name)).or_default() += 1;
            }
        }
        let mut rooms: Vec<(String, i64)> = per_room.into_iter().collect();
        rooms.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let rooms: Vec<Vec<String>> = rooms
            .into_iter()
            .map(|(room, n)| vec![room, n.to_string()])
            .collect();

        // Operators by messages, by the users' full names as the mock serves them.
        let full_names: BTreeMap<String, String> = giosg_mock::users(org)
            .into_iter()
            .filter_map(|u| Some((u.id.to_string(), u.full_name?)))
            .collect();
        let mut by_operator: BTreeMap<Option<String>, (i64, std::collections::BTreeSet<String>)> =
            BTreeMap::new();
        for c in chats_served {
            for l in &c.logs {
                if l.sender_type == Some(SenderType::Operator)
                    && l.message_type == Some(MessageType::Message)
                {
                    let name = l
                        .sender_id
                        .as_ref()
                        .and_then(|id| full_names.get(id).cloned())
                        .or_else(|| l.display_name.clone());
                    let e = by_operator.entry(name).or_default();
                    e.0 += 1;
                    e.1.insert(c.id.to_string());
                }
            }
        }
        let mut operators: Vec<(Option<String>, i64, usize)> = by_operator
            .into_iter()
            .map(|(name, (n, chats))| (name, n, chats.len()))
            .collect();
        // NULL sorts first (SQLite's ascending order; NULLS FIRST in PostgreSQL), as `None`
        // does here.
        operators.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        operators.truncate(10);
        let operators: Vec<Vec<String>> = operators
            .into_iter()
            .map(|(name, n, c)| vec![text(name), n.to_string(), c.to_string()])
            .collect();

        // Sales per day per currency.
        let mut sales: BTreeMap<(String, String), f64> = BTreeMap::new();
        for c in chats_served {
            for cart in c.shopping_carts.iter().filter(|s| s.is_purchased()) {
                let key = (text(c.start_time.map(day)), text(cart.currency.clone()));
                let price: f64 = cart
                    .total_price
                    .map_or(0.0, |p| p.to_string().parse().unwrap());
                *sales.entry(key).or_default() += price;
            }
        }

        // Median first response per day.
        let mut waits: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for c in chats_served {
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
                .push((answered - asked).num_microseconds().unwrap() as f64 / 1e6);
        }
        let medians = waits
            .into_iter()
            .map(|(d, mut w)| {
                w.sort_by(f64::total_cmp);
                let n = w.len();
                (d, (w[n.div_ceil(2) - 1] + w[n / 2]) / 2.0)
            })
            .collect();
        let expected = Expected {
            rooms,
            operators,
            sales,
            medians,
        };
        assert!(!expected.rooms.is_empty() && !expected.operators.is_empty());
        assert!(!expected.sales.is_empty() && !expected.medians.is_empty());
        expected
    }

    /// Checks the four queries' rows (every value as text) against these figures.
    fn check(&self, queries: &[String], rows: impl Fn(&str) -> Vec<Vec<String>>) {
        assert_eq!(queries.len(), 4, "{queries:#?}");
        assert_eq!(rows(&queries[0]), self.rooms, "{}", queries[0]);
        assert_eq!(rows(&queries[1]), self.operators, "{}", queries[1]);
        let got = rows(&queries[2]);
        assert_eq!(got.len(), self.sales.len(), "{}", queries[2]);
        for (row, ((d, currency), total)) in got.iter().zip(&self.sales) {
            assert_eq!((&row[0], &row[1]), (d, currency));
            let sum: f64 = row[2].parse().unwrap();
            assert!(
                (sum - total).abs() < 1e-6,
                "{d} {currency}: {sum} vs {total}"
            );
        }
        let got = rows(&queries[3]);
        assert_eq!(got.len(), self.medians.len(), "{}", queries[3]);
        for (row, (d, median)) in got.iter().zip(&self.medians) {
            assert_eq!(&row[0], d, "{}", queries[3]);
            let seconds: f64 = row[1].parse().unwrap();
            assert!(
                (seconds - median).abs() < 1e-6,
                "{d}: {seconds} vs {median}"
            );
        }
    }
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
    let now = DateTime::<Utc>::from(std::time::SystemTime::now());
    Expected::of(&chats_served, mock.org(), now).check(
        &readme_queries("-- Chats per room in the last 7 days"),
        |sql| rows(&conn, sql),
    );
}

/// The README's queries for psql, exactly as it shows them (in the schema `giosg`), against a
/// PostgreSQL copy.
#[cfg(feature = "postgres")]
#[test]
fn the_readme_queries_for_psql_answer_what_they_say() {
    let chats_served = data();
    let mock = MockServer::builder()
        .chats(chats_served.clone())
        .start()
        .unwrap();
    // The README names the schema giosg: a database of this test's own holds it.
    let url = giosg_test_postgres::url();
    let dbname = giosg_test_postgres::schema("readme");
    giosg_test_postgres::client(&url)
        .batch_execute(&format!("CREATE DATABASE {dbname}"))
        .unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    let url = format!("{base}/{dbname}");
    let mut sync = chats(&mock, "sync", &["--db", &url]);
    run(&mut sync).ok();
    let mut client = giosg_test_postgres::client(&url);
    let now = DateTime::<Utc>::from(std::time::SystemTime::now());
    let client = std::cell::RefCell::new(&mut client);
    Expected::of(&chats_served, mock.org(), now).check(
        &readme_queries("-- psql: chats per room in the last 7 days"),
        |sql| pg_rows(&mut client.borrow_mut(), sql),
    );
}

/// A PostgreSQL query's rows, every value as text (as [`rows`] gives SQLite's: `NULL`, whole
/// numbers as they are, other numbers to 6 decimals, dates as `YYYY-MM-DD`).
#[cfg(feature = "postgres")]
fn pg_rows(client: &mut giosg_test_postgres::postgres::Client, sql: &str) -> Vec<Vec<String>> {
    let names: Vec<String> = client
        .prepare(sql)
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    let wrapped = format!(
        "SELECT row_to_json(q)::text FROM ({}\n) q",
        sql.trim_end().trim_end_matches(';')
    );
    client
        .query(&wrapped, &[])
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
        .iter()
        .map(|r| {
            let row: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(r.get::<_, &str>(0)).unwrap();
            names
                .iter()
                .map(|n| match &row[n] {
                    serde_json::Value::Null => "NULL".to_owned(),
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(v) if v.is_i64() => v.to_string(),
                    serde_json::Value::Number(v) => format!("{:.6}", v.as_f64().unwrap()),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

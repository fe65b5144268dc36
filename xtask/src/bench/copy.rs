//! One run of `giosg chats sync` or `export` into a new copy, checked to hold every chat of
//! the mock: what the sections that compare copies share.

use super::env::Bins;
use super::proc::{self, Mock, Usage};
use super::{RUN_TIMEOUT, TOKEN};
use std::path::Path;
use std::process::{Command, Stdio};

/// Where a run writes.
pub(super) enum Dest<'a> {
    Sqlite(&'a Path),
    Postgres { url: &'a str, schema: &'a str },
    Export(&'a Path),
}

/// One run of `giosg chats sync` or `export` of every chat of `mock`, into a new copy,
/// checked to hold them all.
pub(super) fn once(
    bins: &Bins,
    tmp: &Path,
    mock: &Mock,
    into: &Dest<'_>,
    extra: &[&str],
) -> Result<Usage, String> {
    let mut cmd = Command::new(&bins.giosg);
    match into {
        Dest::Sqlite(db) => {
            proc::remove(&db.to_path_buf());
            cmd.args(["chats", "sync", "--db"]).arg(db);
        }
        Dest::Postgres { url, schema } => {
            drop_schema(url, schema)?;
            cmd.args(["chats", "sync", "--db", url, "--db-schema", schema]);
        }
        Dest::Export(out) => {
            proc::remove(&out.to_path_buf());
            cmd.args(["chats", "export", "--out"]).arg(out);
        }
    }
    cmd.args(["--org", &mock.org, "--base-url", &mock.base_url])
        .args(extra)
        .env("GIOSG_API_TOKEN", TOKEN)
        .stdout(Stdio::null());
    let usage = proc::measure(&mut cmd, &tmp.join("postgres-bench.log"), RUN_TIMEOUT)?;
    let held = match into {
        Dest::Export(out) => {
            let (lines, _) = proc::count_lines(out)?;
            proc::remove(&out.to_path_buf());
            lines as usize
        }
        Dest::Sqlite(db) => stored(bins, &[&db.display().to_string()])?,
        Dest::Postgres { url, schema } => stored(bins, &[url, "--db-schema", schema])?,
    };
    if held != mock.chats {
        return Err(format!("a run wrote {held} chats of {}", mock.chats));
    }
    Ok(usage)
}

/// How many chats a copy holds, as `giosg chats summary --db` counts them (a child: a copy read
/// in this process would swell the next child's peak RSS).
pub(super) fn stored(bins: &Bins, db: &[&str]) -> Result<usize, String> {
    let out = Command::new(&bins.giosg)
        .args(["chats", "summary", "--db"])
        .args(db)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("giosg chats summary: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("chats "))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            format!(
                "giosg chats summary --db {db:?}: {}{text}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

pub(super) fn drop_schema(url: &str, schema: &str) -> Result<(), String> {
    let mut client =
        giosg_test_postgres::postgres::Client::connect(url, giosg_test_postgres::postgres::NoTls)
            .map_err(|e| format!("PostgreSQL: {e}"))?;
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .map_err(|e| format!("PostgreSQL: {e}"))
}

//! `giosg rooms list` and `giosg users list`: the organisation's rooms and users, streamed to
//! stdout as JSON Lines, one JSON array, CSV (text cells safe for a spreadsheet) or a table.

use crate::args::{DirectoryArgs, Format};
use crate::connect;
use crate::error::CliError;
use futures_util::{Stream, TryStreamExt};
use giosg_async::{printable, time, Room, User};
use giosg_sync::format::neutralised;
use std::io::{self, IsTerminal, Write};

/// A resource listed: its columns for CSV and the table.
trait Row: serde::Serialize {
    /// The CSV header.
    const COLUMNS: &'static [&'static str];
    /// The CSV cells (text from the API as it came; neutralised when written).
    fn cells(&self) -> Vec<String>;
    /// The table's cells: the first columns, widths from [`Row::WIDTHS`].
    const WIDTHS: &'static [usize];
}

fn text(v: Option<&str>) -> String {
    v.unwrap_or_default().to_owned()
}

fn flag(v: Option<bool>) -> String {
    v.map_or_else(String::new, |b| b.to_string())
}

impl Row for Room {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "name",
        "display_name",
        "domain",
        "is_shared",
        "is_deleted",
        "organization_id",
    ];
    const WIDTHS: &'static [usize] = &[36, 28, 28, 28, 9, 10];
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            text(self.name.as_deref()),
            text(self.display_name.as_deref()),
            text(self.domain.as_deref()),
            flag(self.is_shared),
            flag(self.is_deleted),
            self.organization_id
                .map_or_else(String::new, |o| o.to_string()),
        ]
    }
}

impl Row for User {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "full_name",
        "alias",
        "email",
        "is_bot",
        "deleted_at",
        "first_name",
        "last_name",
    ];
    const WIDTHS: &'static [usize] = &[36, 24, 14, 28, 6, 24];
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            text(self.full_name.as_deref()),
            text(self.alias.as_deref()),
            text(self.email.as_deref()),
            flag(self.is_bot),
            self.deleted_at
                .map_or_else(String::new, |t| time::format(&t)),
            text(self.first_name.as_deref()),
            text(self.last_name.as_deref()),
        ]
    }
}

/// Runs `giosg rooms list`.
pub(crate) async fn rooms(args: &DirectoryArgs) -> Result<(), CliError> {
    let client = connect::client(&args.api)?;
    let org = connect::org(&args.api, &client).await?;
    let stream = client
        .rooms(org)
        .include_deleted(args.include_deleted)
        .stream();
    write(args, org, stream).await
}

/// Runs `giosg users list`.
pub(crate) async fn users(args: &DirectoryArgs) -> Result<(), CliError> {
    let client = connect::client(&args.api)?;
    let org = connect::org(&args.api, &client).await?;
    let stream = client
        .users(org)
        .include_deleted(args.include_deleted)
        .stream();
    write(args, org, stream).await
}

async fn write<R: Row>(
    args: &DirectoryArgs,
    org: giosg_async::Uuid,
    mut stream: impl Stream<Item = Result<R, giosg_async::Error>> + Unpin,
) -> Result<(), CliError> {
    let terminal = io::stdout().is_terminal();
    let format = args.format.unwrap_or(if terminal {
        Format::Table
    } else {
        Format::Jsonl
    });
    let mut out = io::BufWriter::new(io::stdout().lock());
    let io_err = |e: io::Error| CliError::io("cannot write to stdout", &e);
    let mut n = 0u64;
    let head = match format {
        Format::Json => out.write_all(b"["),
        Format::Csv => {
            let columns: Vec<String> = R::COLUMNS.iter().map(|c| (*c).to_owned()).collect();
            csv_row(&columns).and_then(|row| out.write_all(&row))
        }
        Format::Table => {
            let cells: Vec<String> = R::COLUMNS.iter().map(|c| c.to_uppercase()).collect();
            writeln!(out, "{}", table_line(&cells, R::WIDTHS))
        }
        Format::Jsonl => Ok(()),
    };
    head.map_err(io_err)?;
    loop {
        let item = match stream.try_next().await {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(e) => {
                let _ = out.flush();
                return Err(CliError::from_giosg(&e, Some(org)));
            }
        };
        let written = match format {
            Format::Jsonl => serde_json::to_writer(&mut out, &item)
                .map_err(io::Error::from)
                .and_then(|()| out.write_all(b"\n")),
            Format::Json => out
                .write_all(if n == 0 { b"\n" } else { b",\n" })
                .and_then(|()| serde_json::to_writer(&mut out, &item).map_err(io::Error::from)),
            Format::Csv => {
                let cells: Vec<String> = item.cells().into_iter().map(neutralised).collect();
                csv_row(&cells).and_then(|row| out.write_all(&row))
            }
            Format::Table => writeln!(out, "{}", table_line(&item.cells(), R::WIDTHS)),
        };
        written.map_err(io_err)?;
        n += 1;
    }
    let tail = match format {
        Format::Json => out.write_all(if n == 0 { b"]\n" } else { b"\n]\n" }),
        Format::Table => writeln!(out, "({n} listed)"),
        _ => Ok(()),
    };
    tail.and_then(|()| out.flush()).or_else(|e| match e.kind() {
        io::ErrorKind::BrokenPipe => Ok(()),
        _ => Err(io_err(e)),
    })
}

/// One CSV record, `\n`-terminated, quoted where needed.
fn csv_row(cells: &[String]) -> io::Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(cells)?;
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

/// The first columns of a row, each cut or padded to its width, control characters escaped.
fn table_line(cells: &[String], widths: &[usize]) -> String {
    cells
        .iter()
        .zip(widths)
        .map(|(cell, &w)| {
            let shown = printable(cell);
            let mut s: String = shown.chars().take(w).collect();
            if shown.chars().count() > w {
                s.pop();
                s.push('…');
            }
            format!("{s:<w$}")
        })
        .collect::<Vec<_>>()
        .join("  ")
        .trim_end()
        .to_owned()
}

//! `giosg report`: one self-contained HTML page of a copy's figures, offline (no request is
//! sent): totals, chats per day and per room, when chats start, top tags, operators with their
//! first response times, sales per day per currency. The figures are the summary's where both
//! show one ([`crate::summary::each_stored`] reads the copy for both).

mod figures;
mod html;

use crate::args::ReportArgs;
use crate::connect;
use crate::error::CliError;
use giosg_async::ChatFilter;
use std::io::Write;

pub(crate) use figures::Figures;
pub(crate) use html::{render, Meta};

/// Runs `giosg report`.
pub(crate) async fn run(args: &ReportArgs) -> Result<(), CliError> {
    let db = connect::location(&args.db, args.db_schema.as_deref())?;
    let mut filter = ChatFilter::new();
    let mut said = Vec::new();
    if let Some(t) = args.start_time {
        filter = filter.start_time(t);
        said.push(format!("from {}", t.format("%Y-%m-%d %H:%M:%S UTC")));
    }
    if let Some(t) = args.end_time {
        filter = filter.end_time(t);
        said.push(format!("until {}", t.format("%Y-%m-%d %H:%M:%S UTC")));
    }
    if let Some(room) = args.room_id {
        filter = filter.room_id(room);
        said.push(format!("room {room}"));
    }
    if let Some(tag) = &args.tag {
        filter = filter.tag(tag.clone());
        said.push(format!("tag {tag}"));
    }
    let mut figures = Figures::default();
    let names = crate::summary::each_stored(&db, None, &filter, |chat| figures.add(chat))?;
    figures.summary.names = names;
    let meta = Meta {
        source: db.to_string(),
        filters: said.join(", "),
        generated: giosg_async::Utc::now()
            .format("%Y-%m-%d %H:%M UTC")
            .to_string(),
    };
    let page = render(&figures, &meta);
    write_private(&args.out, page.as_bytes())?;
    eprintln!(
        "giosg: wrote the report of {} chats to {}",
        figures.summary.chats,
        args.out.display()
    );
    Ok(())
}

/// Writes `bytes` to `path`, readable by its owner only (it names operators and customers'
/// tags); a symbolic link is refused, an existing report replaced.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<(), CliError> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(CliError::usage(format!(
            "{} is a symbolic link: give the report's own path",
            path.display()
        )));
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| CliError::io(path.display(), &e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| CliError::io(path.display(), &e))
}

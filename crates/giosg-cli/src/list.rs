//! `giosg chats list`: every matching chat, streamed to stdout as it arrives.

use crate::args::{Format, ListArgs};
use crate::connect;
use crate::error::CliError;
use crate::output::{self, ChatWriter, Encoder};
use clap::ValueEnum;
use futures_util::TryStreamExt;
use giosg_async::{ChatFilter, Client, Uuid};
use std::io::{self, BufWriter, IsTerminal, Write};

/// Runs `giosg chats list`.
pub(crate) async fn run(args: &ListArgs) -> Result<(), CliError> {
    let format = resolve_format(args.format, args.csv_logs, io::stdout().is_terminal())?;
    let filter = args.filter.to_filter_from(args.page)?;
    let client = connect::client(&args.api)?;
    let encoder = output::encoder(format, args.csv_logs);
    let out = BufWriter::new(io::stdout().lock());
    let listing = Listing {
        org: args.api.org,
        filter,
        concurrency: args.concurrency.into(),
        limit: args.limit,
    };
    listing.write(&client, encoder, out).await.map(|_| ())
}

/// The format to use: the one asked for, else csv for `--csv-logs`, else a table on a
/// terminal and JSON Lines otherwise.
pub(crate) fn resolve_format(
    asked: Option<Format>,
    csv_logs: bool,
    terminal: bool,
) -> Result<Format, CliError> {
    match asked {
        Some(Format::Csv) => Ok(Format::Csv),
        Some(other) if csv_logs => Err(CliError::usage(format!(
            "--csv-logs needs --format csv, not {}",
            other
                .to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_owned())
        ))),
        Some(other) => Ok(other),
        None if csv_logs => Ok(Format::Csv),
        None if terminal => Ok(Format::Table),
        None => Ok(Format::Jsonl),
    }
}

/// What to list and how much of it.
#[derive(Debug, Clone)]
pub(crate) struct Listing {
    /// The organisation.
    pub org: Uuid,
    /// The filter, `page` included.
    pub filter: ChatFilter,
    /// Pages fetched at once.
    pub concurrency: usize,
    /// Stop after this many chats.
    pub limit: Option<u64>,
}

impl Listing {
    /// Streams the listing through `encoder` into `out`; returns how many chats were written.
    ///
    /// A reader that goes away (`giosg chats list | head`) ends the listing quietly.
    pub(crate) async fn write<W: Write>(
        &self,
        client: &Client,
        encoder: Box<dyn Encoder>,
        out: W,
    ) -> Result<u64, CliError> {
        tracing::debug!(org = %self.org, filter = ?self.filter, "listing chats");
        let mut writer = match ChatWriter::new(encoder, out) {
            Ok(w) => w,
            Err(e) => return quiet_pipe(e).map(|()| 0),
        };
        let mut chats = client
            .chats(self.org)
            .filter(self.filter.clone())
            .concurrency(self.concurrency);
        if let Some(limit) = self.limit {
            chats = chats.limit(limit);
        }
        let mut chats = chats.stream();
        let mut written = 0u64;
        loop {
            let chat = match chats.try_next().await {
                Ok(Some(chat)) => chat,
                Ok(None) => break,
                Err(e) => {
                    let _ = writer.flush();
                    return Err(CliError::from_giosg(&e, Some(self.org)));
                }
            };
            if let Err(e) = writer.write(&chat) {
                return quiet_pipe(e).map(|()| written);
            }
            written += 1;
        }
        let finished = match writer.finish() {
            Ok(()) => Ok(written),
            Err(e) => quiet_pipe(e).map(|()| written),
        };
        crate::warn::completeness(&chats.completeness());
        finished
    }
}

/// A closed pipe on stdout ends the command quietly; any other write error is a failure.
fn quiet_pipe(e: io::Error) -> Result<(), CliError> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(CliError::io("cannot write to stdout", &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_format_follows_the_terminal() {
        assert_eq!(resolve_format(None, false, true).unwrap(), Format::Table);
        assert_eq!(resolve_format(None, false, false).unwrap(), Format::Jsonl);
        assert_eq!(resolve_format(None, true, true).unwrap(), Format::Csv);
        assert_eq!(
            resolve_format(Some(Format::Json), false, true).unwrap(),
            Format::Json
        );
        assert_eq!(
            resolve_format(Some(Format::Csv), true, false).unwrap(),
            Format::Csv
        );
        assert!(resolve_format(Some(Format::Table), true, false).is_err());
    }
}

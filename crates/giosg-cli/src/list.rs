//! `giosg chats list`: every matching chat, streamed to stdout as it arrives.

use crate::args::{Format, ListArgs};
use crate::connect;
use crate::error::CliError;
use crate::output::{self, ChatWriter, CsvOptions, Encoder, TerminalText};
use clap::ValueEnum;
use futures_util::TryStreamExt;
use giosg_async::{ChatFilter, Client, Uuid};
use giosg_sync::format::RoomNames;
use std::io::{self, BufWriter, IsTerminal, Write};

/// Runs `giosg chats list`.
pub(crate) async fn run(args: &ListArgs) -> Result<(), CliError> {
    let csv = CsvOptions {
        logs: args.csv_logs,
        raw: args.csv_raw,
    };
    let terminal = io::stdout().is_terminal();
    let format = resolve_format(args.format, csv, terminal)?;
    let filter = args.filter.to_filter_from(args.page)?;
    // A key that cannot be read is refused before any request.
    let keyring = crate::decrypt::keyring(&args.keys)?;
    let client = connect::client(&args.api)?;
    let org = connect::org(&args.api, &client).await?;
    let rooms = match format {
        Format::Table | Format::Csv => room_names(&client, org).await,
        Format::Jsonl | Format::Json => RoomNames::default(),
    };
    let encoder = output::encoder(format, csv, rooms);
    let out = BufWriter::new(io::stdout().lock());
    let listing = Listing {
        org,
        filter,
        concurrency: args.concurrency.into(),
        limit: args.limit,
        keyring,
    };
    // On a terminal, the API's text cannot drive it: control characters are escaped.
    let written = if terminal {
        listing
            .write(&client, encoder, TerminalText::new(out))
            .await
    } else {
        listing.write(&client, encoder, out).await
    };
    let (_, tally) = written?;
    crate::decrypt::conclude(&tally, listing.keyring.is_some())
}

/// The rooms' names to show, read once for the run; when the token may not read them, one
/// warning, and rooms are shown by id.
pub(crate) async fn room_names(client: &Client, org: Uuid) -> RoomNames {
    let listed: Result<Vec<giosg_async::Room>, _> = client
        .rooms(org)
        .include_deleted(true)
        .stream()
        .try_collect()
        .await;
    match listed {
        Ok(rooms) => giosg_sync::format::room_names(rooms),
        Err(e) => {
            crate::warn::say(&format!(
                "the rooms could not be read ({}); rooms are shown by id",
                e.display_chain()
            ));
            RoomNames::default()
        }
    }
}

/// The format to use: the one asked for, else csv for `--csv-logs` or `--csv-raw`, else a
/// table on a terminal and JSON Lines otherwise.
pub(crate) fn resolve_format(
    asked: Option<Format>,
    csv: CsvOptions,
    terminal: bool,
) -> Result<Format, CliError> {
    let csv_flag = match (csv.logs, csv.raw) {
        (true, _) => Some("--csv-logs"),
        (false, true) => Some("--csv-raw"),
        (false, false) => None,
    };
    match (asked, csv_flag) {
        (Some(Format::Csv), _) => Ok(Format::Csv),
        (Some(other), Some(flag)) => Err(CliError::usage(format!(
            "{flag} needs --format csv, not {}",
            other
                .to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_owned())
        ))),
        (Some(other), None) => Ok(other),
        (None, Some(_)) => Ok(Format::Csv),
        (None, None) if terminal => Ok(Format::Table),
        (None, None) => Ok(Format::Jsonl),
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
    /// The keys that decrypt encrypted chats.
    pub keyring: Option<std::sync::Arc<giosg_sync::Keyring>>,
}

impl Listing {
    /// Streams the listing through `encoder` into `out`, each chat decrypted with the keys
    /// given (or counted when encrypted); returns how many chats were written, and what
    /// decryption did.
    ///
    /// A reader that goes away (`giosg chats list | head`) ends the listing quietly.
    pub(crate) async fn write<W: Write>(
        &self,
        client: &Client,
        encoder: Box<dyn Encoder>,
        out: W,
    ) -> Result<(u64, giosg_sync::Tally), CliError> {
        let mut tally = giosg_sync::Tally::default();
        tracing::debug!(org = %self.org, filter = ?self.filter, "listing chats");
        let mut writer = match ChatWriter::new(encoder, out) {
            Ok(w) => w,
            Err(e) => return quiet_pipe(e).map(|()| (0, tally)),
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
            let mut chat = match chats.try_next().await {
                Ok(Some(chat)) => chat,
                Ok(None) => break,
                Err(e) => {
                    let _ = writer.flush();
                    return Err(CliError::from_giosg(&e, Some(self.org)));
                }
            };
            tally.add(giosg_decrypt::decrypt_all(
                self.keyring.as_deref(),
                std::slice::from_mut(&mut chat),
            ));
            if let Err(e) = writer.write(&chat) {
                return quiet_pipe(e).map(|()| (written, tally));
            }
            written += 1;
        }
        let finished = match writer.finish() {
            Ok(()) => Ok((written, tally)),
            Err(e) => quiet_pipe(e).map(|()| (written, tally)),
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
        let plain = CsvOptions::default();
        let logs = CsvOptions {
            logs: true,
            raw: false,
        };
        let raw = CsvOptions {
            logs: false,
            raw: true,
        };
        assert_eq!(resolve_format(None, plain, true).unwrap(), Format::Table);
        assert_eq!(resolve_format(None, plain, false).unwrap(), Format::Jsonl);
        assert_eq!(resolve_format(None, logs, true).unwrap(), Format::Csv);
        assert_eq!(resolve_format(None, raw, true).unwrap(), Format::Csv);
        assert_eq!(
            resolve_format(Some(Format::Json), plain, true).unwrap(),
            Format::Json
        );
        assert_eq!(
            resolve_format(Some(Format::Csv), logs, false).unwrap(),
            Format::Csv
        );
        assert!(resolve_format(Some(Format::Table), logs, false).is_err());
        let refused = resolve_format(Some(Format::Jsonl), raw, false).unwrap_err();
        assert!(refused
            .message()
            .starts_with("--csv-raw needs --format csv"));
    }
}

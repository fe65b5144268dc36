//! `giosg chats export`: every matching chat appended to a file, resumably, with the copy
//! library ([`giosg_sync::Export`]); here are its flags, messages, progress and exit codes.

use crate::args::{ExportArgs, ExportFormat};
use crate::connect;
use crate::error::CliError;
use crate::progress::Progress;
use giosg_sync::{Export, ExportReport, Format, Refresh};
use std::io::{self, IsTerminal};
use std::path::Path;

/// Runs `giosg chats export`, then says on stderr what it did.
pub(crate) async fn run(args: &ExportArgs) -> Result<(), CliError> {
    let is_csv = args
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let chosen = args.format.unwrap_or(if is_csv {
        ExportFormat::Csv
    } else {
        ExportFormat::Jsonl
    });
    if is_csv && chosen != ExportFormat::Csv {
        return Err(CliError::usage(format!(
            "{} ends in .csv but --format is jsonl: leave out --format, or name the file .jsonl",
            args.out.display()
        )));
    }
    if args.csv_logs && chosen != ExportFormat::Csv {
        return Err(CliError::usage("--csv-logs needs --format csv"));
    }
    if args.csv_raw && chosen != ExportFormat::Csv {
        return Err(CliError::usage("--csv-raw needs --format csv"));
    }
    let format = match (chosen, args.csv_logs) {
        (ExportFormat::Jsonl, _) => Format::Jsonl,
        (ExportFormat::Csv, false) => Format::Csv,
        (ExportFormat::Csv, true) => Format::CsvLogs,
    };
    let filter = args.filter.to_filter()?;
    // A key that cannot be read is refused before any request.
    let keyring = crate::decrypt::keyring(&args.keys)?;
    let client = connect::client(&args.api)?;
    let org = connect::org(&args.api, &client).await?;
    let mut export = Export::new(org, filter, args.out.clone(), format)
        .refresh(Refresh::lookback(args.follow.lookback))
        .concurrency(args.concurrency.into())
        .csv_raw(args.csv_raw);
    if let Some(keyring) = &keyring {
        export = export.decrypt(keyring.clone());
    }
    let report = run_export(&export, &client, io::stderr().is_terminal()).await?;
    eprintln!("giosg: {}", describe(&report, &args.out));
    crate::decrypt::conclude(&report.decryption, keyring.is_some())
}

/// Runs an export with a progress bar when `progress`.
pub(crate) async fn run_export(
    export: &Export,
    client: &giosg_async::Client,
    progress: bool,
) -> Result<ExportReport, CliError> {
    let mut bar = Progress::new(progress);
    let outcome = export.run(client, &mut bar).await;
    bar.end(outcome.is_ok());
    outcome.map_err(|e| CliError::copy(&e, export.org, &export.out.display()))
}

/// One line: `exported 12 new chats and 3 updated to FILE (resumed ...)`.
pub(crate) fn describe(report: &ExportReport, out: &Path) -> String {
    let s = if report.written == 1 { "" } else { "s" };
    let mut line = format!("exported {} new chat{s}", report.written);
    if report.updated > 0 {
        line.push_str(&format!(" and {} updated", report.updated));
    }
    line.push_str(&format!(" to {}", out.display()));
    let c = &report.completeness;
    if c.revisit_requests > 0 {
        line.push_str(&format!(
            "; {} chats read again around those that may have changed, in {} requests",
            c.revisited, c.revisit_requests
        ));
    }
    let mut notes = Vec::new();
    if report.resumed {
        notes.push("resumed where the last run stopped".to_owned());
    }
    if report.cut > 0 {
        notes.push(format!(
            "cut an incomplete tail of {} bytes first",
            report.cut
        ));
    }
    if !notes.is_empty() {
        line.push_str(&format!(" ({})", notes.join("; ")));
    }
    line
}

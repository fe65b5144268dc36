//! `giosg`: list, export and summarise an organisation's chats from the giosg Chat API.
//!
//! ```text
//! giosg chats list    --org <ORG_ID> [--format jsonl|json|csv|table] [--limit N] [filters]
//! giosg chats export  --org <ORG_ID> --out <FILE> [--format jsonl|csv] [filters]
//! giosg chats summary --org <ORG_ID> [--db FILE] [filters]
//! giosg chats sync    --org <ORG_ID> --db <FILE> [--lookback DURATION] [--full] [filters]
//! giosg demo
//! ```
//!
//! Built on the async SDK (`giosg-async`). Every failure is one line on stderr and a distinct
//! exit code (see [`error::Failure`]); the token comes from `GIOSG_API_TOKEN` or a file and is
//! never printed.

mod args;
mod connect;
mod decrypt;
mod demo;
mod directory;
mod error;
mod export;
mod list;
mod output;
mod progress;
mod report;
mod summary;
mod sync;
mod warn;

use args::{ChatsCommand, Cli, Command, DirectoryCommand};
use clap::Parser;
use error::{CliError, Failure};
use std::io::{self, IsTerminal};
use std::process::ExitCode;

fn main() -> ExitCode {
    quiet_panics();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_exit(&e),
    };
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&CliError::io("cannot start the async runtime", &e)),
    };
    match runtime.block_on(run(&cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// Runs the command.
async fn run(cli: &Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::Chats(ChatsCommand::List(args)) => list::run(args).await,
        Command::Chats(ChatsCommand::Export(args)) => export::run(args).await,
        Command::Chats(ChatsCommand::Summary(args)) => summary::run(args).await,
        Command::Chats(ChatsCommand::Sync(args)) => sync::run(args).await,
        Command::Rooms(DirectoryCommand::List(args)) => directory::rooms(args).await,
        Command::Users(DirectoryCommand::List(args)) => directory::users(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Decrypt(args) => decrypt::run(args).await,
        Command::Report(args) => report::run(args).await,
        Command::Completions(args) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut command, "giosg", &mut script);
            match io::Write::write_all(&mut io::stdout().lock(), &script) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                    Err(CliError::io("cannot write the completion script", &e))
                }
                _ => Ok(()),
            }
        }
    }
}

/// Says what failed on one line and turns it into the exit code.
fn fail(e: &CliError) -> ExitCode {
    eprintln!("giosg: {e}");
    ExitCode::from(e.failure.code())
}

/// Help and version go to stdout with exit 0; a usage error is one line on stderr, exit 2.
fn clap_exit(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(Failure::Usage.code())
        }
        _ => {
            // clap's first paragraph, on one line: the error and what it is about.
            let text = e.render().to_string();
            let first = text.split("\n\n").next().unwrap_or_default();
            let line = first.split_whitespace().collect::<Vec<_>>().join(" ");
            let line = line.strip_prefix("error: ").unwrap_or(&line);
            eprintln!("giosg: {line} (see --help)");
            ExitCode::from(Failure::Usage.code())
        }
    }
}

/// `RUST_LOG` turns on `tracing` logs on stderr; without it nothing is logged.
fn init_tracing() {
    let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() else {
        return;
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .init();
}

/// A bug is reported on one line, without a backtrace.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".to_owned());
        let what = what.split_whitespace().collect::<Vec<_>>().join(" ");
        let what = giosg_async::printable(&what);
        eprintln!("giosg: internal error ({what}); please report it");
    }));
}

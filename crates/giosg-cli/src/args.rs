//! The command line: every command, option and flag (clap derive), and how the filter flags
//! become a [`ChatFilter`].

use crate::error::CliError;
use clap::{builder::NonEmptyStringValueParser, Args, Parser, Subcommand, ValueEnum};
use giosg_async::{ChatFilter, DateTime, OrderBy, Utc, Uuid, MAX_PAGE_SIZE};
use std::path::PathBuf;

/// The exit codes and the token rules, shown at the end of every `--help`.
macro_rules! footer {
    () => {
        "Authentication: the token comes from the GIOSG_API_TOKEN environment variable or from
--token-file <PATH>, never from an argument (it would show in `ps`); --bearer sends it as
an OAuth2 access token instead of a giosg API token. RUST_LOG=giosg=debug (or any tracing
filter) writes logs to stderr; the token is never printed.

Exit codes:
  0  success
  1  local failure: the output file cannot be read or written
  2  usage: invalid arguments, refused before any request is sent
  3  authentication: no usable token, or the API answered 401 or 403
  4  other API errors: 404, 400, or 429 / 5xx still failing after the retries
  5  network: the connection failed, timed out or broke, after the retries
  6  bad response: an undecodable body, pages that do not add up, a body too large
  7  copied, but some encrypted chats could not be decrypted (written as they came)"
    };
}

/// `giosg`: list, export and summarise an organisation's giosg chats.
#[derive(Debug, Parser)]
#[command(
    name = "giosg",
    version,
    about = "List, export and summarise an organisation's chats from the giosg Chat API",
    after_help = concat!(
        "Examples:
  giosg demo                         # see it work against a local mock API, no account needed
  export GIOSG_API_TOKEN=...         # your giosg API token
  giosg chats list --org <ORG_ID> --format table --limit 20
  giosg chats export --org <ORG_ID> --out chats.jsonl --start-time 2025-01-01
  giosg chats summary --org <ORG_ID> --only-ended

",
        footer!()
    )
)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once, never moved around
pub(crate) enum Command {
    /// List, export or summarise an organisation's chats.
    #[command(subcommand)]
    Chats(ChatsCommand),
    /// List an organisation's rooms (their names, domains, whether shared or deleted).
    #[command(subcommand)]
    Rooms(DirectoryCommand),
    /// List an organisation's users: operators and bots (names, email).
    #[command(subcommand)]
    Users(DirectoryCommand),
    /// Start a local mock giosg API with generated chats and run list, summary and export on it.
    #[command(after_help = concat!(
        "Examples:
  giosg demo
  giosg demo --out demo.jsonl --chats 2000

Nothing leaves this machine: the mock listens on 127.0.0.1 only and needs no token from you.

",
        footer!()
    ))]
    Demo(DemoArgs),
    /// Write a report of a copy's chats: one HTML page that opens offline, with charts and tables.
    #[command(after_help = concat!(
        "Examples:
  giosg report --db chats.db --out report.html
  giosg report --db chats.db --out january.html --start-time 2025-01-01 --end-time 2025-02-01
  giosg report --db 'postgres://analyst@db.example/support' --out report.html --tag Premium

The page holds everything it shows (no script, font or image is loaded: it opens from disk with
no network) and each chart's figures as a table; its figures are the summary's where both show
one. Offline: no request is sent.

",
        footer!()
    ))]
    Report(ReportArgs),
    /// Decrypt the encrypted chats of an export (JSON Lines) or of a copy made before, with the
    /// organisation's private key.
    #[command(after_help = concat!(
        "Examples:
  giosg decrypt --private-key org.pem --in chats.jsonl --out plain.jsonl
  giosg decrypt --private-key org.pem --passphrase-file pass.txt --db chats.db

Each chat's messages are decrypted into their message; encrypted_message is kept as the server
sent it. A chat that cannot be decrypted (no key fits, an altered message) is kept as it came,
named on stderr, and the command exits 7.

",
        footer!()
    ))]
    Decrypt(DecryptArgs),
    /// Print a shell completion script: `giosg completions bash > /etc/bash_completion.d/giosg`.
    #[command(after_help = "Examples:
  giosg completions bash > ~/.local/share/bash-completion/completions/giosg
  giosg completions zsh > ~/.zfunc/_giosg        # with fpath+=~/.zfunc in ~/.zshrc
  giosg completions fish > ~/.config/fish/completions/giosg.fish
  giosg completions powershell >> $PROFILE")]
    Completions(CompletionsArgs),
}

/// `giosg completions <SHELL>`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `giosg chats ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ChatsCommand {
    /// Stream every matching chat to stdout (jsonl, json, csv or a table).
    #[command(after_help = concat!(
        "Examples:
  giosg chats list --org <ORG_ID> --format table --limit 20
  giosg chats list --org <ORG_ID> --tag Premium --has-sales true > premium.jsonl
  giosg chats list --org <ORG_ID> --start-time 2025-01-01T00:00:00+02:00 --end-time 2025-02-01 --format csv
  giosg chats list --org <ORG_ID> --ordering -start_time --only-ended --csv-logs > messages.csv

",
        footer!()
    ))]
    List(ListArgs),
    /// Write every matching chat to a file; rerun to resume after the last chat written.
    #[command(after_help = concat!(
        "Examples:
  giosg chats export --org <ORG_ID> --out chats.jsonl
  giosg chats export --org <ORG_ID> --out chats.csv --format csv --start-time 2025-01-01
  giosg chats export --org <ORG_ID> --out messages.csv --csv-logs

Parallel: with the default ordering the listing is split into start-time windows fetched
--concurrency at a time, each paged by keyset (since_id), so chats added or deleted meanwhile
shift nothing; chats are appended in the order they arrive. Other orderings page one page at
a time; descending ones are refused (chats added later would be missed on a rerun).

Resumable and crash-safe: chats are appended as whole records, and FILE.giosg-state records,
each second after the file is synced, the listing, how much of the file is complete and which
windows are still open. A rerun with the same options cuts what the state does not account for
(a torn record) and continues from there. Killed at any moment and rerun, the file holds every
chat exactly once. Only files the export made are written: a non-empty FILE without its state
is refused, and neither FILE nor its state is followed through a symbolic link.

Updates followed: a rerun of a finished export appends the chats added since, and reads again,
in narrow windows, the chats that may have changed (started within --lookback, or still going
on when written, at any age), appending the newer version of each that did. The last record of
a chat id in the file is its newest state. A rerun with other filters, ordering or format is refused.

",
        footer!()
    ))]
    Export(ExportArgs),
    /// Keep a local SQLite copy of the matching chats true: new chats, chats that changed.
    #[command(after_help = concat!(
        "Examples:
  giosg chats sync --org <ORG_ID> --db chats.db
  giosg chats sync --org <ORG_ID> --db chats.db --lookback 7d
  giosg chats sync --org <ORG_ID> --db chats.db --full     # also find chats deleted upstream
  sqlite3 chats.db 'SELECT date(start_time), count(*) FROM chats GROUP BY 1'

Each run lists, in start-time windows fetched --concurrency at a time, every chat that started
since the earliest of: the last chat of the last complete sync, the earliest chat stored while
still going on, and now minus --lookback. Each page is stored in one transaction; a chat whose
content changed has its rows replaced. Killed at any moment, a rerun goes on; a second run
against an unchanged server changes nothing. --full lists everything and marks the chats the
server no longer serves as missing (the summary leaves them out). The file is made for one
organisation and one set of filters: another is refused. See the README for the schema.

",
        footer!()
    ))]
    Sync(SyncArgs),
    /// Count chats, real conversations, sales and messages, and chart chats per day.
    #[command(after_help = concat!(
        "Examples:
  giosg chats summary --org <ORG_ID>
  giosg chats summary --org <ORG_ID> --start-time 2025-01-01 --end-time 2025-02-01 --only-ended

",
        footer!()
    ))]
    Summary(SummaryArgs),
}

/// Where the API is and how to authenticate and retry.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connection")]
pub(crate) struct ApiArgs {
    /// The organisation whose chats to read (a UUID; default: the GIOSG_ORG environment
    /// variable, else the token's own user's organisation, read from users/me). `summary --db`
    /// reads it from the database.
    #[arg(long, value_name = "ORG_ID", value_parser = parse_uuid, env = "GIOSG_ORG")]
    pub org: Option<Uuid>,
    /// The API's base URL (https, or http for a loopback host; default: the GIOSG_BASE_URL
    /// environment variable, else giosg's).
    #[arg(long, value_name = "URL", default_value = giosg_async::DEFAULT_BASE_URL, env = "GIOSG_BASE_URL")]
    pub base_url: String,
    /// Read the token from this file (default: the GIOSG_API_TOKEN environment variable).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Send the token as an OAuth2 access token (`Authorization: Bearer`).
    #[arg(long)]
    pub bearer: bool,
    /// Requests per page at most, retries included (429, 5xx and network failures are retried).
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=50))]
    pub max_attempts: u32,
    /// The first backoff step between retries, in milliseconds (doubles each retry, with jitter;
    /// a Retry-After header wins).
    #[arg(long, value_name = "MS", default_value_t = 500, hide = true)]
    pub retry_delay_ms: u64,
    /// The longest wait across the retries of one request, in seconds; a 429 whose
    /// Retry-After asks for longer fails at once, saying what it asked for.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub max_wait: u64,
    /// The most one request may take, body included, in seconds (each retry gets its own).
    #[arg(long, value_name = "SECONDS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// The most connecting may take (DNS, TCP, TLS), in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub connect_timeout: u64,
    /// The most the response may take to start, and its body to bring each 1 KiB (a stalled
    /// or dribbling response fails), in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub read_timeout: u64,
}

/// One flag per API query parameter (but `page`, which only `list` and `summary` take).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Filters (one per API parameter)")]
pub(crate) struct FilterArgs {
    /// Sort keys, comma-separated, `-` for descending: start_time, end_time (default start_time).
    #[arg(long, value_name = "KEYS", value_parser = parse_ordering, allow_hyphen_values = true)]
    pub ordering: Option<OrderBy>,
    // Chats per request: the range is the SDK's, refused by `to_filter` naming this flag.
    #[arg(long, value_name = "N", help = format!(
        "Chats per request, 1 to {MAX_PAGE_SIZE} (API default 25; export defaults to {MAX_PAGE_SIZE})"
    ))]
    pub page_size: Option<u32>,
    /// Only chats after this chat in the listing's order (exclusive).
    #[arg(long, value_name = "ID", value_parser = parse_uuid)]
    pub since_id: Option<Uuid>,
    /// Only chats started at or after this moment: a date (2025-01-31: midnight UTC), a date
    /// and time without an offset, taken as UTC (2025-01-31 10:00 or 2025-01-31T10:00:00), or
    /// RFC 3339 with any offset (2025-01-31T12:00:00+02:00).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub start_time: Option<DateTime<Utc>>,
    /// Only chats ended before this moment (exclusive; excludes chats still going on); the
    /// same forms as --start-time.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub end_time: Option<DateTime<Utc>>,
    /// Only chats with (true) or without (false) a purchased shopping cart.
    #[arg(long, value_name = "true|false")]
    pub has_sales: Option<bool>,
    /// Only real conversations (true) or only non-real chats (false).
    #[arg(long, value_name = "true|false")]
    pub is_real_conversation: Option<bool>,
    /// Only chats in this room.
    #[arg(long, value_name = "ID", value_parser = parse_uuid)]
    pub room_id: Option<Uuid>,
    /// Only chats an operator tagged with exactly this text.
    #[arg(long, value_name = "TEXT", value_parser = NonEmptyStringValueParser::new())]
    pub tag: Option<String>,
    /// Only chats with at least this many messages.
    #[arg(long, value_name = "N")]
    pub min_message_count: Option<u32>,
    /// Only chats that have ended.
    #[arg(long)]
    pub only_ended: bool,
}

impl FilterArgs {
    /// The API filter these flags ask for, refused (exit 2, naming the flags) where the SDK
    /// would refuse it: a page size out of range, an empty time range, an empty tag.
    pub(crate) fn to_filter(&self) -> Result<ChatFilter, CliError> {
        self.to_filter_from(None)
    }

    /// Like [`FilterArgs::to_filter`], starting at `page` (`--page` of list and summary).
    pub(crate) fn to_filter_from(&self, page: Option<u32>) -> Result<ChatFilter, CliError> {
        let mut filter = ChatFilter::new();
        filter.page = page;
        filter.ordering = self.ordering.clone();
        filter.page_size = self.page_size;
        filter.since_id = self.since_id;
        filter.start_time = self.start_time;
        filter.end_time = self.end_time;
        filter.has_sales = self.has_sales;
        filter.is_real_conversation = self.is_real_conversation;
        filter.room_id = self.room_id;
        filter.tag = self.tag.clone();
        filter.min_message_count = self.min_message_count;
        filter.only_ended = self.only_ended;
        giosg_async::query::validate(&filter).map_err(|e| CliError::invalid(&e))?;
        Ok(filter)
    }
}

/// `giosg rooms ...` and `giosg users ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum DirectoryCommand {
    /// Stream every one to stdout (table, jsonl, json or csv).
    #[command(after_help = concat!(
        "Examples:
  giosg rooms list --org <ORG_ID>
  giosg users list --org <ORG_ID> --include-deleted --format csv > users.csv

",
        footer!()
    ))]
    List(DirectoryArgs),
}

/// `giosg rooms list`, `giosg users list`.
#[derive(Debug, Args)]
pub(crate) struct DirectoryArgs {
    /// The API and credentials.
    #[command(flatten)]
    pub api: ApiArgs,
    /// Deleted ones too (old chats name rooms deleted since, and operators who have left).
    #[arg(long)]
    pub include_deleted: bool,
    /// Output format (default: table when stdout is a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// `giosg chats list`.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// The keys that decrypt encrypted chats.
    #[command(flatten)]
    pub keys: KeyArgs,
    /// The API and credentials.
    #[command(flatten)]
    pub api: ApiArgs,
    /// The filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// The page to start from (default 1).
    #[arg(long, value_name = "N")]
    pub page: Option<u32>,
    /// Output format (default: table when stdout is a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// With csv: one row per message instead of one per chat.
    #[arg(long)]
    pub csv_logs: bool,
    /// With csv: write text cells exactly as the API sent them. By default a cell of text
    /// from the API that begins with =, +, -, @, a tab or a carriage return (a formula to a
    /// spreadsheet) gets a ' in front of it, as OWASP advises against formula injection.
    #[arg(long)]
    pub csv_raw: bool,
    /// Stop after this many chats (no page is fetched that cannot be needed for them).
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Requests at once: the default ordering is split into start-time windows fetched in
    /// parallel (chats still come in order, each once); other orderings, --page and --limit
    /// fetch one page at a time.
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=32))]
    pub concurrency: u16,
}

/// `giosg chats export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The keys that decrypt encrypted chats.
    #[command(flatten)]
    pub keys: KeyArgs,
    /// The API and credentials.
    #[command(flatten)]
    pub api: ApiArgs,
    /// The filters; a rerun must use the same ones to resume.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// The file to write, or to resume when it exists.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// File format (default: csv for a FILE ending in .csv, jsonl otherwise).
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// With csv: one row per message instead of one per chat.
    #[arg(long)]
    pub csv_logs: bool,
    /// With csv: write text cells exactly as the API sent them. By default a cell of text
    /// from the API that begins with =, +, -, @, a tab or a carriage return (a formula to a
    /// spreadsheet) gets a ' in front of it, as OWASP advises against formula injection. A
    /// file is continued only as it was started.
    #[arg(long)]
    pub csv_raw: bool,
    /// Which chats a rerun lists again.
    #[command(flatten)]
    pub follow: FollowArgs,
    /// Requests at once, in start-time windows of the default ordering (other orderings fetch
    /// one page at a time).
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=32))]
    pub concurrency: u16,
}

/// What a rerun of `sync` or `export` reads again to follow changes ([`giosg_sync::Refresh`]).
#[derive(Debug, Args)]
pub(crate) struct FollowArgs {
    /// Read again the chats that started within this long (`3d`, `12h`, `30m`; `0` for none),
    /// to pick up messages, tags and carts added after they were first written; chats still
    /// going on when written are read again too, at any age, each in a narrow window (about
    /// one request each).
    #[arg(long, value_name = "DURATION", default_value = "3d", value_parser = parse_duration)]
    pub lookback: chrono::TimeDelta,
}

/// The private keys that decrypt encrypted chats.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct KeyArgs {
    /// The organisation's RSA private key, to decrypt encrypted chats (PEM or DER, PKCS#1 or
    /// PKCS#8, plain or encrypted); repeat it for rotated keys: each chat is opened with the
    /// one that fits.
    #[arg(long = "private-key", value_name = "FILE")]
    pub private_keys: Vec<PathBuf>,
    /// A file holding the passphrase of an encrypted private key (else the GIOSG_KEY_PASSPHRASE
    /// environment variable; never an argument).
    #[arg(long, value_name = "FILE", requires = "private_keys")]
    pub passphrase_file: Option<PathBuf>,
}

/// `giosg chats sync`.
#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    /// The keys that decrypt encrypted chats.
    #[command(flatten)]
    pub keys: KeyArgs,
    /// The API and credentials.
    #[command(flatten)]
    pub api: ApiArgs,
    /// The filters the database is for (a database keeps one set).
    #[command(flatten)]
    pub filter: FilterArgs,
    /// The copy to create or update: a SQLite file, or a PostgreSQL database
    /// (postgres://USER@HOST:PORT/DBNAME[?sslmode=disable|prefer|require|verify-full]; a
    /// password in the URL or in PGPASSWORD is never printed).
    #[arg(long, value_name = "FILE|URL")]
    pub db: String,
    /// The PostgreSQL schema the copy is in (default giosg).
    #[arg(long, value_name = "NAME", requires = "db")]
    pub db_schema: Option<String>,
    /// Which chats a rerun lists again.
    #[command(flatten)]
    pub follow: FollowArgs,
    /// List every chat, and mark those the server no longer serves as missing.
    #[arg(long)]
    pub full: bool,
    /// Requests at once.
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=32))]
    pub concurrency: u16,
}

/// `giosg chats summary`.
#[derive(Debug, Args)]
pub(crate) struct SummaryArgs {
    /// The API and credentials.
    #[command(flatten)]
    pub api: ApiArgs,
    /// The filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Summarise the chats a `giosg chats sync` copy holds (a SQLite file or a postgres://
    /// URL), offline (no request is sent; chats the server no longer serves are left out).
    #[arg(long, value_name = "FILE|URL")]
    pub db: Option<String>,
    /// The PostgreSQL schema the copy is in (default giosg).
    #[arg(long, value_name = "NAME", requires = "db")]
    pub db_schema: Option<String>,
    /// The page to start from (default 1).
    #[arg(long, value_name = "N")]
    pub page: Option<u32>,
    /// Requests at once, in start-time windows of the default ordering (other orderings and
    /// --page fetch one page at a time).
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=32))]
    pub concurrency: u16,
}

/// `giosg demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Export to this file (default: a new file in the temporary directory).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// How many chats the mock serves.
    #[arg(long, value_name = "N", default_value_t = 500,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub chats: u32,
    /// The seed of the generated chats.
    #[arg(long, value_name = "N", default_value_t = 7)]
    pub seed: u64,
}

/// How `list` writes chats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// One JSON object per line, the API's field names.
    Jsonl,
    /// One JSON array.
    Json,
    /// One row per chat (scalar fields and counts), or per message with --csv-logs; text
    /// that a spreadsheet would take for a formula gets a ' in front (--csv-raw: as sent).
    Csv,
    /// Columns to skim: start, room, messages, tags, sales total.
    Table,
}

/// How `export` writes chats: line-based formats only, so that a file can be resumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    /// One JSON object per line.
    Jsonl,
    /// One row per chat, or per message with --csv-logs; text that a spreadsheet would take
    /// for a formula (=, +, -, @, tab or carriage return first) gets a ' in front.
    Csv,
}

/// Parses a UUID (`7f9e9580-095b-42c7-838c-c04e667b26f7`).
fn parse_uuid(s: &str) -> Result<Uuid, String> {
    Uuid::parse_str(s)
        .map_err(|_| format!("{s:?} is not a UUID (like 7f9e9580-095b-42c7-838c-c04e667b26f7)"))
}

/// Parses an ordering (`-start_time,end_time`).
fn parse_ordering(s: &str) -> Result<OrderBy, String> {
    s.parse()
        .map_err(|e: giosg_async::ParseOrderByError| e.to_string())
}

/// Parses a duration: a whole number and a unit (`d`, `h`, `m`, `s`), or `0`.
fn parse_duration(s: &str) -> Result<chrono::TimeDelta, String> {
    if s == "0" {
        return Ok(chrono::TimeDelta::zero());
    }
    let bad = || format!("{s:?} is not a duration like 3d, 12h, 30m or 0");
    let (number, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => return Err(bad()),
    };
    n.checked_mul(seconds)
        .filter(|&s| s >= 0)
        .and_then(chrono::TimeDelta::try_seconds)
        .ok_or_else(bad)
}

/// The forms [`parse_time`] takes, for its errors.
const TIME_FORMS: &str = "expected a date (2025-01-31, midnight UTC), a date and time taken as UTC \
     (2025-01-31 10:00, 2025-01-31T10:00:00.000), or RFC 3339 with an offset (2025-01-31T12:00:00+02:00)";

/// Parses a moment: a date alone (midnight UTC), a date and time without an offset (UTC; `T` or
/// a space between them, seconds optional), or RFC 3339 with any offset. A month or day that
/// does not exist is named.
pub(crate) fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    let b = s.as_bytes();
    let is_date = b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if is_date {
        let number = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(0);
        let (year, month, day) = (number(0..4), number(5..7), number(8..10));
        if !(1..=12).contains(&month) {
            return Err(format!("{s:?}: there is no month {month}; {TIME_FORMS}"));
        }
        let Some(date) = i32::try_from(year)
            .ok()
            .and_then(|y| chrono::NaiveDate::from_ymd_opt(y, month, day))
        else {
            return Err(format!(
                "{s:?}: {year:04}-{month:02} has no day {day}; {TIME_FORMS}"
            ));
        };
        if b.len() == 10 {
            return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
        }
    }
    let mut t = s.to_owned();
    if b.get(10) == Some(&b' ') {
        t.replace_range(10..11, "T");
    }
    if t.len() == 16 {
        // No seconds: `2025-01-31T10:00`.
        t.push_str(":00");
    }
    giosg_async::time::parse(&t).map_err(|e| format!("{s:?}: {e}; {TIME_FORMS}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn times_take_offsets_naive_values_and_dates() {
        let utc = parse_time("2025-01-01T10:00:00Z").unwrap();
        assert_eq!(parse_time("2025-01-01T12:00:00+02:00").unwrap(), utc);
        assert_eq!(parse_time("2025-01-01T10:00:00").unwrap(), utc);
        assert_eq!(
            parse_time("2025-01-01").unwrap(),
            parse_time("2025-01-01T00:00:00Z").unwrap()
        );
        assert_eq!(parse_time("2025-01-01 10:00").unwrap(), utc);
        assert_eq!(parse_time("2025-01-01T10:00").unwrap(), utc);
        assert_eq!(parse_time("2025-01-01 10:00:00").unwrap(), utc);
        assert_eq!(parse_time(" 2025-01-01 10:00:00.000Z ").unwrap(), utc);
        let month = parse_time("2025-13-01").unwrap_err();
        assert!(month.contains("no month 13"), "{month}");
        let day = parse_time("2025-02-30").unwrap_err();
        assert!(day.contains("2025-02 has no day 30"), "{day}");
        let other = parse_time("yesterday").unwrap_err();
        assert!(other.contains("a date (2025-01-31"), "{other}");
    }
}

/// `giosg decrypt`.
#[derive(Debug, Args)]
pub(crate) struct DecryptArgs {
    /// The keys.
    #[command(flatten)]
    pub keys: KeyArgs,
    /// An export in JSON Lines to decrypt (with --out).
    #[arg(
        long = "in",
        value_name = "FILE",
        requires = "out",
        conflicts_with = "db"
    )]
    pub input: Option<PathBuf>,
    /// Where to write the decrypted chats, one JSON object per line (a new file).
    #[arg(long, value_name = "FILE", requires = "input")]
    pub out: Option<PathBuf>,
    /// A copy `giosg chats sync` made (a SQLite file or a postgres:// URL), decrypted in place.
    #[arg(long, value_name = "FILE|URL", required_unless_present = "input")]
    pub db: Option<String>,
    /// The PostgreSQL schema the copy is in (default giosg).
    #[arg(long, value_name = "NAME", requires = "db")]
    pub db_schema: Option<String>,
}

/// `giosg report`.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// The copy `giosg chats sync` made: a SQLite file or a postgres:// URL.
    #[arg(long, value_name = "FILE|URL")]
    pub db: String,
    /// The PostgreSQL schema the copy is in (default giosg).
    #[arg(long, value_name = "NAME")]
    pub db_schema: Option<String>,
    /// The HTML file to write (replaced if it exists).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Only chats that started at or after this time (RFC 3339, a date, or a naive time as UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub start_time: Option<DateTime<Utc>>,
    /// Only chats that started before this time.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub end_time: Option<DateTime<Utc>>,
    /// Only chats of this room.
    #[arg(long, value_name = "ID")]
    pub room_id: Option<Uuid>,
    /// Only chats with this tag.
    #[arg(long, value_name = "TEXT")]
    pub tag: Option<String>,
}

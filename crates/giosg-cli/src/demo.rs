//! `giosg demo`: the tool at work without a giosg account. It starts the embedded giosg-mock
//! on loopback with seeded chats and runs list, summary and export against it, showing each
//! command as a person would type it.

use crate::args::{ApiArgs, DemoArgs, Format};
use crate::connect;
use crate::error::{CliError, Failure};
use crate::export::{describe, run_export};
use crate::list::Listing;
use crate::output;
use crate::summary;
use giosg_async::ChatFilter;
use giosg_mock::{Generator, MockServer};
use giosg_sync::{Export, Format as ExportFormat};
use std::io::{self, BufRead, Write};
use std::path::Path;

/// How many chats the demo's list shows.
const LIST_LIMIT: u64 = 10;
/// How many chats "arrive" between the two exports.
const NEW_CHATS: usize = 5;

/// Runs `giosg demo`, writing to stdout.
pub(crate) async fn run(args: &DemoArgs) -> Result<(), CliError> {
    let mock = MockServer::builder()
        .generated(args.seed, args.chats as usize)
        .start()
        .map_err(|e| CliError::io("cannot start the mock API on 127.0.0.1", &e))?;
    let org = mock.org();
    let api = ApiArgs {
        org: Some(org),
        base_url: mock.base_url(),
        token_file: None,
        bearer: false,
        max_attempts: 5,
        retry_delay_ms: 500,
        max_wait: 120,
        timeout: 120,
        connect_timeout: 10,
        read_timeout: 30,
    };
    let client = connect::build(&api, mock.token().to_owned())?;
    // Without --out, a file in a directory of its own in the temporary directory
    // (unpredictable, owner only), removed at the end.
    let private = tempfile::Builder::new()
        .prefix("giosg-demo-")
        .tempdir()
        .map_err(|e| CliError::io("cannot create a temporary directory", &e))?;
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| private.path().join("chats.jsonl"));
    let stdout = io::stdout();
    let say = |text: String| -> Result<(), CliError> {
        let mut out = stdout.lock();
        writeln!(out, "{text}")
            .and_then(|()| out.flush())
            .map_err(|e| CliError::io("cannot write to stdout", &e))
    };

    say(format!(
        "giosg demo: a local copy of the giosg Chat API (giosg-mock) serves {} generated chats\n\
         at {}. Nothing leaves this machine, and no token is needed.\n",
        args.chats,
        mock.base_url()
    ))?;

    say(format!(
        "$ giosg chats list --org {org} --format table --limit {LIST_LIMIT}"
    ))?;
    let listing = Listing {
        keyring: None,
        org,
        filter: ChatFilter::new(),
        concurrency: 4,
        limit: Some(LIST_LIMIT),
    };
    listing
        .write(
            &client,
            output::encoder(
                Format::Table,
                output::CsvOptions::default(),
                crate::list::room_names(&client, org).await,
            ),
            stdout.lock(),
        )
        .await?;

    say(format!("\n$ giosg chats summary --org {org}"))?;
    let mut figures = summary::collect(&client, org, ChatFilter::new(), 4).await?;
    figures.names = summary::Names::read(&client, org).await;
    figures
        .render(&mut stdout.lock())
        .map_err(|e| CliError::io("cannot write to stdout", &e))?;

    let export = Export::new(org, ChatFilter::new(), path.clone(), ExportFormat::Jsonl);
    let command = format!("$ giosg chats export --org {org} --out {}", path.display());
    say(format!("\n{command}"))?;
    let report = run_export(&export, &client, false).await?;
    say(describe(&report, &path))?;

    let last_start = mock.chats().iter().filter_map(|c| c.start_time).max();
    let mut generator = Generator::new(
        args.seed ^ 0x5eed,
        last_start.unwrap_or_else(giosg_mock::epoch) + chrono::TimeDelta::minutes(1),
    );
    mock.push_chats((0..NEW_CHATS).map(|_| generator.chat()).collect());
    say(format!(
        "\nMeanwhile {NEW_CHATS} new chats arrive. The same command continues after the last chat\n\
         written (the checkpoint in the state saved beside the file) and reads again the chats\n\
         still open then; killed at any moment, it resumes the same way:\n{command}"
    ))?;
    let report = run_export(&export, &client, false).await?;
    say(describe(&report, &path))?;

    let (lines, first) = peek(&path).map_err(|e| CliError::io(path.display(), &e))?;
    say(format!(
        "\n{} now holds {lines} chats, one JSON object per line:\n{first}",
        path.display()
    ))?;
    // The copy: a SQLite file kept true by `sync`, answered in SQL.
    let db = private.path().join("chats.db");
    say(format!(
        "\n$ giosg chats sync --org {org} --db {}",
        db.display()
    ))?;
    let options = giosg_sync::SyncOptions::new(org, ChatFilter::new());
    let store = giosg_sync::Store::open(&db, &options.listing())
        .map_err(|e| CliError::store(&db.display(), &e))?;
    let (store, report) = giosg_sync::sync(&client, store, &options, &mut ())
        .await
        .map_err(|e| CliError::copy(&e, org, &db.display()))?;
    say(format!("synced {report}"))?;
    let query = "SELECT date(start_time) AS day, count(*) AS chats FROM chats \
                 WHERE missing_since IS NULL GROUP BY day ORDER BY day DESC LIMIT 5";
    say(format!("\n$ sqlite3 {} \"{query}\"", db.display()))?;
    drop(store);
    let rows = rusqlite::Connection::open(&db)
        .and_then(|conn| {
            let mut stmt = conn.prepare(query)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
                .collect::<Result<Vec<_>, _>>();
            rows
        })
        .map_err(|e| CliError::new(Failure::Local, format!("{}: SQLite: {e}", db.display())))?;
    for (day, chats) in rows {
        say(format!("{day}|{chats}"))?;
    }
    say(
        "\nNow with your own organisation (in a checkout, `giosg` is \
         `cargo run --release -p giosg-cli --`):\n  \
         export GIOSG_API_TOKEN=<your API token>\n  \
         giosg chats list --org <your organisation id> --format table --limit 20\n  \
         giosg --help"
            .to_owned(),
    )
}

/// The number of lines in a file and its first line, cut to 100 characters.
fn peek(path: &Path) -> io::Result<(u64, String)> {
    let file = io::BufReader::new(std::fs::File::open(path)?);
    let mut lines = 0u64;
    let mut first = String::new();
    for line in file.lines() {
        let line = line?;
        if lines == 0 {
            first = match line.char_indices().nth(100) {
                Some((i, _)) => format!("{}…", &line[..i]),
                None => line,
            };
        }
        lines += 1;
    }
    Ok((lines, first))
}

//! `cargo xtask bench`, part 7: `giosg chats sync` of every chat of a mock into a new SQLite
//! database against `giosg chats export` of the same chats to JSON Lines, interleaved (the
//! ratio of their throughputs, and the sync's peak RSS); against the peers people use for this
//! (dlt's rest_api source into DuckDB, and sqlite-utils inserting the export); then a second
//! sync, nothing changed, of chats spread over a year of which some were still open, whose
//! requests a mock started with `--log-requests` counts.

use super::env::Bins;
use super::export::{self, Who};
use super::proc::{self, Mock, Usage};
use super::report::Report;
use super::stats::{ratios, Stat};
use super::{progress, step, Config, MOCK_TIMEOUT, RUN_TIMEOUT, SEED, TOKEN};
use giosg_model::{DateTime, Utc};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// A sync into a new database keeps at least this share of the export's throughput (the store
/// writes about twice the bytes of the export).
const TARGET_RATIO: f64 = 0.35;
/// Chats of the peers' comparison.
const PEER_CHATS: usize = 20_000;
/// The sync's throughput at least, in multiples of dlt's.
const TARGET_VS_DLT: f64 = 20.0;
/// The sync's throughput at least, in multiples of sqlite-utils inserting the export.
const TARGET_VS_SQLITE_UTILS: f64 = 3.0;
/// The second sync's data: chats spread over a year, this many of them still open.
const SECOND_CHATS: usize = 20_000;
const SECOND_OPEN: usize = 1_000;
/// A sync's peak RSS at most, in MiB.
const TARGET_RSS_MIB: f64 = 64.0;
/// The second sync's lookback, in days: the CLI's default.
const LOOKBACK_DAYS: u64 = 3;
/// Chats a page: the API's maximum, the CLI's default.
const PAGE_SIZE: usize = super::raw::PAGE_SIZE;
/// The path of the request that marks, in the logging mock's log, the end of the second sync.
const MARK: &str = "/xtask-bench/end-of-second-sync";
/// Longest the logging mock may take to log the mark.
const MARK_TIMEOUT: Duration = Duration::from_secs(30);

/// Part 7: sync vs export, interleaved, then the second sync's requests.
pub(super) fn section(
    config: &Config,
    bins: &Bins,
    tmp: &Path,
    report: &mut Report,
) -> Result<(), String> {
    let n = config.sync_chats;
    let db = tmp.join("sync.db");
    let (exports, syncs) = {
        step(&format!("sync: starting giosg-mock with {n} chats"));
        let mock = Mock::start(&bins.mock, n, SEED, TOKEN, None, None, MOCK_TIMEOUT)?;
        report.mock(&mock, None)?;
        step("sync: one warm-up run each of `chats export` and `chats sync`");
        export::once(Who::Ours, bins, None, tmp, &mock)?;
        sync_new(bins, tmp, &db, &mock)?;
        let (mut exports, mut syncs) = (Vec::new(), Vec::new());
        for round in 0..config.sync_rounds {
            let usage = export::once(Who::Ours, bins, None, tmp, &mock)?;
            progress(&format!("round {} export", round + 1), &usage);
            exports.push(usage);
            let usage = sync_new(bins, tmp, &db, &mock)?;
            progress(&format!("round {} sync", round + 1), &usage);
            syncs.push(usage);
        }
        (exports, syncs)
    };
    remove_db(&db);
    let peers = peers(config, bins, tmp)?;
    step(&format!(
        "sync: {SECOND_CHATS} chats over a year, {SECOND_OPEN} of them open, synced twice \
         (--lookback {LOOKBACK_DAYS}d), the second time against a giosg-mock logging its requests"
    ));
    let second = second_sync(bins, tmp, &db)?;
    remove_db(&db);
    step(&format!(
        "  second sync: {} requests in {:.2} s",
        second.requests, second.usage.wall
    ));
    let field = |runs: &[Usage], f: fn(&Usage) -> f64| runs.iter().map(f).collect::<Vec<f64>>();
    let (ew, sw) = (field(&exports, |u| u.wall), field(&syncs, |u| u.wall));
    let (ec, sc) = (field(&exports, |u| u.cpu), field(&syncs, |u| u.cpu));
    let (em, sm) = (field(&exports, |u| u.rss_mib), field(&syncs, |u| u.rss_mib));
    let k = format!("{}k", n / 1000);
    let rate = |walls: &[f64]| format!("{:.0} chats/s", n as f64 / Stat::of(walls).median);
    // Throughputs of the same chats: (n / sync) / (n / export).
    let ratio = Stat::of(&ratios(&ew, &sw, |e, s| e / s));
    report.row(
        format!("sync {k} chats into a new database vs export them to JSON Lines: throughput"),
        format!("{} ({})", Stat::of(&sw).show(2, " s"), rate(&sw)),
        format!("{} ({})", Stat::of(&ew).show(2, " s"), rate(&ew)),
        format!("sync / export: {}", ratio.show(2, "x")),
        format!(">= {TARGET_RATIO}x"),
        Some(ratio.median >= TARGET_RATIO),
    );
    let cpu = Stat::of(&ratios(&sc, &ec, |s, e| s / e));
    report.row(
        format!("sync {k} chats, CPU time (user + sys): vs export"),
        Stat::of(&sc).show(2, " s"),
        Stat::of(&ec).show(2, " s"),
        format!("sync / export: {}", cpu.show(2, "x")),
        "–",
        None,
    );
    let rss = Stat::of(&sm);
    report.row(
        format!("sync {k} chats, peak RSS: vs export"),
        rss.show(1, " MiB"),
        Stat::of(&em).show(1, " MiB"),
        format!(
            "sync / export: {}",
            Stat::of(&ratios(&sm, &em, |s, e| s / e)).show(2, "x")
        ),
        format!("<= {TARGET_RSS_MIB} MiB"),
        Some(rss.max <= TARGET_RSS_MIB),
    );
    for (name, runs, target) in [
        (
            "dlt (rest_api source, page-number paginator, merge on id, into DuckDB)",
            &peers.dlt,
            TARGET_VS_DLT,
        ),
        (
            "sqlite-utils inserting the JSON Lines export (--nl --pk id)",
            &peers.sqlite_utils,
            TARGET_VS_SQLITE_UTILS,
        ),
    ] {
        let ours: Vec<f64> = peers.ours.iter().map(|u| u.wall).collect();
        let theirs: Vec<f64> = runs.iter().map(|u| u.wall).collect();
        let ratio = Stat::of(&ratios(&theirs, &ours, |t, o| t / o));
        report.row(
            format!(
                "sync {}k chats into a new database vs {name}: throughput",
                PEER_CHATS / 1000
            ),
            Stat::of(&ours).show(2, " s"),
            Stat::of(&theirs).show(2, " s"),
            format!("sync / peer: {}", ratio.show(1, "x")),
            format!(">= {target}x"),
            Some(ratio.median >= target),
        );
    }
    let pages = SECOND_CHATS.div_ceil(PAGE_SIZE);
    report.row(
        format!(
            "second sync of {}k chats over a year, {} still open at the first, nothing changed: requests",
            SECOND_CHATS / 1000,
            thousands(SECOND_OPEN)
        ),
        format!(
            "{} requests ({:.2} s), {} chats read again",
            thousands(second.requests),
            second.usage.wall,
            thousands(second.reread),
        ),
        format!("full listing: {} pages", thousands(pages)),
        format!(
            "{:.2} per open chat; {:.2}x the full listing",
            second.requests as f64 / SECOND_OPEN as f64,
            second.requests as f64 / pages as f64
        ),
        "<= ~1 per open chat",
        Some(second.requests as f64 <= 1.1 * SECOND_OPEN as f64),
    );
    let failed = if second.failed == 0 {
        String::new()
    } else {
        format!(" ({} of them answered other than 200)", second.failed)
    };
    report.notes.push(format!(
        "Sync: {n} chats, {} rounds of `giosg chats export --out F.jsonl` then `giosg chats sync \
         --db F.db` (defaults: `--concurrency 4`, pages of {PAGE_SIZE}) against the same mock, \
         after one warm-up run each; each run into a new file, the export's line count and the \
         database's chats (`giosg chats summary --db F.db`) checked to be {n}. The throughput \
         ratio is the export's wall time over the sync's, round by round (the same chats); \
         the peak RSS target holds for every sync run (the largest).",
        config.sync_rounds,
    ));
    report.notes.push(format!(
        "Peers: {PEER_CHATS} generated chats, {} interleaved rounds of `giosg chats sync` into a \
         new database, `python bench/dlt_sync.py` (dlt {}: the rest_api source with a \
         page-number paginator over pages of 100, `write_disposition=\"merge\"` on `id`, into its \
         default DuckDB destination, a new one each run, its row count checked) and \
         `sqlite-utils insert F.db chats chats.jsonl --nl --pk id` of an export made once \
         beforehand (loading only, no fetching), each into a new file; ratios are the peer's \
         wall time over ours, round by round.",
        peers.ours.len(),
        peers.dlt_version,
    ));
    report.notes.push(format!(
        "Second sync: {SECOND_CHATS} chats (`generate({SEED}, {SECOND_CHATS})`, spread evenly \
         over the year before now, {SECOND_OPEN} of them, evenly spread, still open) synced \
         into a new database, then synced again with nothing changed against a new giosg-mock \
         of the same chats started with `--log-requests`; the requests are the lines it logged \
         before a request this benchmark sends once the sync has exited{failed}. The second \
         sync lists the chats after the last one stored and within the lookback, and reads \
         the open chats again in narrow windows around them, merged while the store holds \
         fewer than a page between them (so with an open chat every {} chats, a window holds \
         several: fewer requests than open chats, and the chats between them come along).",
        SECOND_CHATS / SECOND_OPEN,
    ));
    Ok(())
}

/// One sync of every chat of `mock` into a new database, checked to hold them all.
fn sync_new(bins: &Bins, tmp: &Path, db: &Path, mock: &Mock) -> Result<Usage, String> {
    remove_db(db);
    let usage = sync(bins, tmp, db, mock, &[])?;
    check_stored(bins, db, mock)?;
    Ok(usage)
}

/// `giosg chats sync --db DB` of `mock`'s chats, with more arguments.
fn sync(bins: &Bins, tmp: &Path, db: &Path, mock: &Mock, args: &[&str]) -> Result<Usage, String> {
    let mut cmd = Command::new(&bins.giosg);
    cmd.args(["chats", "sync", "--org", &mock.org, "--db"])
        .arg(db)
        .args(["--base-url", &mock.base_url])
        .args(args)
        .env("GIOSG_API_TOKEN", TOKEN)
        .stdout(Stdio::null());
    proc::measure(&mut cmd, &tmp.join("sync.log"), RUN_TIMEOUT)
}

/// Checks that the database holds every chat of `mock`, as `giosg chats summary --db` counts
/// them (a child: a database read in this process would swell the next child's peak RSS).
fn check_stored(bins: &Bins, db: &Path, mock: &Mock) -> Result<(), String> {
    match super::copy::stored(bins, &[&db.display().to_string()])? {
        stored if stored == mock.chats => Ok(()),
        stored => Err(format!(
            "sync stored {stored} chats of {} in {}",
            mock.chats,
            db.display()
        )),
    }
}

/// What the second sync cost.
struct Second {
    usage: Usage,
    /// Requests the mock logged.
    requests: usize,
    /// Of them, answered other than 200.
    failed: usize,
    /// Chats read again around the open ones, as the sync's closing line says.
    reread: usize,
}

/// The second sync's chats: spread evenly over the year before now, every
/// `SECOND_CHATS / SECOND_OPEN`-th still open, written to a fixture file for the mock.
fn second_data(tmp: &Path) -> Result<std::path::PathBuf, String> {
    let now = DateTime::<Utc>::from(SystemTime::now());
    let year: i64 = 365 * 24 * 3600 * 1000;
    let every = SECOND_CHATS / SECOND_OPEN;
    let mut chats = giosg_mock::generate(SEED, SECOND_CHATS);
    for (i, chat) in chats.iter_mut().enumerate() {
        let ms = year - year * i as i64 / SECOND_CHATS as i64;
        let start = DateTime::from_timestamp_millis(now.timestamp_millis() - ms)
            .ok_or("a time within a year of now")?;
        chat.start_time = Some(start);
        let end = DateTime::from_timestamp_millis(start.timestamp_millis() + 7 * 60 * 1000);
        chat.end_time = end.filter(|_| i % every != every / 2);
    }
    let path = tmp.join("sync-second.json");
    let json = serde_json::to_vec(&chats).map_err(|e| e.to_string())?;
    std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Syncs the second data into a new database, then again against a new mock of the same
/// chats that logs its requests, and counts them.
fn second_sync(bins: &Bins, tmp: &Path, db: &Path) -> Result<Second, String> {
    let data = second_data(tmp)?;
    let lookback = format!("{LOOKBACK_DAYS}d");
    remove_db(db);
    {
        let mock = Mock::start_fixture(&bins.mock, &data, SECOND_CHATS, TOKEN, None, MOCK_TIMEOUT)?;
        sync(bins, tmp, db, &mock, &["--lookback", &lookback])?;
    }
    let log = tmp.join("sync-requests.log");
    let mock = Mock::start_fixture(
        &bins.mock,
        &data,
        SECOND_CHATS,
        TOKEN,
        Some(&log),
        MOCK_TIMEOUT,
    )?;
    let usage = sync(bins, tmp, db, &mock, &["--lookback", &lookback])?;
    check_stored(bins, db, &mock)?;
    // Every request of the sync is logged before this one: the mock records a request before
    // it answers, and logs in the order recorded.
    mark(&mock)?;
    let lines = requests_before_mark(&log)?;
    let said = std::fs::read_to_string(tmp.join("sync.log")).unwrap_or_default();
    // `...; 1234 chats read again around those open at the last run, in 200 requests; ...`
    let reread = said
        .split("; ")
        .find_map(|part| part.split_once(" chats read again around").map(|(n, _)| n))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    let _ = std::fs::remove_file(&data);
    Ok(Second {
        usage,
        requests: lines.len(),
        failed: lines.iter().filter(|l| !l.ends_with(" 200")).count(),
        reread,
    })
}

/// The peers' runs, interleaved with ours.
struct Peers {
    ours: Vec<Usage>,
    dlt: Vec<Usage>,
    sqlite_utils: Vec<Usage>,
    dlt_version: String,
}

/// Ours, dlt and sqlite-utils on [`PEER_CHATS`] chats, interleaved.
fn peers(config: &Config, bins: &Bins, tmp: &Path) -> Result<Peers, String> {
    let python = super::env::venv()?;
    let bin = python
        .parent()
        .ok_or("the venv's bin directory")?
        .to_owned();
    step(&format!("sync: peers, giosg-mock with {PEER_CHATS} chats"));
    let mock = Mock::start(
        &bins.mock,
        PEER_CHATS,
        SEED,
        TOKEN,
        None,
        None,
        MOCK_TIMEOUT,
    )?;
    let jsonl = tmp.join("peers.jsonl");
    proc::remove(&jsonl);
    let mut export = Command::new(&bins.giosg);
    export
        .args([
            "chats",
            "export",
            "--org",
            &mock.org,
            "--base-url",
            &mock.base_url,
            "--out",
        ])
        .arg(&jsonl)
        .env("GIOSG_API_TOKEN", TOKEN)
        .stdout(Stdio::null());
    proc::measure(&mut export, &tmp.join("peers-export.log"), RUN_TIMEOUT)?;
    let db = tmp.join("peers.db");
    let version = Command::new(&python)
        .args(["-c", "import dlt; print(dlt.__version__)"])
        .output()
        .map_err(|e| format!("dlt: {e}"))?;
    let mut out = Peers {
        ours: Vec::new(),
        dlt: Vec::new(),
        sqlite_utils: Vec::new(),
        dlt_version: String::from_utf8_lossy(&version.stdout).trim().to_owned(),
    };
    let rounds = config.sync_rounds.min(3);
    for round in 0..rounds {
        let usage = sync_new(bins, tmp, &db, &mock)?;
        progress(&format!("peers round {} sync", round + 1), &usage);
        out.ours.push(usage);

        let dir = tmp.join("dlt");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut dlt = Command::new(&python);
        dlt.arg(super::env::workspace().join("bench/dlt_sync.py"))
            .args(["--base-url", &mock.base_url, "--org", &mock.org, "--dir"])
            .arg(&dir)
            .env("GIOSG_API_TOKEN", TOKEN)
            .env("RUNTIME__DLTHUB_TELEMETRY", "false")
            .current_dir(&dir)
            .stdout(Stdio::piped());
        let log = tmp.join("dlt.log");
        let usage = proc::measure(&mut dlt, &log, RUN_TIMEOUT)?;
        let _ = std::fs::remove_dir_all(&dir);
        progress(&format!("peers round {} dlt", round + 1), &usage);
        out.dlt.push(usage);

        remove_db(&db);
        let mut insert = Command::new(bin.join("sqlite-utils"));
        insert
            .arg("insert")
            .arg(&db)
            .arg("chats")
            .arg(&jsonl)
            .args(["--nl", "--pk", "id"])
            .stdout(Stdio::null());
        let usage = proc::measure(&mut insert, &tmp.join("sqlite-utils.log"), RUN_TIMEOUT)?;
        remove_db(&db);
        progress(&format!("peers round {} sqlite-utils", round + 1), &usage);
        out.sqlite_utils.push(usage);
    }
    proc::remove(&jsonl);
    Ok(out)
}

/// Sends the mock one request for [`MARK`] (answered 404).
fn mark(mock: &Mock) -> Result<(), String> {
    let addr = mock.base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("{addr}: {e}"))?;
    write!(
        stream,
        "GET {MARK} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("{addr}: {e}"))?;
    stream
        .read_to_end(&mut Vec::new())
        .map_err(|e| format!("{addr}: {e}"))?;
    Ok(())
}

/// The lines of a `--log-requests` log before the [`MARK`], once it is there.
fn requests_before_mark(log: &Path) -> Result<Vec<String>, String> {
    let deadline = Instant::now() + MARK_TIMEOUT;
    loop {
        let text = std::fs::read_to_string(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let lines: Vec<&str> = text.lines().collect();
        if let Some(at) = lines.iter().position(|l| l.contains(MARK)) {
            return Ok(lines[..at].iter().map(|l| (*l).to_owned()).collect());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{}: giosg-mock did not log the mark within {MARK_TIMEOUT:?}",
                log.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Removes a database and the files SQLite keeps beside it.
pub(super) fn remove_db(db: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut path = db.as_os_str().to_owned();
        path.push(suffix);
        let _ = std::fs::remove_file(path);
    }
}

/// `100000` as `100,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn the_second_data_spreads_its_open_chats_over_a_year() {
        let dir = std::env::temp_dir().join(format!("xtask-second-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = super::second_data(&dir).unwrap();
        let chats: Vec<giosg_model::Chat> =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(chats.len(), super::SECOND_CHATS);
        let open: Vec<_> = chats.iter().filter(|c| c.end_time.is_none()).collect();
        assert_eq!(open.len(), super::SECOND_OPEN);
        let first = chats[0].start_time.unwrap();
        let last = chats.last().unwrap().start_time.unwrap();
        assert!((last - first).num_days() >= 364, "{first} .. {last}");
    }
}

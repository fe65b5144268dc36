//! `cargo xtask bench`, part 7: `giosg chats sync` of every chat of a mock into a new SQLite
//! database against `giosg chats export` of the same chats to JSON Lines, interleaved (the
//! ratio of their throughputs, and the sync's peak RSS); then a second sync of the last
//! database with nothing changed and `--lookback 3d`, whose requests a mock started with
//! `--log-requests` counts.

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

/// A sync into a new database keeps at least this share of the export's throughput.
const TARGET_RATIO: f64 = 0.8;
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
    step(&format!(
        "sync: the last database again, --lookback {LOOKBACK_DAYS}d, against a giosg-mock \
         with the same {n} chats logging its requests"
    ));
    let now = DateTime::<Utc>::from(SystemTime::now());
    let second = second_sync(bins, tmp, &db, n)?;
    remove_db(&db);
    step(&format!(
        "  second sync: {} requests in {:.2} s",
        second.requests, second.usage.wall
    ));
    let data = Data::of(n, now);

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
    let pages = n.div_ceil(PAGE_SIZE);
    report.row(
        format!(
            "second sync of the {k} chats, nothing changed, `--lookback {LOOKBACK_DAYS}d`: \
             requests"
        ),
        format!(
            "{} requests ({:.2} s)",
            thousands(second.requests),
            second.usage.wall
        ),
        format!("full listing: {} pages", thousands(pages)),
        format!(
            "{:.2}x the full listing",
            second.requests as f64 / pages as f64
        ),
        "–",
        None,
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
        "Second sync: the last round's database synced again with `--lookback \
         {LOOKBACK_DAYS}d` (the default) against a new giosg-mock with the same seed and chats \
         (nothing changed) started with `--log-requests`; the requests are the lines it logged \
         before a request this benchmark sends once the sync has exited{failed}. A sync lists \
         from the earliest of: the last chat of the last listing, the earliest chat stored \
         while still open (`end_time: null`) that started within the last {OPEN_FOR_DAYS} days \
         (older ones are taken as abandoned), and now minus the lookback. In the generated \
         data (`generate({SEED}, {n})`) chats start {} to {}, 0 to 30 minutes apart; {} of \
         them ({:.1}%) are still open, the earliest followed starting {}. At {} (now minus \
         {LOOKBACK_DAYS} days: {}), {} chats start within the lookback or later ({} of them \
         after now: the generated data can run into the future), and the second sync lists \
         from {} ({}): {} chats, {} pages.",
        day(data.first),
        day(data.last),
        thousands(data.open),
        data.open as f64 * 100.0 / n as f64,
        data.earliest_open.map_or_else(|| "–".to_owned(), day),
        day(now),
        day(data.lookback),
        thousands(data.in_lookback),
        thousands(data.in_future),
        day(data.from),
        data.why,
        thousands(data.relisted),
        thousands(data.relisted.div_ceil(PAGE_SIZE)),
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
    let out = Command::new(&bins.giosg)
        .args(["chats", "summary", "--org", &mock.org, "--db"])
        .arg(db)
        .env("GIOSG_API_TOKEN", TOKEN)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("giosg chats summary: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "giosg chats summary --db {} failed: {}",
            db.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let stored: Option<usize> = text
        .lines()
        .find_map(|l| l.strip_prefix("chats "))
        .and_then(|v| v.trim().parse().ok());
    match stored {
        Some(stored) if stored == mock.chats => Ok(()),
        Some(stored) => Err(format!(
            "sync stored {stored} chats of {} in {}",
            mock.chats,
            db.display()
        )),
        None => Err(format!(
            "no `chats N` line in giosg chats summary's output: {text}"
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
}

/// Syncs `db` again with the lookback against a new mock of the same chats that logs its
/// requests, and counts them.
fn second_sync(bins: &Bins, tmp: &Path, db: &Path, n: usize) -> Result<Second, String> {
    let log = tmp.join("sync-requests.log");
    let mock = Mock::start(&bins.mock, n, SEED, TOKEN, None, Some(&log), MOCK_TIMEOUT)?;
    let lookback = format!("{LOOKBACK_DAYS}d");
    let usage = sync(bins, tmp, db, &mock, &["--lookback", &lookback])?;
    check_stored(bins, db, &mock)?;
    // Every request of the sync is logged before this one: the mock records a request before
    // it answers, and logs in the order recorded.
    mark(&mock)?;
    let lines = requests_before_mark(&log)?;
    Ok(Second {
        usage,
        requests: lines.len(),
        failed: lines.iter().filter(|l| !l.ends_with(" 200")).count(),
    })
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
fn remove_db(db: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut path = db.as_os_str().to_owned();
        path.push(suffix);
        let _ = std::fs::remove_file(path);
    }
}

/// How long a chat still open is followed after it started (`giosg_cli::follow::OPEN_FOR`,
/// which this models: the CLI is a binary).
const OPEN_FOR_DAYS: u64 = 30;

/// When the generated chats start, and where a sync with the lookback lists from.
struct Data {
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    /// Chats with no end time.
    open: usize,
    /// The earliest open chat that started within [`OPEN_FOR_DAYS`] before now.
    earliest_open: Option<DateTime<Utc>>,
    /// Now minus the lookback.
    lookback: DateTime<Utc>,
    /// Chats that start at or after `lookback`, and after now.
    in_lookback: usize,
    in_future: usize,
    /// Where the second sync lists from, and which of the three it is.
    from: DateTime<Utc>,
    why: &'static str,
    /// Chats that started at or after `from`.
    relisted: usize,
}

impl Data {
    /// The facts of `generate(SEED, n)` at `now`, one chat at a time (the mock's chats, not
    /// held here: this process forks the measured children).
    fn of(n: usize, now: DateTime<Utc>) -> Data {
        let starts = || {
            let mut g = giosg_mock::Generator::new(SEED, giosg_mock::epoch());
            (0..n).map(move |_| {
                let chat = g.chat();
                (chat.start_time.unwrap_or_default(), chat.end_time.is_none())
            })
        };
        let lookback = DateTime::<Utc>::from(
            SystemTime::from(now) - Duration::from_secs(LOOKBACK_DAYS * 24 * 3600),
        );
        let open_since = DateTime::<Utc>::from(
            SystemTime::from(now) - Duration::from_secs(OPEN_FOR_DAYS * 24 * 3600),
        );
        let (mut first, mut last) = (None, DateTime::<Utc>::MIN_UTC);
        let (mut open, mut earliest_open) = (0, None);
        let (mut in_lookback, mut in_future) = (0, 0);
        for (start, is_open) in starts() {
            first.get_or_insert(start);
            last = last.max(start);
            open += usize::from(is_open);
            if is_open && start >= open_since && start <= now {
                earliest_open = Some(earliest_open.map_or(start, |e: DateTime<Utc>| e.min(start)));
            }
            in_lookback += usize::from(start >= lookback);
            in_future += usize::from(start > now);
        }
        let mut from = (last, "the last chat listed");
        if let Some(e) = earliest_open.filter(|e| *e < from.0) {
            from = (e, "the earliest open chat");
        }
        if lookback < from.0 {
            from = (lookback, "now minus the lookback");
        }
        let relisted = starts().filter(|(start, _)| *start >= from.0).count();
        Data {
            first: first.unwrap_or_default(),
            last,
            open,
            earliest_open,
            lookback,
            in_lookback,
            in_future,
            from: from.0,
            why: from.1,
            relisted,
        }
    }
}

/// `2025-01-01 00:12 UTC`.
fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
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
    fn the_second_sync_lists_from_the_earliest_open_chat_still_followed() {
        // Ten years on: no chat started within the lookback, and no open one is followed.
        let epoch = giosg_mock::epoch().timestamp();
        let now = giosg_model::DateTime::from_timestamp(epoch + 3650 * 86_400, 0).unwrap();
        let data = super::Data::of(2_000, now);
        assert!(data.open > 0 && data.open < 2_000);
        assert_eq!(
            data.first,
            giosg_mock::generate(super::SEED, 1)[0].start_time.unwrap()
        );
        assert_eq!(data.earliest_open, None);
        assert_eq!(data.from, data.last);
        assert_eq!(data.in_lookback, 0);
        assert_eq!(data.relisted, 1);
        // The day after the last chat started: the open chats of the last 30 days are.
        let now = giosg_model::DateTime::from_timestamp(data.last.timestamp() + 86_400, 0).unwrap();
        let data = super::Data::of(2_000, now);
        assert!(data.earliest_open.is_some_and(|e| e < data.last));
        assert!(data.from <= data.earliest_open.unwrap());
        assert!(data.relisted > 10 && data.relisted < 2_000);
    }
}

//! `cargo xtask soak [--quick]`: the fault soak. Lists every chat of an in-process giosg-mock
//! that faults 30% of requests (429 with and without `Retry-After`, 500, 502, 503, 504,
//! dropped connections, truncated bodies, bodies stalled past the read timeout; churn: new chats
//! arriving before and among the others, the oldest chats deleted by a retention job, the
//! cursor chat deleted; and servers that misbehave: no `next_page`, a short page, a count that
//! lies, `since_id` ignored), with each transport: the blocking client (ureq, `.iter()`, keyset
//! one page at a time) and the async one (reqwest, `.stream()`: start-time windows, 4 requests
//! in flight, in order; and `.unordered()`, as the export runs).
//!
//! It checks that every original chat still served at the end arrives exactly once and none
//! twice (chats added meanwhile may or may not be seen; deleted ones may have been), that
//! ordered listings come in order, that nothing panicked, that no request took more attempts
//! than the retry policy allows and no wait was longer than it allows. It is bounded: loopback
//! only, a request budget and a wall-clock budget per transport. The figures are printed and
//! written to `reliability/soak-report.md` (`reliability/soak-report-quick.md` for `--quick`).

use futures_util::StreamExt;
use giosg_mock::{Fault, FaultPlan, MockServer};
use giosg_model::{ChatFilter, Uuid};
use giosg_transport::{AsyncClient, Client, FromSettings, RetryPolicy};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod report;
mod watch;

use report::report;
use watch::{builder, count_panics, Seen, Watched, PANICS};

/// One soak's settings.
#[derive(Clone, Debug)]
struct Config {
    mode: &'static str,
    chats: usize,
    page_size: u32,
    fault_rate: f64,
    seed: u64,
    read_timeout: Duration,
    stall: Duration,
    drift: usize,
    concurrency: usize,
    max_requests: u64,
    max_wall: Duration,
    policy: RetryPolicy,
}

impl Config {
    fn full() -> Self {
        Config {
            mode: "full",
            chats: 50_000,
            page_size: 100,
            fault_rate: 0.3,
            seed: 20_150_213,
            read_timeout: Duration::from_millis(250),
            stall: Duration::from_secs(3),
            drift: 3,
            concurrency: 4,
            max_requests: 5_000,
            max_wall: Duration::from_secs(600),
            // At 30% faults, ten attempts fail a page with odds of 0.3^10: about 6 in a million.
            policy: RetryPolicy::default()
                .max_attempts(10)
                .backoff(Duration::from_millis(1), Duration::from_millis(20))
                .max_total_wait(Duration::from_secs(10)),
        }
    }

    fn quick() -> Self {
        Config {
            mode: "quick",
            chats: 5_000,
            page_size: 20,
            max_requests: 1_000,
            max_wall: Duration::from_secs(120),
            ..Self::full()
        }
    }

    fn faults(&self) -> Vec<Fault> {
        vec![
            Fault::too_many_requests(Some("0")),
            Fault::too_many_requests(None),
            Fault::status(500),
            Fault::status(502),
            Fault::status(503),
            Fault::status(504),
            Fault::Drop,
            Fault::Truncate,
            Fault::Stall(self.stall),
            Fault::Drift {
                new_chats: self.drift,
            },
            Fault::Insert { chats: self.drift },
            Fault::DeleteOldest { chats: self.drift },
            Fault::DeleteLast,
            Fault::NoNextPage,
            Fault::ShortPage,
            Fault::CountOffset(7),
            Fault::IgnoreSinceId,
        ]
    }
}

/// One transport's soak.
struct Run {
    name: String,
    requests: usize,
    sends: u64,
    faults: BTreeMap<String, usize>,
    waits: Vec<Duration>,
    most_attempts: usize,
    originals: usize,
    yielded: usize,
    missing: usize,
    duplicates: usize,
    drifted_seen: usize,
    drifted_total: usize,
    deleted: usize,
    out_of_order: usize,
    dropped: Option<u64>,
    panics: u64,
    error: Option<String>,
    wall: Duration,
}

impl Run {
    fn problems(&self, config: &Config) -> Vec<String> {
        let mut p = Vec::new();
        if let Some(e) = &self.error {
            p.push(format!("the export failed: {e}"));
        }
        if self.missing > 0 {
            p.push(format!("{} original chats missing", self.missing));
        }
        if self.duplicates > 0 {
            p.push(format!("{} chats yielded twice", self.duplicates));
        }
        if self.out_of_order > 0 {
            p.push(format!("{} chats out of order", self.out_of_order));
        }
        if self.panics > 0 {
            p.push(format!("{} panics", self.panics));
        }
        if self.most_attempts > config.policy.max_attempts as usize {
            p.push(format!(
                "a page took {} attempts (policy: {})",
                self.most_attempts, config.policy.max_attempts
            ));
        }
        if let Some(w) = self.waits.iter().max() {
            if *w > config.policy.max_delay {
                p.push(format!(
                    "a wait of {w:?} (policy: {:?})",
                    config.policy.max_delay
                ));
            }
        }
        let kinds = self.faults.len();
        if kinds < config.faults().len() {
            p.push(format!(
                "only {kinds} of {} fault kinds were injected",
                config.faults().len()
            ));
        }
        p
    }
}

/// A fault's kind, as the report counts them: statuses by code (429 with and without
/// `Retry-After`), every other fault by its variant.
fn fault_kind(fault: &Fault) -> String {
    match fault {
        Fault::Status {
            status: 429,
            retry_after,
        } => match retry_after {
            Some(_) => "429 with Retry-After",
            None => "429 without Retry-After",
        }
        .to_owned(),
        Fault::Status { status, .. } => status.to_string(),
        Fault::Stall(_) => "Stall past the read timeout".to_owned(),
        Fault::Drop => "Drop (connection closed)".to_owned(),
        Fault::Truncate => "Truncate (half a body)".to_owned(),
        Fault::Drift { .. } => "Drift (new chats mid-listing)".to_owned(),
        Fault::Insert { .. } => "Insert".to_owned(),
        Fault::DeleteOldest { .. } => "DeleteOldest".to_owned(),
        Fault::DeleteLast => "DeleteLast".to_owned(),
        Fault::DeleteCursor => "DeleteCursor".to_owned(),
        Fault::NoNextPage => "NoNextPage".to_owned(),
        Fault::ShortPage => "ShortPage".to_owned(),
        Fault::CountOffset(_) => "CountOffset".to_owned(),
        Fault::IgnoreSinceId => "IgnoreSinceId".to_owned(),
        // Faults the soak does not inject, each its own kind.
        other => format!("{other:?}"),
    }
}

/// Runs one export against a fresh mock and checks what came out.
fn soak_one(
    config: &Config,
    name: &str,
    ordered: bool,
    export: impl FnOnce(&MockServer, &Arc<Seen>, Instant) -> Result<(Vec<Uuid>, Option<u64>), String>,
) -> Result<Run, String> {
    let plan = FaultPlan::new().random(config.seed, config.fault_rate, config.faults());
    let mock = MockServer::builder()
        .generated(config.seed, config.chats)
        .faults(plan)
        .start()
        .map_err(|e| format!("cannot start the mock: {e}"))?;
    if !mock.base_url().starts_with("http://127.0.0.1:") {
        return Err(format!("the mock is not on loopback: {}", mock.base_url()));
    }
    let originals: Vec<Uuid> = mock.chats().iter().map(|c| c.id).collect();
    let mut keys: HashMap<Uuid, (Option<giosg_model::DateTime<giosg_model::Utc>>, Uuid)> = mock
        .chats()
        .iter()
        .map(|c| (c.id, (c.start_time, c.id)))
        .collect();
    let seen = Arc::new(Seen::default());
    let panics_before = PANICS.load(Ordering::SeqCst);
    let started = Instant::now();
    let deadline = started + config.max_wall;
    let outcome = catch_unwind(AssertUnwindSafe(|| export(&mock, &seen, deadline)))
        .unwrap_or_else(|_| Err("the export panicked".to_owned()));
    let wall = started.elapsed();
    let (ids, dropped, error) = match outcome {
        Ok((ids, dropped)) => (ids, dropped, None),
        Err(e) => (Vec::new(), None, Some(e)),
    };

    let unique: HashSet<Uuid> = ids.iter().copied().collect();
    let original_set: HashSet<Uuid> = originals.iter().copied().collect();
    let now_served: HashSet<Uuid> = mock.chats().iter().map(|c| c.id).collect();
    let requests = mock.requests();
    let mut faults = BTreeMap::new();
    let mut attempts: HashMap<Option<String>, usize> = HashMap::new();
    for r in &requests {
        if let Some(f) = &r.fault {
            *faults.entry(fault_kind(f)).or_insert(0) += 1;
        }
        // A retry sends the same query again; distinct requests differ in their query.
        let query: Vec<String> = r.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        *attempts.entry(Some(query.join("&"))).or_insert(0) += 1;
    }
    let drifted_seen = unique.difference(&original_set).count();
    keys.extend(mock.chats().iter().map(|c| (c.id, (c.start_time, c.id))));
    // In order: by start time (none last), then id, as far as the keys are known (a chat
    // added and deleted meanwhile is not).
    let sort_key = |id: &Uuid| keys.get(id).map(|(t, id)| (t.is_none(), *t, *id));
    let out_of_order = if ordered {
        ids.windows(2)
            .filter(|w| match (sort_key(&w[0]), sort_key(&w[1])) {
                (Some(a), Some(b)) => a >= b,
                _ => false,
            })
            .count()
    } else {
        0
    };
    let waits = seen.waits.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(Run {
        name: name.to_owned(),
        requests: requests.len(),
        sends: seen.sends.load(Ordering::SeqCst),
        faults,
        waits,
        most_attempts: attempts.values().copied().max().unwrap_or(0),
        originals: originals.len(),
        yielded: ids.len(),
        missing: originals
            .iter()
            .filter(|id| now_served.contains(id) && !unique.contains(id))
            .count(),
        duplicates: ids.len() - unique.len(),
        drifted_seen,
        drifted_total: now_served.difference(&original_set).count(),
        deleted: original_set.difference(&now_served).count(),
        out_of_order,
        dropped,
        panics: PANICS.load(Ordering::SeqCst) - panics_before,
        error,
        wall,
    })
}

fn past(deadline: Instant) -> Result<(), String> {
    if Instant::now() > deadline {
        Err("the wall-clock budget ran out".to_owned())
    } else {
        Ok(())
    }
}

fn blocking(config: &Config) -> Result<Run, String> {
    soak_one(
        config,
        "blocking (ureq, `.iter()`)",
        true,
        |mock, seen, deadline| {
            type C = Client<Watched<giosg_blocking::UreqTransport>>;
            let b = builder::<C>(config, mock);
            let inner = giosg_blocking::UreqTransport::from_settings(b.settings())
                .map_err(|e| e.to_string())?;
            let client = b
                .build_with(Watched {
                    inner,
                    seen: seen.clone(),
                    max_requests: config.max_requests,
                })
                .map_err(|e| e.to_string())?;
            let filter = ChatFilter::new().page_size(config.page_size);
            let mut chats = client.chats(mock.org()).filter(filter).iter();
            let mut ids = Vec::with_capacity(config.chats);
            for chat in &mut chats {
                ids.push(chat.map_err(|e| e.to_string())?.id);
                if ids.len() % 1000 == 0 {
                    past(deadline)?;
                }
            }
            Ok((ids, Some(chats.dropped())))
        },
    )
}

fn nonblocking(config: &Config) -> Result<Run, String> {
    nonblocking_with(config, true)
}

fn nonblocking_unordered(config: &Config) -> Result<Run, String> {
    nonblocking_with(config, false)
}

fn nonblocking_with(config: &Config, ordered: bool) -> Result<Run, String> {
    let name = format!(
        "async (reqwest, `.stream()`{}, concurrency {})",
        if ordered { "" } else { ".unordered()" },
        config.concurrency
    );
    soak_one(config, &name, ordered, |mock, seen, deadline| {
        type C = AsyncClient<Watched<giosg_async::ReqwestTransport>>;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let _guard = runtime.enter();
        let b = builder::<C>(config, mock);
        let inner = giosg_async::ReqwestTransport::from_settings(b.settings())
            .map_err(|e| e.to_string())?;
        let client = b
            .build_with(Watched {
                inner,
                seen: seen.clone(),
                max_requests: config.max_requests,
            })
            .map_err(|e| e.to_string())?;
        let filter = ChatFilter::new().page_size(config.page_size);
        let mut chats = client
            .chats(mock.org())
            .filter(filter)
            .concurrency(config.concurrency);
        if !ordered {
            chats = chats.unordered();
        }
        let mut stream = chats.stream();
        runtime.block_on(async {
            let mut ids = Vec::with_capacity(config.chats);
            while let Some(chat) = stream.next().await {
                ids.push(chat.map_err(|e| e.to_string())?.id);
                if ids.len() % 1000 == 0 {
                    past(deadline)?;
                }
            }
            Ok((ids, Some(stream.dropped())))
        })
    })
}

pub(crate) fn run(args: &[&str]) -> Result<(), String> {
    let config = match args {
        [] => Config::full(),
        ["--quick"] => Config::quick(),
        _ => return Err("usage: cargo xtask soak [--quick]".to_owned()),
    };
    count_panics();
    println!(
        "soak ({}): {} chats, page size {}, {:.0}% of requests faulted, each transport in turn",
        config.mode,
        config.chats,
        config.page_size,
        config.fault_rate * 100.0
    );
    let started = Instant::now();
    let mut runs = Vec::new();
    for soak in [blocking, nonblocking, nonblocking_unordered] {
        let run = soak(&config)?;
        println!(
            "soak: {}: {} requests, {} faulted, {} retries, {} chats in {:.1} s",
            run.name,
            run.requests,
            run.faults.values().sum::<usize>(),
            run.waits.len(),
            run.yielded,
            run.wall.as_secs_f64()
        );
        runs.push(run);
    }
    let problems: Vec<String> = runs
        .iter()
        .flat_map(|r| {
            r.problems(&config)
                .into_iter()
                .map(move |p| format!("{}: {p}", r.name))
        })
        .collect();
    let report = report(&config, &runs, &problems, started.elapsed());
    print!("\n{report}");
    let file = match config.mode {
        "quick" => "soak-report-quick.md",
        _ => "soak-report.md",
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../reliability");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(file), &report).map_err(|e| e.to_string())?;
    println!("soak: report written to reliability/{file}");
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("soak failed:\n{}", problems.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report checks that every kind was injected by counting the kinds it saw: each fault
    /// the soak injects must be a kind of its own.
    #[test]
    fn every_injected_fault_is_a_kind_of_its_own() {
        let faults = Config::full().faults();
        let kinds: HashSet<String> = faults.iter().map(fault_kind).collect();
        assert_eq!(kinds.len(), faults.len(), "{kinds:?}");
        assert!(kinds.contains("429 with Retry-After"));
        assert!(kinds.contains("429 without Retry-After"));
        assert!(kinds.contains("503"));
        assert!(kinds.contains("Drift (new chats mid-listing)"));
    }
}

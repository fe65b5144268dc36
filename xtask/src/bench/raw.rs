//! Hand-rolled loops over reqwest for `cargo xtask bench`:
//!
//! - [`export`]: the floor for an export's overhead, what one would write without the SDK:
//!   reqwest + `serde_json::from_slice` into the model's `Page<Chat>`, the same keyset paging
//!   as `giosg chats export` (page_size=100, `since_id` = the last chat), one
//!   `serde_json::to_writer` line per chat into a `BufWriter`. Runs as its own process
//!   (`xtask bench raw-export ...`) so that its CPU time and peak RSS are its own.
//! - [`mock_throughput`]: how fast giosg-mock serves pages to a tight loop that does nothing
//!   with them, so that a slow mock cannot hide a fast client.

use giosg_model::{Chat, Page, Uuid};
use serde::Deserialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Instant;

/// Page size of every export: the API's maximum, as the CLI's export uses.
pub(super) const PAGE_SIZE: usize = 100;
/// A bound on every paging loop: 100 million chats.
const MAX_PAGES: usize = 1_000_000;

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
}

fn chats_url(base_url: &str, org: &str) -> String {
    format!("{}/api/v5/orgs/{org}/chats", base_url.trim_end_matches('/'))
}

/// `xtask bench raw-export --base-url URL --org ORG --out FILE` (token in GIOSG_API_TOKEN).
pub(super) fn main(args: &[&str]) -> Result<(), String> {
    let flag = |name: &str| {
        args.iter()
            .position(|a| *a == name)
            .and_then(|i| args.get(i + 1))
            .copied()
            .ok_or_else(|| format!("raw-export needs {name}"))
    };
    let token = std::env::var("GIOSG_API_TOKEN").map_err(|_| "set GIOSG_API_TOKEN".to_owned())?;
    let written = export(flag("--base-url")?, flag("--org")?, &token, flag("--out")?)?;
    eprintln!("raw-export: {written} chats");
    Ok(())
}

/// Exports every chat; returns how many.
pub(super) fn export(base_url: &str, org: &str, token: &str, out: &str) -> Result<u64, String> {
    let url = chats_url(base_url, org);
    let auth = format!("Token {token}");
    let mut file = BufWriter::new(File::create(out).map_err(|e| format!("{out}: {e}"))?);
    let written = runtime()?.block_on(async {
        let client = reqwest::Client::new();
        let mut since: Option<Uuid> = None;
        let mut written = 0u64;
        for _ in 0..MAX_PAGES {
            let page_url = match since {
                None => format!("{url}?page_size={PAGE_SIZE}"),
                Some(id) => format!("{url}?page_size={PAGE_SIZE}&since_id={id}"),
            };
            let body = client
                .get(&page_url)
                .header("Authorization", &auth)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| e.to_string())?
                .bytes()
                .await
                .map_err(|e| e.to_string())?;
            let page: Page<Chat> = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            for chat in &page.results {
                serde_json::to_writer(&mut file, chat).map_err(|e| e.to_string())?;
                file.write_all(b"\n").map_err(|e| e.to_string())?;
            }
            written += page.results.len() as u64;
            match page.results.last() {
                Some(last) if page.results.len() == PAGE_SIZE => since = Some(last.id),
                _ => return Ok(written),
            }
        }
        Err::<u64, String>("more pages than the loop's bound".to_owned())
    })?;
    file.flush().map_err(|e| format!("{out}: {e}"))?;
    Ok(written)
}

/// One pass of the mock-throughput loop.
#[derive(Clone, Copy, Debug)]
pub(super) struct Served {
    /// Requests answered.
    pub requests: u64,
    /// Body bytes received.
    pub bytes: u64,
    /// Seconds spent waiting for responses (request sent to body complete).
    pub secs: f64,
}

#[derive(Deserialize)]
struct Ids {
    results: Vec<Id>,
}

#[derive(Deserialize)]
struct Id {
    id: Uuid,
}

/// Fetches up to `max_pages` pages of 100 from the mock as fast as it answers, timing only the
/// requests: keyset paging when `keyset` (the next cursor is read from each body outside the
/// timed part), page numbers otherwise.
pub(super) fn mock_throughput(
    base_url: &str,
    org: &str,
    token: &str,
    keyset: bool,
    max_pages: usize,
) -> Result<Served, String> {
    let url = chats_url(base_url, org);
    let auth = format!("Token {token}");
    runtime()?.block_on(async {
        let client = reqwest::Client::new();
        let mut served = Served {
            requests: 0,
            bytes: 0,
            secs: 0.0,
        };
        let mut since: Option<Uuid> = None;
        for page in 1..=max_pages.min(MAX_PAGES) {
            let page_url = match (keyset, since) {
                (false, _) => format!("{url}?page_size={PAGE_SIZE}&page={page}"),
                (true, None) => format!("{url}?page_size={PAGE_SIZE}"),
                (true, Some(id)) => format!("{url}?page_size={PAGE_SIZE}&since_id={id}"),
            };
            let start = Instant::now();
            let response = client
                .get(&page_url)
                .header("Authorization", &auth)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if response.status() == reqwest::StatusCode::NOT_FOUND && !keyset {
                break; // past the last page
            }
            let body = response
                .error_for_status()
                .map_err(|e| e.to_string())?
                .bytes()
                .await
                .map_err(|e| e.to_string())?;
            served.secs += start.elapsed().as_secs_f64();
            served.requests += 1;
            served.bytes += body.len() as u64;
            let ids: Ids = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            if ids.results.len() < PAGE_SIZE {
                break;
            }
            since = ids.results.last().map(|c| c.id);
        }
        Ok(served)
    })
}

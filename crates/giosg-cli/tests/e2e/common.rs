//! Running the binary, and the mocks and files the tests share.
#![allow(dead_code)]

use giosg_async::Chat;
use giosg_mock::MockServer;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

/// What a run of `giosg` did.
#[derive(Debug)]
pub(crate) struct Run {
    /// The exit code.
    pub code: i32,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    pub(crate) fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "stderr: {}", self.stderr);
        &self.stdout
    }

    /// Asserts the failure: this exit code and exactly one `giosg: ...` line on stderr.
    pub(crate) fn fails(&self, code: i32) -> &str {
        assert_eq!(
            self.code, code,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line on stderr: {}", self.stderr);
        assert!(lines[0].starts_with("giosg: "), "{}", self.stderr);
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        lines[0]
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
        }
    }
}

/// `giosg` with these arguments, without the caller's token or log settings.
pub(crate) fn giosg<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_giosg"));
    cmd.args(args)
        .env_remove("GIOSG_API_TOKEN")
        .env_remove("GIOSG_ORG")
        .env_remove("GIOSG_BASE_URL")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    cmd
}

/// Runs a command to its end.
pub(crate) fn run(cmd: &mut Command) -> Run {
    cmd.output().expect("giosg runs").into()
}

/// `giosg chats <sub> --org .. --base-url .. <args>` with the mock's token and fast retries.
pub(crate) fn chats(mock: &MockServer, sub: &str, args: &[&str]) -> Command {
    let mut cmd = giosg(["chats", sub]);
    cmd.args(api_args(mock))
        .args(args)
        .env("GIOSG_API_TOKEN", mock.token());
    cmd
}

/// `--org`, `--base-url` and a 1 ms retry backoff for this mock.
pub(crate) fn api_args(mock: &MockServer) -> Vec<String> {
    vec![
        "--org".into(),
        mock.org().to_string(),
        "--base-url".into(),
        mock.base_url(),
        "--retry-delay-ms".into(),
        "1".into(),
    ]
}

/// A mock serving `n` chats generated from `seed`.
pub(crate) fn mock(seed: u64, n: usize) -> MockServer {
    MockServer::builder()
        .generated(seed, n)
        .start()
        .expect("the mock starts")
}

/// The chats of a JSON Lines text.
pub(crate) fn jsonl(text: &str) -> Vec<Chat> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The ids of chats.
pub(crate) fn ids(chats: &[Chat]) -> Vec<String> {
    chats.iter().map(|c| c.id.to_string()).collect()
}

/// A fresh, empty directory for one test.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "giosg-cli-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// `count` generated chats that started over the last day or two (the newest ended): recent
/// enough for a rerun of `sync` or `export` to follow them.
pub(crate) fn recent_chats(seed: u64, count: usize) -> Vec<Chat> {
    let now = giosg_async::DateTime::<giosg_async::Utc>::from(std::time::SystemTime::now());
    // Chats come at most 30 minutes apart: `count` of them fit in `count` half hours.
    let start = now - chrono::TimeDelta::minutes(30 * count as i64 + 60);
    let mut generator = giosg_mock::Generator::new(seed, start);
    (0..count).map(|_| generator.chat()).collect()
}

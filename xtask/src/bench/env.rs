//! Where `cargo xtask bench` runs: the workspace and target directories, the release binaries
//! it measures, and the Python venv of the baseline script (`bench/.venv`).

use super::step;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workspace root.
pub(super) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_owned()
}

/// Where cargo builds: `CARGO_TARGET_DIR`, or `target/` in the workspace.
pub(super) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace().join("target"), PathBuf::from)
}

/// The release binaries the benchmark runs.
pub(super) struct Bins {
    /// `giosg-mock`.
    pub mock: PathBuf,
    /// `giosg`.
    pub giosg: PathBuf,
    /// This program (`xtask bench raw-export` is a baseline).
    pub xtask: PathBuf,
}

impl Bins {
    /// Finds them in `target/release`, or says to build them.
    pub(super) fn find() -> Result<Bins, String> {
        let release = target_dir().join("release");
        let bins = Bins {
            mock: release.join("giosg-mock"),
            giosg: release.join("giosg"),
            xtask: std::env::current_exe().map_err(|e| format!("current exe: {e}"))?,
        };
        for bin in [&bins.mock, &bins.giosg] {
            if !bin.exists() {
                return Err(format!(
                    "{} is missing: run `cargo xtask bench`, which builds it",
                    bin.display()
                ));
            }
        }
        Ok(bins)
    }
}

/// `bench/.venv/bin/python`, with `requests`, and the sync's peers `dlt[duckdb]` and
/// `sqlite-utils`, installed (created on first use).
pub(super) fn venv() -> Result<PathBuf, String> {
    let dir = workspace().join("bench/.venv");
    let python = dir.join("bin/python");
    let has_requests = |python: &Path| {
        Command::new(python)
            .args(["-c", "import requests, dlt, duckdb, sqlite_utils"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if python.exists() && has_requests(&python) {
        return Ok(python);
    }
    step("creating bench/.venv (python3 -m venv, pip install requests dlt[duckdb] sqlite-utils)");
    let run = |cmd: &mut Command| -> Result<(), String> {
        let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
        status
            .success()
            .then_some(())
            .ok_or_else(|| format!("{cmd:?} failed: {status}"))
    };
    run(Command::new("python3").args(["-m", "venv"]).arg(&dir))?;
    run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "requests",
        "dlt[duckdb]",
        "sqlite-utils",
    ]))?;
    if has_requests(&python) {
        Ok(python)
    } else {
        Err(format!(
            "{} cannot import requests, dlt, duckdb and sqlite_utils",
            python.display()
        ))
    }
}

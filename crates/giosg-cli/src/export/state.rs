//! What is saved beside an export file (`<file>.giosg-state`) so that a rerun resumes it
//! exactly and follows updates, and how it is saved: atomically, after the file is synced.

use super::Export;
use crate::args::ExportFormat;
use crate::error::CliError;
use giosg_async::{Chat, ChatFilter, Checkpoint, DateTime, Utc, Uuid};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The version of the state file's layout.
pub(super) const STATE_VERSION: u32 = 1;

/// What is saved beside an export file so that a rerun resumes it exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct State {
    pub(super) version: u32,
    pub(super) org: Uuid,
    /// The listing's filter (`page_size` aside: it does not change which chats are listed).
    pub(super) filter: ChatFilter,
    /// `jsonl`, `csv` or `csv-logs`.
    pub(super) format: String,
    /// The file's length when this state was saved: everything before it is complete and
    /// accounted for by `checkpoint`.
    pub(super) offset: u64,
    /// The work left; `None` before the first answer.
    pub(super) checkpoint: Option<Checkpoint>,
    /// The chats written that may still change, as written (older states have none).
    #[serde(default)]
    pub(super) followed: BTreeMap<Uuid, Written>,
}

/// A chat as the file holds it, for telling whether the server's version differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Written {
    #[serde(with = "giosg_async::time::option")]
    pub(super) start: Option<DateTime<Utc>>,
    pub(super) open: bool,
    /// FNV-1a of the chat's record in the file.
    pub(super) record: u64,
}

impl Written {
    pub(super) fn of(chat: &Chat, record: &[u8]) -> Written {
        let mut hash = fnv::FnvHasher::default();
        std::hash::Hasher::write(&mut hash, record);
        Written {
            start: chat.start_time,
            open: chat.end_time.is_none(),
            record: std::hash::Hasher::finish(&hash),
        }
    }
}

impl Export {
    /// The state file's path: `<file>.giosg-state`.
    pub(super) fn state_path(&self) -> PathBuf {
        let mut name = self.out.as_os_str().to_owned();
        name.push(".giosg-state");
        PathBuf::from(name)
    }

    /// Replaces the state file atomically: a new file, synced, renamed over the old one.
    pub(super) fn save(&self, state: &State) -> Result<(), CliError> {
        let path = self.state_path();
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let json = serde_json::to_vec(state).expect("a state serialises");
        let written = File::create(&tmp)
            .and_then(|mut f| f.write_all(&json).and_then(|()| f.sync_all()))
            .and_then(|()| std::fs::rename(&tmp, &path));
        written.map_err(|e| CliError::io(path.display(), &e))?;
        sync_parent(&path);
        Ok(())
    }

    /// The state this export would start a new file with.
    pub(super) fn fresh_state(&self, checkpoint: Option<Checkpoint>) -> State {
        State {
            version: STATE_VERSION,
            org: self.org,
            filter: self.filter.selection(),
            format: match (self.format, self.csv_logs) {
                (ExportFormat::Jsonl, _) => "jsonl",
                (ExportFormat::Csv, false) => "csv",
                (ExportFormat::Csv, true) => "csv-logs",
            }
            .to_owned(),
            offset: 0,
            checkpoint,
            followed: BTreeMap::new(),
        }
    }

    /// The saved state, if there is one.
    pub(super) fn load(&self) -> Result<Option<State>, CliError> {
        let path = self.state_path();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CliError::io(path.display(), &e)),
        };
        let state: State = serde_json::from_slice(&bytes).map_err(|e| {
            CliError::usage(format!(
                "{} is not an export state ({e}); remove it to start {} afresh",
                path.display(),
                self.out.display()
            ))
        })?;
        if state.version != STATE_VERSION {
            return Err(CliError::usage(format!(
                "{} has state version {}, this giosg writes {STATE_VERSION}",
                path.display(),
                state.version
            )));
        }
        Ok(Some(state))
    }
}

/// The options a state was written with, for an error message.
pub(super) fn describe(state: &State) -> String {
    let query = giosg_async::query::encode(&state.filter);
    let query = if query.is_empty() {
        "no filters".to_owned()
    } else {
        query
    };
    format!("--format {}, {query}", state.format)
}

/// Syncs the directory holding a new file, so that the file's name survives a crash too.
pub(super) fn sync_parent(path: &Path) {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Ok(dir) = File::open(parent) {
            let _ = dir.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

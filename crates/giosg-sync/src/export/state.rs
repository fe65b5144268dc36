//! What is saved beside an export file (`<file>.giosg-state`) so that a rerun resumes it
//! exactly and follows updates, and how it is saved: to an unpredictable, exclusively created,
//! owner-only temporary file beside it, synced, then renamed over the old one (never through
//! a link), after the export file itself is synced.

use crate::Error;
use giosg_model::{Chat, ChatFilter, DateTime, Utc, Uuid};
use giosg_query::{Checkpoint, ListingIdentity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The version of the state file's layout (version 1 files are migrated when read).
pub(super) const STATE_VERSION: u32 = 2;

/// What is saved beside an export file so that a rerun resumes it exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct State {
    pub(super) version: u32,
    /// The listing the file holds.
    pub(super) listing: ListingIdentity,
    /// `jsonl`, `csv` or `csv-logs`, with `-raw` for raw CSV text cells.
    pub(super) format: String,
    /// The file's length when this state was saved: everything before it is complete and
    /// accounted for by `checkpoint`.
    pub(super) offset: u64,
    /// The work left; `None` before the first answer.
    pub(super) checkpoint: Option<Checkpoint>,
    /// While a run that reads chats again is going on: the position (start time, id) up to
    /// which chats were written by an earlier run. A chat at or before it is appended again
    /// only when it changed; one after it is new.
    #[serde(default, with = "boundary")]
    pub(super) boundary: Option<(DateTime<Utc>, Uuid)>,
    /// Chats appended as new so far, and the earliest start time among them: how dense the
    /// listing is, to size the windows that read chats again.
    #[serde(default)]
    pub(super) chats: u64,
    #[serde(default, with = "giosg_model::time::option")]
    pub(super) first_start: Option<DateTime<Utc>>,
    #[serde(default, with = "giosg_model::time::option")]
    pub(super) last_start: Option<DateTime<Utc>>,
    /// The chats written that may still change, as written.
    #[serde(default)]
    pub(super) followed: BTreeMap<Uuid, Written>,
}

/// A chat as the file holds it, for telling whether the server's version differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Written {
    #[serde(with = "giosg_model::time::option")]
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

/// The boundary as `{"start": "...", "id": "..."}`.
mod boundary {
    use giosg_model::{DateTime, Utc, Uuid};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Position {
        #[serde(with = "giosg_model::time::option")]
        start: Option<DateTime<Utc>>,
        id: Uuid,
    }

    pub(super) fn serialize<S: Serializer>(
        b: &Option<(DateTime<Utc>, Uuid)>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        b.map(|(start, id)| Position {
            start: Some(start),
            id,
        })
        .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<(DateTime<Utc>, Uuid)>, D::Error> {
        Ok(Option::<Position>::deserialize(d)?.and_then(|p| Some((p.start?, p.id))))
    }
}

/// A version 1 state: the listing as organisation and filter, a checkpoint without its
/// listing.
#[derive(Deserialize)]
struct StateV1 {
    org: Uuid,
    filter: ChatFilter,
    format: String,
    offset: u64,
    checkpoint: Option<Checkpoint>,
    #[serde(default)]
    followed: BTreeMap<Uuid, Written>,
}

/// The state file's path: `<file>.giosg-state`.
pub(super) fn path_of(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".giosg-state");
    PathBuf::from(name)
}

/// The saved state, if there is one: read without following a link, a version 1 state of a
/// JSON Lines export migrated (a CSV one is refused: its columns were others), anything else
/// refused.
pub(super) fn load(out: &Path) -> Result<Option<State>, Error> {
    let path = path_of(out);
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc_nofollow());
    let mut bytes = Vec::new();
    match options
        .open(&path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
    {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if is_loop(&e) => {
            return Err(Error::refused(
                &path,
                "the export's state file is a symbolic link; remove it",
            ))
        }
        Err(e) => return Err(Error::file(&path, e)),
    }
    let not_state = |e: serde_json::Error| {
        Error::refused(
            &path,
            format!("is not an export state ({e}); remove it and the export file to start afresh"),
        )
    };
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(not_state)?;
    match value.get("version").and_then(serde_json::Value::as_u64) {
        Some(1) => {
            let old: StateV1 = serde_json::from_value(value).map_err(not_state)?;
            let listing = ListingIdentity::new(old.org, &old.filter);
            let checkpoint = old
                .checkpoint
                .map(|c| c.upgrade(&listing))
                .transpose()
                .map_err(|e| Error::refused(&path, e.to_string()))?;
            if old.format != "jsonl" {
                return Err(Error::refused(
                    out,
                    "was written by giosg 0.1, whose CSV had other columns (and wrote formulas as they came): export into a new file",
                ));
            }
            let format = old.format;
            Ok(Some(State {
                version: STATE_VERSION,
                listing,
                format,
                offset: old.offset,
                checkpoint,
                boundary: None,
                chats: 0,
                first_start: None,
                last_start: None,
                followed: old.followed,
            }))
        }
        Some(v) if v == u64::from(STATE_VERSION) => {
            Ok(Some(serde_json::from_value(value).map_err(not_state)?))
        }
        other => Err(Error::refused(
            &path,
            format!(
                "has state version {}, this giosg reads 1 and {STATE_VERSION}: update giosg",
                other.map_or_else(|| "none".to_owned(), |v| v.to_string())
            ),
        )),
    }
}

/// Replaces the state file atomically: an unpredictable temporary file beside it, created
/// exclusively and owner-only, written, synced, renamed over the old one (a rename replaces
/// a link rather than following it), then the directory synced.
pub(super) fn save(out: &Path, state: &State) -> Result<(), Error> {
    let path = path_of(out);
    let dir = parent(&path);
    let json = serde_json::to_vec(state).expect("a state serialises");
    let written = tempfile::Builder::new()
        .prefix(".giosg-state-")
        .tempfile_in(dir)
        .and_then(|mut tmp| {
            tmp.write_all(&json)?;
            tmp.as_file().sync_all()?;
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(())
        });
    written.map_err(|e| Error::file(&path, e))?;
    sync_dir(&path);
    Ok(())
}

/// The directory a file is in (`.` for a bare name).
pub(super) fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Syncs the directory holding a file, so that its name survives a crash too.
pub(super) fn sync_dir(path: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = File::open(parent(path)) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(unix)]
fn libc_nofollow() -> i32 {
    libc::O_NOFOLLOW
}

fn is_loop(e: &io::Error) -> bool {
    #[cfg(unix)]
    return e.raw_os_error() == Some(libc::ELOOP);
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

//! What can go wrong keeping a copy.

use std::path::PathBuf;

/// Everything a sync or an export can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listing failed (the API, the network, a checkpoint of another listing, ...).
    /// What was stored or written before it stays; a rerun continues from there.
    #[error("listing chats")]
    Api(#[from] giosg_query::Error),
    /// The store failed, or refused the file (another listing's, a newer schema, a link).
    #[error("the store")]
    Store(#[from] giosg_store::Error),
    /// The listing failed after `done` chats were stored or written: they stay, and a rerun
    /// continues from there.
    #[error("stopped after {done} chats were stored or written; run the same again to continue")]
    Stopped {
        /// Why.
        #[source]
        source: giosg_query::Error,
        /// Chats stored or written by this run before it stopped.
        done: u64,
    },
    /// Options the sync or export cannot run with.
    #[error("{0}")]
    Unsupported(&'static str),
    /// Reading or writing a file failed.
    #[error("{}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The export refuses the file: it did not make it (or cannot prove it did), or made it
    /// for other options. Nothing was changed.
    #[error("{}: {reason}", path.display())]
    Refused {
        /// The file.
        path: PathBuf,
        /// Why, and what to do.
        reason: String,
    },
}

impl Error {
    /// The API error behind this one, if the listing failed.
    pub fn api(&self) -> Option<&giosg_query::Error> {
        match self {
            Error::Api(e) | Error::Stopped { source: e, .. } => Some(e),
            _ => None,
        }
    }

    pub(crate) fn file(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::File {
            path: path.to_owned(),
            source,
        }
    }

    pub(crate) fn refused(path: &std::path::Path, reason: impl Into<String>) -> Self {
        Error::Refused {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }
}

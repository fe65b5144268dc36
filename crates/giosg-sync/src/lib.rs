//! Keeps a copy of an organisation's giosg chats true: a sync into a local store
//! ([`giosg_store`], SQLite) and a resumable export into a file (JSON Lines or CSV), over either
//! client (`giosg-blocking`'s or `giosg-async`'s).
//!
//! The rules a copy needs live here, so that a program gets them with one call:
//! - **What to list.** A first run lists everything. A later run lists the chats that started
//!   since the last one got, the chats that started within the lookback, and every chat that
//!   was still going on when it was copied, at any age, in narrow windows around each of them
//!   ([`Refresh`]); a full sync lists everything and marks what the server no longer serves.
//! - **Nothing lost, nothing twice.** The store commits each page of chats together with the
//!   listing's [`Checkpoint`]; the export appends whole records and saves its state (the file's
//!   length, the checkpoint, the chats that may still change) after syncing the file. Killed at
//!   any instant, a rerun continues where the last one stood: no page that was committed is
//!   listed again (but those in flight at the kill), and no chat is lost.
//! - **One listing per copy.** A store or export file belongs to one [`ListingIdentity`]
//!   (organisation, every filter as sent, order); another listing's is refused.
//! - **Files that are not ours are never touched.** An export writes only a file it created
//!   or one its own state proves it wrote; it never follows a symbolic link; its files are
//!   owner-only.
//!
//! Progress goes to an [`Observer`] the caller owns (a progress bar, a log line); `()` observes
//! nothing.
//!
//! ```no_run
//! // Cargo.toml: giosg-blocking = "0.1", giosg-sync = "0.1"
//! use giosg_blocking::{ChatFilter, Client, Uuid};
//! use giosg_sync::{Location, Store, SyncOptions};
//!
//! let client = Client::builder().build()?; // token from GIOSG_API_TOKEN
//! let org = Uuid::parse_str("7f9e9580-095b-42c7-838c-c04e667b26f7")?;
//! let options = SyncOptions::new(org, ChatFilter::new());
//! // A SQLite file, or postgres://user@host/db (with the feature `postgres`).
//! let mut store = Store::open(Location::parse("chats.db")?, &options.listing())?;
//! let report = giosg_sync::sync_blocking(&client, &mut store, &options, &mut ())?;
//! println!("{report}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod copy;
mod error;
pub mod export;
pub mod format;
mod observe;
mod refresh;

#[cfg(feature = "async")]
pub use copy::sync;
#[cfg(feature = "blocking")]
pub use copy::sync_blocking;
pub use copy::{SyncOptions, SyncReport};
pub use error::Error;
pub use export::{Export, ExportReport};
pub use format::Format;
pub use observe::Observer;
pub use refresh::Refresh;

// What a copy is made of, so that one dependency is enough next to a client.
/// Decryption of encrypted chats (giosg-decrypt): the keys to give a sync or an export.
pub use giosg_decrypt::{Keyring, Passphrase, PrivateKey, Tally};
pub use giosg_query::{Anomaly, Checkpoint, Completeness, ListingIdentity};
pub use giosg_store::{Error as StoreError, Location, Opened, Store, Upserted};

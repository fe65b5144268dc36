//! Chats: where their encrypted members are, and decrypting one with any of several keys.

use crate::{standard_base64, ChatKey, Error, PrivateKey};
use giosg_model::Chat;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What decrypting a chat did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decrypted {
    /// Nothing in it was encrypted.
    Nothing,
    /// This many messages were decrypted into their `message`.
    Messages(usize),
}

/// The owner's private keys (organisations rotate them): each chat is opened with the one that
/// opens its symmetric key, tried in order, the last that did tried first. Shared between
/// threads as it is.
pub struct Keyring {
    keys: Vec<PrivateKey>,
    last: AtomicUsize,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// A keyring of these keys, tried in this order.
    pub fn new(keys: Vec<PrivateKey>) -> Keyring {
        Keyring {
            keys,
            last: AtomicUsize::new(0),
        }
    }

    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Opens a chat's `encrypted_symmetric_key` with the first key that can.
    pub fn open(&self, encrypted_symmetric_key: &str) -> Result<ChatKey, Error> {
        let wrapped = standard_base64(encrypted_symmetric_key).ok_or(Error::SymmetricKeyBase64)?;
        let n = self.keys.len();
        let first = self.last.load(Ordering::Relaxed);
        for i in (0..n).map(|k| (first + k) % n) {
            if let Some(json) = self.keys[i].open(&wrapped) {
                self.last.store(i, Ordering::Relaxed);
                return ChatKey::from_json(&json);
            }
        }
        Err(Error::NoKeyOpens { keys: n })
    }

    /// Decrypts every encrypted message of `chat` into its `message` (`encrypted_message` is
    /// kept as the server sent it). All or nothing: on an error the chat is as it was.
    pub fn decrypt_chat(&self, chat: &mut Chat) -> Result<Decrypted, Error> {
        let encrypted: Vec<usize> = (0..chat.logs.len())
            .filter(|&i| chat.logs[i].encrypted_message().is_some())
            .collect();
        if encrypted.is_empty() {
            return Ok(Decrypted::Nothing);
        }
        let key = self.open(
            chat.encrypted_symmetric_key()
                .ok_or(Error::MissingChatKey)?,
        )?;
        let texts = encrypted
            .iter()
            .map(|&i| key.decrypt(chat.logs[i].encrypted_message().unwrap_or_default()))
            .collect::<Result<Vec<String>, Error>>()?;
        for (&i, text) in encrypted.iter().zip(texts) {
            chat.logs[i].message = Some(text);
        }
        Ok(Decrypted::Messages(encrypted.len()))
    }
}

/// What decrypting a run's chats did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tally {
    /// Chats that carried encrypted messages.
    pub encrypted: u64,
    /// Of them, decrypted.
    pub decrypted: u64,
    /// Of them, left as they came: each one's id and why.
    pub failed: Vec<(giosg_model::Uuid, Error)>,
}

impl fmt::Display for Tally {
    /// `12 encrypted chats: 11 decrypted, 1 could not be`, or `12 encrypted chats (not
    /// decrypted: no private key)` when nothing was tried.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if self.encrypted == 1 { "" } else { "s" };
        if self.decrypted == 0 && self.failed.is_empty() && self.encrypted > 0 {
            return write!(
                f,
                "{} encrypted chat{s} (not decrypted: no private key)",
                self.encrypted
            );
        }
        write!(
            f,
            "{} encrypted chat{s}: {} decrypted",
            self.encrypted, self.decrypted
        )?;
        if !self.failed.is_empty() {
            write!(f, ", {} could not be", self.failed.len())?;
        }
        Ok(())
    }
}

impl Tally {
    /// Adds another tally's counts and failures to this one.
    pub fn add(&mut self, other: Tally) {
        self.encrypted += other.encrypted;
        self.decrypted += other.decrypted;
        self.failed.extend(other.failed);
    }
}

/// Decrypts `chats` with `keyring`, each chat all or nothing (one that cannot be decrypted is
/// left as it came, and named in the tally); without a keyring the encrypted ones are only
/// counted. RSA is CPU work: the chats are shared out over the machine's cores.
pub fn decrypt_all(keyring: Option<&Keyring>, chats: &mut [Chat]) -> Tally {
    let one = |chat: &mut Chat, tally: &mut Tally| {
        if !chat.logs.iter().any(|l| l.encrypted_message().is_some()) {
            return;
        }
        tally.encrypted += 1;
        if let Some(keyring) = keyring {
            match keyring.decrypt_chat(chat) {
                Ok(_) => tally.decrypted += 1,
                Err(e) => tally.failed.push((chat.id, e)),
            }
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if keyring.is_none() || threads < 2 || chats.len() < 8 {
        let mut tally = Tally::default();
        for chat in chats.iter_mut() {
            one(chat, &mut tally);
        }
        return tally;
    }
    let chunk = chats.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = chats
            .chunks_mut(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut tally = Tally::default();
                    for chat in part {
                        one(chat, &mut tally);
                    }
                    tally
                })
            })
            .collect();
        let mut tally = Tally::default();
        for worker in workers {
            match worker.join() {
                Ok(part) => tally.add(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        tally
    })
}

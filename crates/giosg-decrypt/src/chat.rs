//! Chats: where their encrypted members are, and decrypting one with any of several keys.

use crate::{standard_base64, ChatKey, Error, PrivateKey};
use giosg_model::{Chat, ChatLog};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A text member, `None` when it is missing, `null`, `""` or not text.
fn text<'a>(extra: &'a giosg_model::Extra, name: &str) -> Option<&'a str> {
    extra
        .get(name)
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
}

/// The chat's `encrypted_symmetric_key`: `None` when missing, `null` or `""`.
pub fn encrypted_symmetric_key(chat: &Chat) -> Option<&str> {
    text(&chat.extra, "encrypted_symmetric_key")
}

/// A log's `encrypted_message`: `None` when missing, `null` or `""` (join and leave logs have
/// none).
pub fn encrypted_message(log: &ChatLog) -> Option<&str> {
    text(&log.extra, "encrypted_message")
}

/// Whether the chat is encrypted: `is_encrypted` is true, or it carries a symmetric key or an
/// encrypted message.
pub fn is_encrypted(chat: &Chat) -> bool {
    chat.extra.get("is_encrypted").and_then(|v| v.as_bool()) == Some(true)
        || encrypted_symmetric_key(chat).is_some()
        || chat.logs.iter().any(|l| encrypted_message(l).is_some())
}

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
            .filter(|&i| encrypted_message(&chat.logs[i]).is_some())
            .collect();
        if encrypted.is_empty() {
            return Ok(Decrypted::Nothing);
        }
        let key = self.open(encrypted_symmetric_key(chat).ok_or(Error::MissingChatKey)?)?;
        let texts = encrypted
            .iter()
            .map(|&i| key.decrypt(encrypted_message(&chat.logs[i]).unwrap_or_default()))
            .collect::<Result<Vec<String>, Error>>()?;
        for (&i, text) in encrypted.iter().zip(texts) {
            chat.logs[i].message = Some(text);
        }
        Ok(Decrypted::Messages(encrypted.len()))
    }
}

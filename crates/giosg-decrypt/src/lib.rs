//! Decrypts giosg's encrypted chats with their owner's RSA private key, sans I/O.
//!
//! giosg encrypts chats per room: each chat gets a fresh AES key, stored RSA-encrypted with
//! the customer's public key (`encrypted_symmetric_key` on the chat). Once giosg's 90-minute
//! cache of the plain key expires, a message's text is only in `encrypted_message`. The
//! scheme, step by step:
//!
//! 1. `encrypted_symmetric_key` is standard base64 (it may be wrapped): RSA-OAEP with SHA-1
//!    and MGF1-SHA-1, empty label, opens it ([`PrivateKey`], several in a [`Keyring`]).
//! 2. The result is keyczar's AES key JSON, `{"hmacKey": {"hmacKeyString": …}, "aesKeyString":
//!    …, "mode": "CBC", …}`, keys in web-safe base64 without padding ([`ChatKey`]).
//! 3. Each message blob (standard base64) is a 5-byte header, a 16-byte IV, the AES-CBC
//!    ciphertext and a 20-byte HMAC-SHA1 tag over everything before it (header included),
//!    checked in constant time; then the PKCS#7 padding is checked and the text decoded as
//!    UTF-8.
//!
//! **Where the members are (a decision, as giosg's newer chat endpoints have them):** the chats
//! listing is assumed to carry `is_encrypted` and `encrypted_symmetric_key` on the chat and
//! `encrypted_message` on each log where a room is encrypted; missing, `null` and `""` all
//! mean "nothing to decrypt" (join and leave logs have none). The model keeps them as members
//! it does not type, exactly as sent, so an archive stays faithful (`null` stays `null`);
//! [`Chat::encrypted_symmetric_key`](giosg_model::Chat::encrypted_symmetric_key) and
//! [`ChatLog::encrypted_message`](giosg_model::ChatLog::encrypted_message) read them. Decrypting puts the text
//! into the log's `message` and keeps `encrypted_message` as the server sent it.
//!
//! Secret material (the private key, a passphrase, the AES and HMAC keys, the plaintext of a
//! message that failed a check) is zeroized when dropped and appears in no `Debug`, error or
//! log line.
//!
//! The `rsa` crate carries RUSTSEC-2023-0071 (Marvin: its private-key operation's timing can
//! leak the key to someone who can time many decryptions of chosen ciphertexts). It does not
//! apply here: the key decrypts the owner's own archive on the owner's machine, with no
//! attacker submitting ciphertexts and timing the answers.
//!
//! ```
//! use giosg_decrypt::{ChatKey, Keyring, PrivateKey};
//!
//! // The server's side (the mock's): a key for the chat, wrapped with the public key.
//! let key = PrivateKey::from_pem(giosg_decrypt::test_key::PKCS1_PEM, None)?;
//! let chat_key = ChatKey::generate();
//! let wrapped = chat_key.wrap(&key.public())?;
//! let blob = chat_key.seal("The Line is Open!");
//!
//! // The owner's side.
//! let mut keyring = Keyring::new(vec![key]);
//! let opened = keyring.open(&wrapped)?;
//! assert_eq!(opened.decrypt(&blob)?, "The Line is Open!");
//! # Ok::<(), giosg_decrypt::Error>(())
//! ```

mod chat;
mod chat_key;
mod error;
mod key;
mod legacy;
pub mod test_key;

pub use chat::{decrypt_all, Decrypted, Keyring, Tally};
pub use chat_key::ChatKey;
pub use error::Error;
pub use key::{Passphrase, PrivateKey, PublicKey};

/// Base64 with the standard alphabet, padding optional, ASCII whitespace (line wrapping) left
/// out first.
pub(crate) fn standard_base64(text: &str) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    decode(text, &base64::alphabet::STANDARD)
}

/// keyczar's web-safe base64: the URL-safe alphabet, without padding (accepted with it too).
pub(crate) fn web_safe_base64(text: &str) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    decode(text, &base64::alphabet::URL_SAFE)
}

fn decode(
    text: &str,
    alphabet: &base64::alphabet::Alphabet,
) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use base64::Engine;
    let engine = GeneralPurpose::new(
        alphabet,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: zeroize::Zeroizing<Vec<u8>> =
        zeroize::Zeroizing::new(text.bytes().filter(|b| !b.is_ascii_whitespace()).collect());
    engine.decode(&*compact).ok().map(zeroize::Zeroizing::new)
}

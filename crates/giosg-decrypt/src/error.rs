//! Everything that can go wrong decrypting, in words that hold no secret.

/// Everything that can go wrong reading a key or decrypting a chat. No variant holds or shows
/// secret material.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The private key is in no format read here (PEM or DER; PKCS#1, PKCS#8, PKCS#8
    /// encrypted, or OpenSSL's legacy encrypted PEM), or is not an RSA key.
    #[error("not an RSA private key this version reads ({0}): PEM or DER, PKCS#1 or PKCS#8, plain or encrypted")]
    UnreadableKey(&'static str),
    /// The private key is encrypted and no passphrase was given.
    #[error("the private key is encrypted: give its passphrase")]
    PassphraseNeeded,
    /// The passphrase does not open the private key.
    #[error("the passphrase does not open the private key")]
    WrongPassphrase,
    /// The legacy PEM names a cipher this version does not read (`DEK-Info`).
    #[error("the private key is encrypted with {0}, which this version does not read (DES-EDE3-CBC and AES-128/192/256-CBC are read)")]
    UnsupportedKeyCipher(String),
    /// A chat's `encrypted_symmetric_key` is not base64.
    #[error("the chat's symmetric key is not base64")]
    SymmetricKeyBase64,
    /// None of the private keys opens the chat's symmetric key (RSA-OAEP with SHA-1 failed
    /// with each): the chat was encrypted for another key.
    #[error("none of the {keys} private key(s) opens the chat's symmetric key (it was encrypted for another key)")]
    NoKeyOpens {
        /// How many keys were tried.
        keys: usize,
    },
    /// The symmetric key opened, but is not keyczar's AES key JSON.
    #[error("the chat's symmetric key is not an AES key in keyczar's form")]
    KeyJson,
    /// The AES key's mode is not CBC.
    #[error("the chat's AES key is for mode {0:?}; only CBC is read")]
    Mode(String),
    /// The chat has encrypted messages but no symmetric key.
    #[error("the chat has encrypted messages but no encrypted_symmetric_key")]
    MissingChatKey,
    /// A message's `encrypted_message` is not base64.
    #[error("an encrypted message is not base64")]
    MessageBase64,
    /// A message blob is shorter than a header, an IV, one block and a tag (57 bytes).
    #[error(
        "an encrypted message of {0} bytes is shorter than header, IV, one block and tag (57)"
    )]
    TooShort(usize),
    /// A message's ciphertext is not whole AES blocks.
    #[error("an encrypted message's ciphertext is not whole 16-byte blocks")]
    NotWholeBlocks,
    /// A message's HMAC-SHA1 tag does not match: it was altered, or sealed with another key.
    #[error("an encrypted message's tag does not match (altered, or another key's)")]
    BadMac,
    /// A message's PKCS#7 padding is not valid.
    #[error("an encrypted message's padding is not valid")]
    BadPadding,
    /// A message's plaintext is not UTF-8.
    #[error("an encrypted message's text is not UTF-8")]
    NotUtf8,
    /// Sealing failed (the public key cannot encrypt the chat key).
    #[error("the chat key cannot be wrapped with this public key")]
    Seal,
}

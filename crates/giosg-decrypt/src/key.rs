//! The owner's RSA key pair: the private key in every form giosg's tools accept, and its
//! passphrase.

use crate::{legacy, Error};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use std::fmt;
use zeroize::Zeroizing;

/// A private key's passphrase: zeroized when dropped, never shown.
///
/// ```
/// let p = giosg_decrypt::Passphrase::from_file_text("salaisuus\n".to_owned());
/// assert_eq!(format!("{p:?}"), "Passphrase(***)");
/// ```
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// A passphrase as it is.
    pub fn new(text: impl Into<String>) -> Passphrase {
        Passphrase(Zeroizing::new(text.into()))
    }

    /// A passphrase read from a file: the file's text without its last line ending (`\n` or
    /// `\r\n`), as `echo secret > file` writes it.
    pub fn from_file_text(mut text: String) -> Passphrase {
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        Passphrase(Zeroizing::new(text))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(***)")
    }
}

/// The owner's RSA private key: it opens each chat's symmetric key. Zeroized when dropped;
/// its `Debug` shows only its size.
#[derive(Clone)]
pub struct PrivateKey {
    key: RsaPrivateKey,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use rsa::traits::PublicKeyParts;
        f.debug_struct("PrivateKey")
            .field("bits", &(self.key.size() * 8))
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Reads a key file's bytes: PEM (told by its `-----BEGIN` line) or DER.
    pub fn parse(bytes: &[u8], passphrase: Option<&Passphrase>) -> Result<PrivateKey, Error> {
        match std::str::from_utf8(bytes) {
            Ok(text) if text.contains("-----BEGIN ") => Self::from_pem(text, passphrase),
            _ => Self::from_der(bytes, passphrase),
        }
    }

    /// Reads a PEM key: `RSA PRIVATE KEY` (PKCS#1; encrypted with `Proc-Type: 4,ENCRYPTED`
    /// and `DEK-Info`, OpenSSL's legacy form), `PRIVATE KEY` (PKCS#8) or `ENCRYPTED PRIVATE
    /// KEY` (PKCS#8, PBES2).
    pub fn from_pem(text: &str, passphrase: Option<&Passphrase>) -> Result<PrivateKey, Error> {
        let begin = text
            .find("-----BEGIN ")
            .ok_or(Error::UnreadableKey("no PEM BEGIN line"))?;
        let text = &text[begin..];
        let label = text["-----BEGIN ".len()..]
            .split("-----")
            .next()
            .unwrap_or_default();
        let key =
            match label {
                "RSA PRIVATE KEY" if text.contains("Proc-Type: 4,ENCRYPTED") => {
                    let passphrase = passphrase.ok_or(Error::PassphraseNeeded)?;
                    let der = legacy::decrypt(text, passphrase)?;
                    RsaPrivateKey::from_pkcs1_der(&der).map_err(|_| Error::WrongPassphrase)?
                }
                "RSA PRIVATE KEY" => RsaPrivateKey::from_pkcs1_pem(text)
                    .map_err(|_| Error::UnreadableKey("a PKCS#1 PEM that does not decode"))?,
                "PRIVATE KEY" => RsaPrivateKey::from_pkcs8_pem(text)
                    .map_err(|_| Error::UnreadableKey("a PKCS#8 PEM that is not an RSA key"))?,
                "ENCRYPTED PRIVATE KEY" => {
                    let passphrase = passphrase.ok_or(Error::PassphraseNeeded)?;
                    RsaPrivateKey::from_pkcs8_encrypted_pem(text, passphrase.bytes())
                        .map_err(|_| Error::WrongPassphrase)?
                }
                _ => return Err(Error::UnreadableKey(
                    "a PEM label other than RSA PRIVATE KEY, PRIVATE KEY or ENCRYPTED PRIVATE KEY",
                )),
            };
        Ok(PrivateKey { key })
    }

    /// Reads a DER key: PKCS#8, PKCS#1, or PKCS#8 encrypted (PBES2).
    pub fn from_der(der: &[u8], passphrase: Option<&Passphrase>) -> Result<PrivateKey, Error> {
        if let Ok(key) = RsaPrivateKey::from_pkcs8_der(der) {
            return Ok(PrivateKey { key });
        }
        if let Ok(key) = RsaPrivateKey::from_pkcs1_der(der) {
            return Ok(PrivateKey { key });
        }
        if pkcs8::EncryptedPrivateKeyInfo::try_from(der).is_ok() {
            let passphrase = passphrase.ok_or(Error::PassphraseNeeded)?;
            let key = RsaPrivateKey::from_pkcs8_encrypted_der(der, passphrase.bytes())
                .map_err(|_| Error::WrongPassphrase)?;
            return Ok(PrivateKey { key });
        }
        Err(Error::UnreadableKey(
            "DER that is neither PKCS#8 nor PKCS#1",
        ))
    }

    /// The public half: what giosg's server encrypts each chat's key with.
    pub fn public(&self) -> PublicKey {
        PublicKey {
            key: self.key.to_public_key(),
        }
    }

    /// Opens a chat's symmetric key (RSA-OAEP, SHA-1, MGF1-SHA-1, empty label); `None` when
    /// it was not encrypted for this key.
    pub(crate) fn open(&self, ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        self.key
            .decrypt(Oaep::new::<sha1::Sha1>(), ciphertext)
            .ok()
            .map(Zeroizing::new)
    }

    #[cfg(test)]
    pub(crate) fn open_sha256(&self, ciphertext: &[u8]) -> bool {
        self.key
            .decrypt(Oaep::new::<rsa::sha2::Sha256>(), ciphertext)
            .is_ok()
    }
}

/// An RSA public key: giosg's server encrypts each chat's symmetric key with it (the mock does
/// too).
#[derive(Clone, Debug)]
pub struct PublicKey {
    key: RsaPublicKey,
}

impl PublicKey {
    pub(crate) fn encrypt(&self, plain: &[u8]) -> Result<Vec<u8>, Error> {
        self.key
            .encrypt(&mut rand_core::OsRng, Oaep::new::<sha1::Sha1>(), plain)
            .map_err(|_| Error::Seal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn giosg_vector_a_needs_oaep_with_sha1() {
        let pem = include_str!("../../../fixtures/giosg_crypter/private.pem");
        let key = PrivateKey::from_pem(pem, None).unwrap();
        let wrapped = crate::standard_base64(
            "MyBY7CGGixwKYM88/CBvGT2cN7v3yzldk+YkYjwB92Nyk41cQyFf0eGFZ9DmVXQ0NbACan4v71+zulothiDQVQ8I94xTgJmRK16Vu0FhFYfW15grYmVMnnPG9pp0PUFIMd3VWZHKMkkBVmX9l02IrzneMunalUjKQTCO5HZaJTDIbAIsRiFKAw0bQZyvv5X5WDY1s888WRYXQikJRwqjKYxKqncd6F9dy+6a0pzNe+ZUNOKST6dc4phWCoxxGXgWcZNG1eTagzM9WScLvJPwkYawQi385oENPzjLU3P477pVjFDmHd3KZvEHjJ6IFUgm6FNxee6XsxiYXITSPVxJ0g==",
        )
        .unwrap();
        let json = key.open(&wrapped).expect("OAEP with SHA-1 opens it");
        assert_eq!(
            std::str::from_utf8(&json).unwrap(),
            r#"{"hmacKey": {"hmacKeyString": "Wf7oZEWQTpspt0g1ZISN0SNFS21w5DdVOp579RqBg20", "size": 256}, "aesKeyString": "dIz4N3wn4V3RfRjyteWRS5_fkXzuo8fFP1ZLMgck_wg", "mode": "CBC", "size": 256}"#
        );
        assert!(!key.open_sha256(&wrapped), "OAEP with SHA-256 fails");
    }
}

//! A chat's symmetric key (keyczar's AES key JSON) and its messages: 5-byte header ‖ 16-byte IV
//! ‖ AES-CBC ciphertext ‖ HMAC-SHA1 tag over all the preceding bytes.

use crate::{standard_base64, web_safe_base64, Error, PublicKey};
use cbc::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use rand_core::RngCore;
use serde::Deserialize;
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

const HEADER: usize = 5;
const IV: usize = 16;
const BLOCK: usize = 16;
const TAG: usize = 20;
/// The header giosg's tools write (`b'00000'`); it is not checked when reading.
const WRITTEN_HEADER: &[u8; HEADER] = b"00000";

type HmacSha1 = Hmac<sha1::Sha1>;

/// A chat's AES and HMAC keys, as its `encrypted_symmetric_key` holds them once opened.
/// Zeroized when dropped; its `Debug` shows nothing of them.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ChatKey {
    aes: Vec<u8>,
    hmac: Vec<u8>,
}

impl fmt::Debug for ChatKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChatKey(***)")
    }
}

/// keyczar's AES key JSON.
#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
struct KeyJson {
    #[serde(rename = "aesKeyString")]
    aes: String,
    #[serde(rename = "hmacKey")]
    hmac: HmacJson,
    #[serde(default)]
    mode: Option<String>,
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
struct HmacJson {
    #[serde(rename = "hmacKeyString")]
    key: String,
}

impl ChatKey {
    /// Reads keyczar's AES key JSON (`{"hmacKey": {"hmacKeyString": …}, "aesKeyString": …,
    /// "mode": "CBC", …}`, keys in web-safe base64 without padding).
    pub fn from_json(json: &[u8]) -> Result<ChatKey, Error> {
        let parsed: KeyJson = serde_json::from_slice(json).map_err(|_| Error::KeyJson)?;
        if let Some(mode) = parsed.mode.as_deref().filter(|m| *m != "CBC") {
            return Err(Error::Mode(mode.chars().take(20).collect()));
        }
        let aes = web_safe_base64(&parsed.aes).ok_or(Error::KeyJson)?;
        let hmac = web_safe_base64(&parsed.hmac.key).ok_or(Error::KeyJson)?;
        if ![16, 24, 32].contains(&aes.len()) || hmac.is_empty() {
            return Err(Error::KeyJson);
        }
        Ok(ChatKey {
            aes: aes.to_vec(),
            hmac: hmac.to_vec(),
        })
    }

    /// Decrypts one message's `encrypted_message` (standard base64, possibly wrapped): the tag
    /// is checked (in constant time) before anything is decrypted, then the padding, then the
    /// text's UTF-8.
    pub fn decrypt(&self, encrypted_message: &str) -> Result<String, Error> {
        let blob = standard_base64(encrypted_message).ok_or(Error::MessageBase64)?;
        if blob.len() < HEADER + IV + BLOCK + TAG {
            return Err(Error::TooShort(blob.len()));
        }
        let (signed, tag) = blob.split_at(blob.len() - TAG);
        let mut mac = HmacSha1::new_from_slice(&self.hmac).map_err(|_| Error::KeyJson)?;
        mac.update(signed);
        mac.verify_slice(tag).map_err(|_| Error::BadMac)?;
        let iv = &signed[HEADER..HEADER + IV];
        let mut text = Zeroizing::new(signed[HEADER + IV..].to_vec());
        if text.len() % BLOCK != 0 {
            return Err(Error::NotWholeBlocks);
        }
        let len = match self.aes.len() {
            16 => decrypt_with::<aes::Aes128>(&self.aes, iv, &mut text),
            24 => decrypt_with::<aes::Aes192>(&self.aes, iv, &mut text),
            _ => decrypt_with::<aes::Aes256>(&self.aes, iv, &mut text),
        }?;
        text.truncate(len);
        match std::str::from_utf8(&text) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(Error::NotUtf8), // `text` is zeroized as it drops
        }
    }

    /// A fresh random key, as giosg's server makes one for each chat (for tests and the mock).
    pub fn generate() -> ChatKey {
        let mut aes = vec![0; 32];
        let mut hmac = vec![0; 32];
        rand_core::OsRng.fill_bytes(&mut aes);
        rand_core::OsRng.fill_bytes(&mut hmac);
        ChatKey { aes, hmac }
    }

    /// The key as keyczar's AES key JSON, as giosg's server writes it.
    pub fn to_json(&self) -> Zeroizing<String> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        Zeroizing::new(format!(
            r#"{{"hmacKey": {{"hmacKeyString": "{}", "size": {}}}, "aesKeyString": "{}", "mode": "CBC", "size": {}}}"#,
            *Zeroizing::new(b64.encode(&self.hmac)),
            self.hmac.len() * 8,
            *Zeroizing::new(b64.encode(&self.aes)),
            self.aes.len() * 8,
        ))
    }

    /// The key encrypted for `public` (RSA-OAEP with SHA-1), in base64: a chat's
    /// `encrypted_symmetric_key`, as giosg's server writes it.
    pub fn wrap(&self, public: &PublicKey) -> Result<String, Error> {
        use base64::Engine;
        let json = self.to_json();
        Ok(base64::engine::general_purpose::STANDARD.encode(public.encrypt(json.as_bytes())?))
    }

    /// `text` sealed as giosg's server seals a message (header `00000`, a random IV, AES-CBC
    /// with PKCS#7 padding, HMAC-SHA1 over all of it), in base64: an `encrypted_message`.
    pub fn seal(&self, text: &str) -> String {
        use base64::Engine;
        let mut iv = [0u8; IV];
        rand_core::OsRng.fill_bytes(&mut iv);
        let mut blob = Vec::with_capacity(HEADER + IV + text.len() + BLOCK + TAG);
        blob.extend_from_slice(WRITTEN_HEADER);
        blob.extend_from_slice(&iv);
        let ciphertext = match self.aes.len() {
            16 => encrypt_with::<aes::Aes128>(&self.aes, &iv, text.as_bytes()),
            24 => encrypt_with::<aes::Aes192>(&self.aes, &iv, text.as_bytes()),
            _ => encrypt_with::<aes::Aes256>(&self.aes, &iv, text.as_bytes()),
        };
        blob.extend_from_slice(&ciphertext);
        let mut mac = HmacSha1::new_from_slice(&self.hmac).expect("HMAC takes a key of any size");
        mac.update(&blob);
        blob.extend_from_slice(&mac.finalize().into_bytes());
        base64::engine::general_purpose::STANDARD.encode(blob)
    }
}

fn decrypt_with<C>(key: &[u8], iv: &[u8], buf: &mut [u8]) -> Result<usize, Error>
where
    C: cbc::cipher::BlockDecrypt + cbc::cipher::BlockCipher + cbc::cipher::KeyInit,
{
    cbc::Decryptor::<C>::new_from_slices(key, iv)
        .map_err(|_| Error::KeyJson)?
        .decrypt_padded_mut::<Pkcs7>(buf)
        .map(|plain| plain.len())
        .map_err(|_| Error::BadPadding)
}

fn encrypt_with<C>(key: &[u8], iv: &[u8], plain: &[u8]) -> Vec<u8>
where
    C: cbc::cipher::BlockEncrypt + cbc::cipher::BlockCipher + cbc::cipher::KeyInit,
{
    cbc::Encryptor::<C>::new_from_slices(key, iv)
        .expect("key and IV of the cipher's sizes")
        .encrypt_padded_vec_mut::<Pkcs7>(plain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cbc::cipher::block_padding::{NoPadding, Pkcs7};

    /// `data` encrypted as it is (no padding added) and tagged: a blob whose tag is right,
    /// whatever its plaintext.
    fn tagged(key: &ChatKey, data: &[u8], pad: bool) -> String {
        use base64::Engine;
        let iv = [7u8; IV];
        let enc = cbc::Encryptor::<aes::Aes256>::new_from_slices(&key.aes, &iv).unwrap();
        let ciphertext = if pad {
            enc.encrypt_padded_vec_mut::<Pkcs7>(data)
        } else {
            enc.encrypt_padded_vec_mut::<NoPadding>(data)
        };
        let mut blob = WRITTEN_HEADER.to_vec();
        blob.extend_from_slice(&iv);
        blob.extend_from_slice(&ciphertext);
        let mut mac = HmacSha1::new_from_slice(&key.hmac).unwrap();
        mac.update(&blob);
        blob.extend_from_slice(&mac.finalize().into_bytes());
        base64::engine::general_purpose::STANDARD.encode(blob)
    }

    #[test]
    fn bad_padding_under_a_good_tag_is_refused() {
        let key = ChatKey::generate();
        let mut block = [b'a'; 16];
        for last in [0u8, 17, 2] {
            block[15] = last;
            // 2: the byte before it is not 2.
            assert_eq!(
                key.decrypt(&tagged(&key, &block, false)),
                Err(Error::BadPadding)
            );
        }
        block[14] = 2;
        assert_eq!(
            key.decrypt(&tagged(&key, &block, false)).unwrap(),
            "a".repeat(14)
        );
    }

    #[test]
    fn a_plaintext_that_is_not_utf8_is_refused() {
        let key = ChatKey::generate();
        assert_eq!(
            key.decrypt(&tagged(&key, &[0xff, 0xfe, b'x'], true)),
            Err(Error::NotUtf8)
        );
    }

    #[test]
    fn ciphertext_not_in_whole_blocks_is_refused() {
        use base64::Engine;
        let key = ChatKey::generate();
        let mut blob = base64::engine::general_purpose::STANDARD
            .decode(key.seal("0123456789abcdef0123"))
            .unwrap();
        // Three bytes more before the tag, and a tag that covers them.
        let len = blob.len();
        blob.splice(len - TAG..len - TAG, [1, 2, 3]);
        blob.truncate(len + 3 - TAG);
        let mut mac = HmacSha1::new_from_slice(&key.hmac).unwrap();
        mac.update(&blob);
        blob.extend_from_slice(&mac.finalize().into_bytes());
        let text = base64::engine::general_purpose::STANDARD.encode(blob);
        assert_eq!(key.decrypt(&text), Err(Error::NotWholeBlocks));
    }
}

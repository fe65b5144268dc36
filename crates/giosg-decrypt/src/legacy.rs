//! OpenSSL's legacy encrypted PEM (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: CIPHER,IV`): the
//! key derived from the passphrase by EVP_BytesToKey (MD5, one round, the IV's first 8 bytes
//! as salt), the DER encrypted in CBC mode with PKCS#7 padding.

use crate::{standard_base64, Error, Passphrase};
use cbc::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
use md5::{Digest, Md5};
use zeroize::Zeroizing;

/// The DER inside a legacy encrypted PEM.
pub(crate) fn decrypt(pem: &str, passphrase: &Passphrase) -> Result<Zeroizing<Vec<u8>>, Error> {
    let mut dek = None;
    let mut body = String::new();
    let mut in_body = false;
    for line in pem.lines().map(str::trim) {
        if line.starts_with("-----BEGIN ") {
            in_body = true;
        } else if line.starts_with("-----END ") {
            break;
        } else if let Some(value) = line.strip_prefix("DEK-Info:") {
            dek = Some(value.trim().to_owned());
        } else if in_body && !line.contains(':') {
            body.push_str(line);
        }
    }
    let dek = dek.ok_or(Error::UnreadableKey("an encrypted PEM without DEK-Info"))?;
    let (cipher, iv) = dek
        .split_once(',')
        .ok_or(Error::UnreadableKey("a DEK-Info without an IV"))?;
    let iv = hex(iv.trim()).ok_or(Error::UnreadableKey("a DEK-Info IV that is not hex"))?;
    let data =
        standard_base64(&body).ok_or(Error::UnreadableKey("a PEM body that is not base64"))?;
    let cipher = cipher.trim().to_ascii_uppercase();
    let key_len = match cipher.as_str() {
        "DES-EDE3-CBC" => 24,
        "AES-128-CBC" => 16,
        "AES-192-CBC" => 24,
        "AES-256-CBC" => 32,
        _ => return Err(Error::UnsupportedKeyCipher(cipher)),
    };
    let iv_len = if cipher == "DES-EDE3-CBC" { 8 } else { 16 };
    if iv.len() != iv_len {
        return Err(Error::UnreadableKey("a DEK-Info IV of the wrong length"));
    }
    let key = bytes_to_key(passphrase.bytes(), &iv[..8], key_len);
    let mut buf = Zeroizing::new(data.to_vec());
    let plain_len = match cipher.as_str() {
        "DES-EDE3-CBC" => cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
            .map_err(|_| Error::WrongPassphrase)?
            .decrypt_padded_mut::<Pkcs7>(&mut buf)
            .map(|p| p.len()),
        "AES-128-CBC" => cbc::Decryptor::<aes::Aes128>::new_from_slices(&key, &iv)
            .map_err(|_| Error::WrongPassphrase)?
            .decrypt_padded_mut::<Pkcs7>(&mut buf)
            .map(|p| p.len()),
        "AES-192-CBC" => cbc::Decryptor::<aes::Aes192>::new_from_slices(&key, &iv)
            .map_err(|_| Error::WrongPassphrase)?
            .decrypt_padded_mut::<Pkcs7>(&mut buf)
            .map(|p| p.len()),
        _ => cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, &iv)
            .map_err(|_| Error::WrongPassphrase)?
            .decrypt_padded_mut::<Pkcs7>(&mut buf)
            .map(|p| p.len()),
    }
    .map_err(|_| Error::WrongPassphrase)?;
    buf.truncate(plain_len);
    Ok(buf)
}

/// OpenSSL's EVP_BytesToKey with MD5 and one round: `D_i = MD5(D_{i-1} || passphrase ||
/// salt)`, concatenated to `len` bytes.
fn bytes_to_key(passphrase: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(Vec::with_capacity(len + 16));
    let mut last: Option<Zeroizing<[u8; 16]>> = None;
    while key.len() < len {
        let mut md5 = Md5::new();
        if let Some(d) = &last {
            md5.update(&d[..]);
        }
        md5.update(passphrase);
        md5.update(salt);
        let d = Zeroizing::new(<[u8; 16]>::from(md5.finalize()));
        key.extend_from_slice(&d[..]);
        last = Some(d);
    }
    key.truncate(len);
    key
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

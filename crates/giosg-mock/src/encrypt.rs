//! Encrypted rooms, as giosg serves them once its cache of a chat's key has expired: each chat
//! gets a fresh AES key, wrapped with the organisation's public key
//! (`encrypted_symmetric_key`, `is_encrypted`), and each message with text is sealed into
//! `encrypted_message`, its `message` null (giosg-decrypt's scheme, the header `00000` as
//! giosg's tools write it). Logs without text (joins, leaves) carry nothing to decrypt.

use giosg_decrypt::{ChatKey, PublicKey};
use giosg_model::{Chat, Uuid};

/// The rooms encrypted for `share` (0 to 1) of the mock's rooms, the first ones in the order of
/// [`crate::rooms`]: 0.5 encrypts two of the four.
pub fn encrypted_rooms(share: f64) -> Vec<Uuid> {
    let n = crate::data::ROOMS.len();
    let count = (share.clamp(0.0, 1.0) * n as f64).ceil() as usize;
    crate::data::ROOMS[..count.min(n)]
        .iter()
        .map(|r| Uuid::from_u128(*r))
        .collect()
}

/// Encrypts, for `key`, the chats of `chats` in the rooms [`encrypted_rooms`]`(share)`
/// names; the others are left as they are. Returns how many were encrypted.
pub fn encrypt(chats: &mut [Chat], share: f64, key: &PublicKey) -> usize {
    let rooms = encrypted_rooms(share);
    let mut n = 0;
    for chat in chats
        .iter_mut()
        .filter(|c| c.room_id.is_some_and(|r| rooms.contains(&r)))
    {
        let chat_key = ChatKey::generate();
        let Ok(wrapped) = chat_key.wrap(key) else {
            continue;
        };
        chat.extra.insert("is_encrypted".into(), true.into());
        chat.extra
            .insert("encrypted_symmetric_key".into(), wrapped.into());
        for log in &mut chat.logs {
            let sealed = log
                .message
                .take()
                .map_or(serde_json::Value::Null, |text| chat_key.seal(&text).into());
            log.extra.insert("encrypted_message".into(), sealed);
        }
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use giosg_decrypt::{Decrypted, Keyring, PrivateKey};

    #[test]
    fn encrypted_rooms_open_with_the_test_key_to_the_generated_text() {
        let key = PrivateKey::from_pem(giosg_decrypt::test_key::PKCS1_PEM, None).unwrap();
        let plain = crate::generate(5, 60);
        let mut served = plain.clone();
        let n = encrypt(&mut served, 0.5, &key.public());
        let rooms = encrypted_rooms(0.5);
        assert_eq!(rooms.len(), 2);
        let in_rooms = plain
            .iter()
            .filter(|c| c.room_id.is_some_and(|r| rooms.contains(&r)))
            .count();
        assert_eq!(n, in_rooms);
        assert!(n > 0 && n < 60);
        let keyring = Keyring::new(vec![key]);
        for (chat, want) in served.iter_mut().zip(&plain) {
            let encrypted = rooms.contains(&chat.room_id.unwrap());
            let texts = want.logs.iter().filter(|l| l.message.is_some()).count();
            if encrypted {
                assert!(chat.logs.iter().all(|l| l.message.is_none()));
                assert_eq!(
                    chat.logs
                        .iter()
                        .filter(|l| l.encrypted_message().is_some())
                        .count(),
                    texts
                );
            }
            let done = keyring.decrypt_chat(chat).unwrap();
            let want_done = if encrypted && texts > 0 {
                Decrypted::Messages(texts)
            } else {
                Decrypted::Nothing
            };
            assert_eq!(done, want_done);
            for (log, want) in chat.logs.iter().zip(&want.logs) {
                assert_eq!(log.message, want.message);
            }
        }
    }
}

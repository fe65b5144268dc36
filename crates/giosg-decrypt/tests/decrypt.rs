//! Decryption against giosg's own published vector (giosg/giosg_crypter's test fixtures,
//! Apache-2.0, in `fixtures/giosg_crypter/`), the test key in every form, round trips of what
//! the server (and the mock) seal, and every refusal.

use giosg_decrypt::{ChatKey, Decrypted, Error, Keyring, Passphrase, PrivateKey};
use giosg_model::{Chat, ChatLog};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(path)
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn vector_a_key() -> PrivateKey {
    PrivateKey::parse(&read("giosg_crypter/private.pem"), None).unwrap()
}

fn test_key() -> PrivateKey {
    PrivateKey::from_pem(giosg_decrypt::test_key::PKCS1_PEM, None).unwrap()
}

/// Vector A's chat with its two messages as logs (only what a log of the listing carries:
/// `message` null, `encrypted_message`).
fn vector_a_chat() -> Chat {
    let mut chat: Chat = serde_json::from_slice(&read("giosg_crypter/chat.json")).unwrap();
    let messages: Vec<serde_json::Value> =
        serde_json::from_slice(&read("giosg_crypter/messages.json")).unwrap();
    chat.logs = messages
        .iter()
        .map(|m| {
            let mut log = ChatLog::new();
            log.extra
                .insert("encrypted_message".into(), m["encrypted_message"].clone());
            log
        })
        .collect();
    chat
}

#[test]
fn giosg_vector_a_decrypts_to_the_line_is_open() {
    let mut chat = vector_a_chat();
    assert!(chat.is_encrypted());
    let keyring = Keyring::new(vec![vector_a_key()]);
    assert_eq!(keyring.decrypt_chat(&mut chat), Ok(Decrypted::Messages(2)));
    for log in &chat.logs {
        assert_eq!(log.message.as_deref(), Some("The Line is Open!"));
        assert!(
            log.encrypted_message().is_some(),
            "kept as the server sent it"
        );
    }
    // Done again, the same.
    let again = chat.clone();
    keyring.decrypt_chat(&mut chat).unwrap();
    assert_eq!(chat, again);
}

#[test]
fn a_chat_for_another_key_is_refused_and_left_as_it_came() {
    let mut chat = vector_a_chat();
    let before = chat.clone();
    let keyring = Keyring::new(vec![test_key()]);
    assert_eq!(
        keyring.decrypt_chat(&mut chat),
        Err(Error::NoKeyOpens { keys: 1 })
    );
    assert_eq!(chat, before);
}

#[test]
fn several_keys_open_the_chats_each_was_sealed_for() {
    let (a, ours) = (vector_a_key(), test_key());
    let sealed = ChatKey::generate();
    let mut mine = Chat::new(giosg_model::Uuid::from_u128(1));
    mine.extra.insert(
        "encrypted_symmetric_key".into(),
        sealed.wrap(&ours.public()).unwrap().into(),
    );
    let mut log = ChatLog::new();
    log.extra
        .insert("encrypted_message".into(), sealed.seal("Rotated").into());
    mine.logs = vec![log, ChatLog::new()];
    let keyring = Keyring::new(vec![a, ours]);
    for _ in 0..2 {
        let mut chat = vector_a_chat();
        keyring.decrypt_chat(&mut chat).unwrap();
        assert_eq!(chat.logs[0].message.as_deref(), Some("The Line is Open!"));
        let mut chat = mine.clone();
        assert_eq!(keyring.decrypt_chat(&mut chat), Ok(Decrypted::Messages(1)));
        assert_eq!(chat.logs[0].message.as_deref(), Some("Rotated"));
        assert_eq!(
            chat.logs[1].message, None,
            "a join log has nothing to decrypt"
        );
    }
}

#[test]
fn nothing_to_decrypt_is_missing_null_or_empty() {
    let keyring = Keyring::new(vec![test_key()]);
    let mut chat = Chat::new(giosg_model::Uuid::from_u128(2));
    for value in [serde_json::Value::Null, "".into()] {
        let mut log = ChatLog::new();
        log.extra.insert("encrypted_message".into(), value.clone());
        chat.logs = vec![log, ChatLog::new()];
        chat.extra.insert("encrypted_symmetric_key".into(), value);
        assert!(chat.encrypted_symmetric_key().is_none());
        assert!(!chat.is_encrypted());
        assert_eq!(keyring.decrypt_chat(&mut chat), Ok(Decrypted::Nothing));
    }
    // Messages without a key cannot be read.
    let mut log = ChatLog::new();
    log.extra.insert(
        "encrypted_message".into(),
        ChatKey::generate().seal("x").into(),
    );
    chat.logs = vec![log];
    assert_eq!(keyring.decrypt_chat(&mut chat), Err(Error::MissingChatKey));
}

#[test]
fn altered_messages_are_refused() {
    let chat = vector_a_chat();
    let keyring = Keyring::new(vec![vector_a_key()]);
    let key = keyring
        .open(chat.encrypted_symmetric_key().unwrap())
        .unwrap();
    let blob = base64_decode(chat.logs[0].encrypted_message().unwrap());
    assert_eq!(blob.len(), 73);
    assert_eq!(
        &blob[..5],
        &[0x00, 0x9c, 0x4d, 0x92, 0x9d],
        "giosg's header"
    );
    let flipped = |i: usize| {
        let mut b = blob.clone();
        b[i] ^= 1;
        base64_encode(&b)
    };
    // The tag, the ciphertext, the IV and the header are all under the tag.
    for i in [72, 40, 10, 0] {
        assert_eq!(key.decrypt(&flipped(i)), Err(Error::BadMac), "byte {i}");
    }
    assert_eq!(
        key.decrypt(&base64_encode(&blob[..56])),
        Err(Error::TooShort(56))
    );
    assert_eq!(key.decrypt("not base64!"), Err(Error::MessageBase64));
    // Wrapped base64, as some payloads carry it.
    let text = base64_encode(&blob);
    let wrapped = format!("{}\n{}\n", &text[..40], &text[40..]);
    assert_eq!(key.decrypt(&wrapped).unwrap(), "The Line is Open!");
    assert_eq!(keyring.open("%%%").unwrap_err(), Error::SymmetricKeyBase64);
}

#[test]
fn the_chat_key_must_be_keyczar_cbc() {
    let json = |mode: &str| {
        format!(
            r#"{{"hmacKey": {{"hmacKeyString": "Wf7oZEWQTpspt0g1ZISN0SNFS21w5DdVOp579RqBg20", "size": 256}}, "aesKeyString": "dIz4N3wn4V3RfRjyteWRS5_fkXzuo8fFP1ZLMgck_wg", "mode": "{mode}", "size": 256}}"#
        )
    };
    let key = ChatKey::from_json(json("CBC").as_bytes()).unwrap();
    // Vector A's key JSON, given directly (giosg_crypter's symmetric-only test).
    let chat = vector_a_chat();
    assert_eq!(
        key.decrypt(chat.logs[0].encrypted_message().unwrap())
            .unwrap(),
        "The Line is Open!"
    );
    assert_eq!(
        ChatKey::from_json(json("CTR").as_bytes()).unwrap_err(),
        Error::Mode("CTR".into())
    );
    for bad in [
        &b"{}"[..],
        b"not json",
        br#"{"hmacKey": {"hmacKeyString": "!"}, "aesKeyString": "AA"}"#,
    ] {
        assert_eq!(ChatKey::from_json(bad).unwrap_err(), Error::KeyJson);
    }
}

#[test]
fn every_form_of_the_test_key_reads_with_its_passphrase() {
    let ours = test_key();
    let passphrase =
        Passphrase::from_file_text(String::from_utf8(read("keys/passphrase.txt")).unwrap());
    let wrong = Passphrase::new("not the passphrase");
    let sealed = ChatKey::generate();
    let wrapped = sealed.wrap(&ours.public()).unwrap();
    let blob = sealed.seal("same key");
    let mut forms = 0;
    for entry in std::fs::read_dir(fixture("keys")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".pem") || name.ends_with(".der")) {
            continue;
        }
        forms += 1;
        let bytes = std::fs::read(&path).unwrap();
        let encrypted = name.contains("aes") || name.contains("des3");
        let key =
            PrivateKey::parse(&bytes, Some(&passphrase)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let opened = Keyring::new(vec![key]).open(&wrapped).unwrap();
        assert_eq!(opened.decrypt(&blob).unwrap(), "same key", "{name}");
        if encrypted {
            assert_eq!(
                PrivateKey::parse(&bytes, None).unwrap_err(),
                Error::PassphraseNeeded,
                "{name}"
            );
            assert_eq!(
                PrivateKey::parse(&bytes, Some(&wrong)).unwrap_err(),
                Error::WrongPassphrase,
                "{name}"
            );
        } else {
            // A passphrase given for a plain key is not needed, and does no harm.
            PrivateKey::parse(&bytes, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    assert_eq!(forms, 9, "every form xtask keys writes");
    assert!(matches!(
        PrivateKey::parse(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            None
        ),
        Err(Error::UnreadableKey(_))
    ));
    assert!(matches!(
        PrivateKey::parse(b"\x30\x03\x02\x01\x00", None),
        Err(Error::UnreadableKey(_))
    ));
}

#[test]
fn no_secret_shows_in_debug_or_errors() {
    let key = vector_a_key();
    let shown = format!("{key:?}");
    assert_eq!(shown, "PrivateKey { bits: 2048, .. }");
    let chat = vector_a_chat();
    let keyring = Keyring::new(vec![key]);
    let chat_key = keyring
        .open(chat.encrypted_symmetric_key().unwrap())
        .unwrap();
    assert_eq!(format!("{chat_key:?}"), "ChatKey(***)");
    assert_eq!(format!("{keyring:?}"), "Keyring { keys: 1, .. }");
    let p = Passphrase::new("hunter2");
    assert!(!format!("{p:?}").contains("hunter2"));
    let err = PrivateKey::parse(&read("keys/legacy-des3.pem"), Some(&p)).unwrap_err();
    assert!(!format!("{err} {err:?}").contains("hunter2"));
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// What the server (and the mock) seal, any text (empty, many blocks, any script), is
    /// what decrypting gives back.
    #[test]
    fn sealed_text_comes_back(text in "\\PC{0,80}|[a-z]{100,300}") {
        let key = ChatKey::generate();
        let opened = ChatKey::from_json(key.to_json().as_bytes()).unwrap();
        prop_assert_eq!(opened.decrypt(&key.seal(&text)).unwrap(), text);
    }
}

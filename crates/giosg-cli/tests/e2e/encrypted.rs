//! Encrypted chats end to end: list, export and sync of an encrypted mock with the right key
//! (the text equals the mock's), a wrong key (every chat written, exit 7, the chats named),
//! two keys (rotation), `giosg decrypt` of an export and of a copy made before, and no key or
//! passphrase in any output at trace.

use crate::common::{chats, giosg, jsonl, run, temp_dir};
use giosg_async::Chat;
use giosg_decrypt::PrivateKey;
use giosg_mock::MockServer;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(path)
}

/// The test key's file (PKCS#1 PEM).
fn test_key() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../giosg-decrypt/src/test_key.pem")
}

/// giosg's vector A key: another key than the mock's.
fn other_key() -> PathBuf {
    fixture("giosg_crypter/private.pem")
}

/// Each chat's messages by id, as the generator wrote them (the plaintext).
fn texts(chats: &[Chat]) -> BTreeMap<String, Vec<Option<String>>> {
    chats
        .iter()
        .map(|c| {
            (
                c.id.to_string(),
                c.logs.iter().map(|l| l.message.clone()).collect(),
            )
        })
        .collect()
}

const SEED: u64 = 81;
const N: usize = 60;

fn encrypted_mock() -> MockServer {
    MockServer::builder()
        .generated(SEED, N)
        .encrypted_share(0.5)
        .start()
        .unwrap()
}

fn encrypted_count(mock: &MockServer) -> usize {
    mock.chats()
        .iter()
        .filter(|c| c.logs.iter().any(|l| l.encrypted_message().is_some()))
        .count()
}

#[test]
fn with_the_key_list_export_and_sync_give_the_text() {
    let mock = encrypted_mock();
    let plain = texts(&giosg_mock::generate(SEED, N));
    let key = test_key();
    let key = key.to_str().unwrap();
    assert!(encrypted_count(&mock) > 5);

    let listed = run(&mut chats(&mock, "list", &["--private-key", key]));
    assert_eq!(texts(&jsonl(listed.ok())), plain);

    let dir = temp_dir("encrypted");
    let out = dir.join("chats.jsonl");
    let mut export = chats(&mock, "export", &["--private-key", key]);
    export.arg("--out").arg(&out);
    let exported = run(&mut export);
    exported.ok();
    let written = jsonl(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(texts(&written), plain);
    // The archive stays faithful: what the server sent is kept beside the text.
    let sealed = written
        .iter()
        .flat_map(|c| &c.logs)
        .filter(|l| l.encrypted_message().is_some())
        .count();
    assert!(sealed > 0);

    let db = dir.join("chats.db");
    let mut sync = chats(&mock, "sync", &["--private-key", key]);
    sync.arg("--db").arg(&db);
    let synced = run(&mut sync);
    synced.ok();
    assert!(synced.stderr.contains("decrypted"), "{}", synced.stderr);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (decrypted, still): (i64, i64) = conn
        .query_row(
            "SELECT count(*) FILTER (WHERE decrypted = 1), count(*) FILTER (WHERE decrypted = 0)
             FROM chat_logs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((decrypted as usize, still), (sealed, 0));
    let stored: usize = conn
        .query_row(
            "SELECT count(*) FROM chat_logs WHERE decrypted = 1 AND message IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, sealed);
}

#[test]
fn with_a_wrong_key_every_chat_is_written_named_and_exit_7() {
    let mock = encrypted_mock();
    let n = encrypted_count(&mock);
    let key = other_key();
    let dir = temp_dir("encrypted-wrong");
    let out = dir.join("chats.jsonl");
    let mut export = chats(&mock, "export", &["--private-key", key.to_str().unwrap()]);
    export.arg("--out").arg(&out);
    let done = run(&mut export);
    assert_eq!(done.code, 7, "{}", done.stderr);
    assert!(
        done.stderr.contains(&format!(
            "copied, but {n} encrypted chats could not be decrypted"
        )),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("could not decrypt chat "),
        "{}",
        done.stderr
    );
    let written = jsonl(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(written.len(), N, "every chat is written");
    assert_eq!(written, mock.chats(), "the encrypted ones as they came");

    // Without a key: written as they came, with one warning and exit 0.
    let listed = run(&mut chats(&mock, "list", &[]));
    assert_eq!(jsonl(listed.ok()), mock.chats());
    assert!(
        listed.stderr.contains(&format!("{n} chats are encrypted")),
        "{}",
        listed.stderr
    );
    assert!(listed.stderr.contains("--private-key"), "{}", listed.stderr);
}

#[test]
fn rotated_keys_each_open_their_chats() {
    let plain = giosg_mock::generate(SEED, N);
    let old = PrivateKey::parse(&std::fs::read(other_key()).unwrap(), None).unwrap();
    let new = PrivateKey::parse(&std::fs::read(test_key()).unwrap(), None).unwrap();
    let mut served = plain.clone();
    let (before, after) = served.split_at_mut(N / 2);
    giosg_mock::encrypt(before, 1.0, &old.public());
    giosg_mock::encrypt(after, 1.0, &new.public());
    let mock = MockServer::builder().chats(served).start().unwrap();
    let (old, new) = (other_key(), test_key());
    let listed = run(&mut chats(
        &mock,
        "list",
        &[
            "--private-key",
            new.to_str().unwrap(),
            "--private-key",
            old.to_str().unwrap(),
        ],
    ));
    assert_eq!(texts(&jsonl(listed.ok())), texts(&plain));
}

#[test]
fn what_was_copied_before_is_decrypted_afterwards() {
    let mock = encrypted_mock();
    let plain = texts(&giosg_mock::generate(SEED, N));
    let dir = temp_dir("encrypted-after");
    let out = dir.join("chats.jsonl");
    let mut export = chats(&mock, "export", &[]);
    export.arg("--out").arg(&out);
    run(&mut export).ok();
    let clear = dir.join("plain.jsonl");
    // The passphrase from a file, for the legacy DES-EDE3 form of the test key.
    let key = fixture("keys/legacy-des3.pem");
    let pass = fixture("keys/passphrase.txt");
    let mut decrypt = giosg(["decrypt", "--private-key"]);
    decrypt
        .arg(&key)
        .arg("--passphrase-file")
        .arg(&pass)
        .arg("--in")
        .arg(&out)
        .arg("--out")
        .arg(&clear);
    run(&mut decrypt).ok();
    assert_eq!(
        texts(&jsonl(&std::fs::read_to_string(&clear).unwrap())),
        plain
    );
    // Not over an existing file.
    let again = run(&mut decrypt);
    assert_eq!(again.code, 2, "{}", again.stderr);

    let db = dir.join("chats.db");
    let mut sync = chats(&mock, "sync", &[]);
    sync.arg("--db").arg(&db);
    run(&mut sync).ok();
    let mut decrypt = giosg(["decrypt", "--private-key"]);
    decrypt.arg(test_key()).arg("--db").arg(&db);
    let done = run(&mut decrypt);
    done.ok();
    let store = giosg_sync::Store::open_read_only(&db).unwrap();
    let mut stored = Vec::new();
    store.for_each_live(|c| stored.push(c)).unwrap();
    assert_eq!(texts(&stored), plain);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let still: i64 = conn
        .query_row(
            "SELECT count(*) FROM chat_logs WHERE decrypted = 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(still, 0);
    // A second sync with nothing changed upstream keeps the text (the chats are unchanged
    // only if decrypted again: with the key, nothing is rewritten encrypted).
    let mut sync = chats(
        &mock,
        "sync",
        &["--private-key", test_key().to_str().unwrap()],
    );
    sync.arg("--db").arg(&db);
    run(&mut sync).ok();
    let mut stored = Vec::new();
    giosg_sync::Store::open_read_only(&db)
        .unwrap()
        .for_each_live(|c| stored.push(c))
        .unwrap();
    assert_eq!(texts(&stored), plain);
}

#[test]
fn neither_key_nor_passphrase_shows_at_trace() {
    let mock = encrypted_mock();
    let passphrase = std::fs::read_to_string(fixture("keys/passphrase.txt")).unwrap();
    let passphrase = passphrase.trim();
    let pem = std::fs::read_to_string(test_key()).unwrap();
    let key_line = pem.lines().nth(3).unwrap().to_owned();
    let mut outputs = Vec::new();
    for args in [
        vec!["--private-key", "KEY"],
        vec!["--private-key", "LEGACY"],
        vec!["--private-key", "LEGACY", "--passphrase-file", "PASS"],
    ] {
        let args: Vec<String> = args
            .iter()
            .map(|a| match *a {
                "KEY" => test_key().display().to_string(),
                "LEGACY" => fixture("keys/legacy-aes256.pem").display().to_string(),
                "PASS" => fixture("keys/passphrase.txt").display().to_string(),
                a => a.to_owned(),
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = chats(&mock, "list", &args);
        cmd.env("RUST_LOG", "trace");
        outputs.push(run(&mut cmd));
        let mut cmd = chats(&mock, "list", &args);
        cmd.env("RUST_LOG", "trace")
            .env("GIOSG_KEY_PASSPHRASE", "a wrong passphrase xyzzy");
        outputs.push(run(&mut cmd));
    }
    assert!(outputs
        .iter()
        .any(|o| o.stderr.contains("TRACE") || o.stderr.contains("DEBUG")));
    for out in &outputs {
        for secret in [passphrase, "xyzzy", key_line.as_str()] {
            assert!(!out.stderr.contains(secret), "{secret} in {}", out.stderr);
            assert!(!out.stdout.contains(secret));
        }
    }
}

//! Encrypted chats: the private keys from `--private-key` (the passphrase from
//! `--passphrase-file` or `GIOSG_KEY_PASSPHRASE`), what a run says of the chats it could not
//! decrypt, and `giosg decrypt` of an export or a copy made before.

use crate::args::{DecryptArgs, KeyArgs};
use crate::connect;
use crate::error::{CliError, Failure};
use giosg_sync::{Keyring, Passphrase, PrivateKey, Tally};
use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;

/// The environment variable a key's passphrase may come from.
pub(crate) const PASSPHRASE_ENV: &str = "GIOSG_KEY_PASSPHRASE";

/// The chats named one by one on stderr before the rest are counted.
const NAMED: usize = 10;

/// The keys `--private-key` names, `None` without any. A key that cannot be read is a usage
/// error naming its file (never its content).
pub(crate) fn keyring(args: &KeyArgs) -> Result<Option<Arc<Keyring>>, CliError> {
    if args.private_keys.is_empty() {
        return Ok(None);
    }
    let passphrase = match &args.passphrase_file {
        Some(path) => Some(Passphrase::from_file_text(
            std::fs::read_to_string(path).map_err(|e| {
                CliError::usage(format!(
                    "cannot read the passphrase file {}: {e}",
                    path.display()
                ))
            })?,
        )),
        None => std::env::var(PASSPHRASE_ENV).ok().map(Passphrase::new),
    };
    let mut keys = Vec::new();
    for path in &args.private_keys {
        let bytes = std::fs::read(path).map_err(|e| {
            CliError::usage(format!(
                "cannot read the private key {}: {e}",
                path.display()
            ))
        })?;
        let key = PrivateKey::parse(&bytes, passphrase.as_ref()).map_err(|e| {
            let hint = match e {
                giosg_decrypt::Error::PassphraseNeeded => {
                    format!(" (--passphrase-file FILE or {PASSPHRASE_ENV})")
                }
                _ => String::new(),
            };
            CliError::usage(format!("the private key {}: {e}{hint}", path.display()))
        })?;
        keys.push(key);
    }
    Ok(Some(Arc::new(Keyring::new(keys))))
}

/// Says what a run's decryption left: without keys, how many chats were encrypted and how to
/// decrypt them (a warning); with keys, each chat that could not be decrypted, and exit 7.
pub(crate) fn conclude(tally: &Tally, keys: bool) -> Result<(), CliError> {
    if !keys {
        if tally.encrypted > 0 {
            let s = if tally.encrypted == 1 { " is" } else { "s are" };
            crate::warn::say(&format!(
                "{} chat{s} encrypted: their messages are only in encrypted_message; give the organisation's private key with --private-key FILE to decrypt them (giosg decrypt does it for what was copied before)",
                tally.encrypted
            ));
        }
        return Ok(());
    }
    if tally.failed.is_empty() {
        return Ok(());
    }
    for (id, why) in tally.failed.iter().take(NAMED) {
        eprintln!("giosg: could not decrypt chat {id}: {why}");
    }
    if tally.failed.len() > NAMED {
        eprintln!("giosg: ... and {} more", tally.failed.len() - NAMED);
    }
    let n = tally.failed.len();
    let s = if n == 1 { "" } else { "s" };
    Err(CliError::new(
        Failure::Undecrypted,
        format!("copied, but {n} encrypted chat{s} could not be decrypted (written as they came)"),
    ))
}

/// Runs `giosg decrypt`.
pub(crate) async fn run(args: &DecryptArgs) -> Result<(), CliError> {
    let keyring = keyring(&args.keys)?
        .ok_or_else(|| CliError::usage("giosg decrypt needs --private-key FILE"))?;
    let tally = match (&args.input, &args.out, &args.db) {
        (Some(input), Some(out), None) => file(&keyring, input, out)?,
        (None, None, Some(db)) => {
            let db = connect::location(db, args.db_schema.as_deref())?;
            let (tally, replaced) = copy(&keyring, &db)?;
            eprintln!("giosg: decrypted {replaced} chats in {db}");
            tally
        }
        _ => {
            return Err(CliError::usage(
                "give --in FILE --out FILE (an export), or --db FILE|URL (a copy)",
            ))
        }
    };
    conclude(&tally, true)
}

/// Decrypts the chats of a JSON Lines export into a new file, a batch at a time.
fn file(
    keyring: &Keyring,
    input: &std::path::Path,
    out: &std::path::Path,
) -> Result<Tally, CliError> {
    let reader = std::fs::File::open(input).map_err(|e| CliError::io(input.display(), &e))?;
    // A new file, readable by its owner only (it holds the conversations in clear); an
    // existing file or a symbolic link is refused.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(out).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => CliError::usage(format!(
            "{} exists: give a new file for the decrypted chats",
            out.display()
        )),
        _ => CliError::io(out.display(), &e),
    })?;
    let mut writer = std::io::BufWriter::new(file);
    let mut tally = Tally::default();
    let mut batch = Vec::new();
    let mut lines = BufReader::new(reader).lines();
    let mut number = 0u64;
    loop {
        let line = lines.next();
        if let Some(line) = &line {
            number += 1;
            let line = line
                .as_ref()
                .map_err(|e| CliError::io(input.display(), e))?;
            if line.trim().is_empty() {
                continue;
            }
            let chat: giosg_async::Chat = serde_json::from_str(line).map_err(|e| {
                CliError::usage(format!(
                    "{} line {number} is not a chat: {e}",
                    input.display()
                ))
            })?;
            batch.push(chat);
        }
        if batch.len() >= 256 || (line.is_none() && !batch.is_empty()) {
            tally.add(giosg_decrypt::decrypt_all(Some(keyring), &mut batch));
            for chat in batch.drain(..) {
                serde_json::to_writer(&mut writer, &chat)
                    .map_err(|e| CliError::io(out.display(), &std::io::Error::from(e)))?;
                writer
                    .write_all(b"\n")
                    .map_err(|e| CliError::io(out.display(), &e))?;
            }
        }
        if line.is_none() {
            break;
        }
    }
    writer
        .into_inner()
        .map_err(|e| CliError::io(out.display(), e.error()))?
        .sync_all()
        .map_err(|e| CliError::io(out.display(), &e))?;
    eprintln!("giosg: wrote {tally} to {}", out.display());
    Ok(tally)
}

/// Decrypts, in place, the live chats of a copy whose messages are still encrypted.
fn copy(keyring: &Keyring, db: &giosg_sync::Location) -> Result<(Tally, u64), CliError> {
    let mut store = giosg_sync::Store::open_existing(db).map_err(|e| CliError::store(db, &e))?;
    let mut pending = Vec::new();
    store
        .for_each_live(|chat| {
            if chat.logs.iter().any(|l| l.decrypted() == Some(false)) {
                pending.push(chat);
            }
        })
        .map_err(|e| CliError::store(db, &e))?;
    let tally = giosg_decrypt::decrypt_all(Some(keyring), &mut pending);
    let failed: std::collections::HashSet<_> = tally.failed.iter().map(|(id, _)| *id).collect();
    pending.retain(|c| !failed.contains(&c.id));
    let replaced = store
        .replace(&pending)
        .map_err(|e| CliError::store(db, &e))?;
    Ok((tally, replaced))
}

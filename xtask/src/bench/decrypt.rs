//! `cargo xtask bench`, part 9: encrypted chats. In this process, decoding a 100-chat page of
//! encrypted chats and decrypting it (one RSA-2048 private-key operation per chat, then
//! AES-CBC and HMAC-SHA1 per message) against decoding it alone; then `giosg chats export`
//! of a mock whose rooms are all encrypted, with `--private-key`, against the plain export of
//! the same chats, `--concurrency 4`, interleaved.

use super::copy::{once, Dest};
use super::env::Bins;
use super::proc::{Mock, Usage};
use super::report::Report;
use super::stats::{ratios, Stat};
use super::{progress, step, Config, MOCK_TIMEOUT, SEED, TOKEN};
use giosg_model::{Chat, Page};
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

/// The encrypted export's throughput at least, in multiples of the plain export's.
const TARGET_EXPORT: f64 = 0.5;
/// Chats exported (every one encrypted: one RSA operation each).
const EXPORT_CHATS: usize = 5_000;
/// Rounds of the in-process comparison.
const PAGE_ROUNDS: usize = 7;

/// Part 9.
pub(super) fn section(
    config: &Config,
    bins: &Bins,
    tmp: &Path,
    report: &mut Report,
) -> Result<(), String> {
    step("decrypt: a 100-chat page of encrypted chats, decoded and decrypted vs decoded alone");
    let key = giosg_decrypt::PrivateKey::from_pem(giosg_decrypt::test_key::PKCS1_PEM, None)
        .map_err(|e| e.to_string())?;
    let mut chats = giosg_mock::generate(SEED, 100);
    giosg_mock::encrypt(&mut chats, 1.0, &key.public());
    let body = serde_json::to_vec(&serde_json::json!({
        "count": 100, "next": null, "previous": null, "results": chats,
    }))
    .map_err(|e| e.to_string())?;
    let keyring = giosg_decrypt::Keyring::new(vec![key]);
    let (mut decode, mut both) = (Vec::new(), Vec::new());
    for _ in 0..PAGE_ROUNDS {
        let start = Instant::now();
        let page = Page::<Chat>::from_slice(black_box(&body)).map_err(|e| e.to_string())?;
        black_box(&page);
        decode.push(start.elapsed().as_secs_f64() * 1e3);
        let start = Instant::now();
        let mut page = Page::<Chat>::from_slice(black_box(&body)).map_err(|e| e.to_string())?;
        let tally = giosg_decrypt::decrypt_all(Some(&keyring), &mut page.results);
        black_box(&page);
        both.push(start.elapsed().as_secs_f64() * 1e3);
        if tally.encrypted < 90 || tally.decrypted != tally.encrypted {
            return Err(format!(
                "decrypted {} of the {} chats with encrypted messages",
                tally.decrypted, tally.encrypted
            ));
        }
    }
    let per_chat = Stat::of(&ratios(&both, &decode, |b, d| (b - d) / 100.0));
    report.row(
        "decrypt a 100-chat page of encrypted chats vs decode it alone (in process)",
        Stat::of(&both).show(1, " ms"),
        Stat::of(&decode).show(2, " ms"),
        format!("decryption: {} per chat", per_chat.show(2, " ms")),
        "report",
        None,
    );

    step(&format!(
        "decrypt: export {EXPORT_CHATS} chats of a mock whose rooms are all encrypted, with --private-key, vs the plain export"
    ));
    let plain = Mock::start(
        &bins.mock,
        EXPORT_CHATS,
        SEED,
        TOKEN,
        None,
        None,
        MOCK_TIMEOUT,
    )?;
    let sealed = Mock::start_encrypted(&bins.mock, EXPORT_CHATS, SEED, TOKEN, MOCK_TIMEOUT)?;
    let key_file = tmp.join("bench-key.pem");
    std::fs::write(&key_file, giosg_decrypt::test_key::PKCS1_PEM).map_err(|e| e.to_string())?;
    let key_path = key_file.display().to_string();
    let key = ["--private-key", key_path.as_str()];
    let out = tmp.join("decrypt-bench.jsonl");
    let (mut plains, mut keyed) = (Vec::new(), Vec::new());
    for round in 0..config.sync_rounds {
        let usage = once(bins, tmp, &plain, &Dest::Export(&out), &[])?;
        progress(&format!("round {} plain", round + 1), &usage);
        plains.push(usage);
        let usage = once(bins, tmp, &sealed, &Dest::Export(&out), &key)?;
        progress(
            &format!("round {} encrypted, --private-key", round + 1),
            &usage,
        );
        keyed.push(usage);
    }
    let wall = |runs: &[Usage]| runs.iter().map(|u| u.wall).collect::<Vec<f64>>();
    let (pw, kw) = (wall(&plains), wall(&keyed));
    let ratio = Stat::of(&ratios(&pw, &kw, |p, k| p / k));
    report.row(
        format!(
            "export {}k encrypted chats with --private-key vs the plain export, --concurrency 4: throughput",
            EXPORT_CHATS / 1000
        ),
        Stat::of(&kw).show(2, " s"),
        Stat::of(&pw).show(2, " s"),
        format!("encrypted / plain: {}", ratio.show(2, "x")),
        format!(">= {TARGET_EXPORT}x"),
        Some(ratio.median >= TARGET_EXPORT),
    );
    report.notes.push(format!(
        "Decryption: the test key (RSA-2048, giosg-decrypt's test_key); a page of 100 generated \
         chats all encrypted as the mock encrypts them, decoded as `Page<Chat>` and then \
         decrypted with `decrypt_all` (spread over the cores), against decoding alone, {PAGE_ROUNDS} \
         rounds in this process; the cost per chat is the difference over 100. Then \
         {EXPORT_CHATS} chats exported from a mock started with `--encrypted-share 1` with \
         `--private-key` (every chat decrypted, checked by the line count), against the same \
         chats from a plain mock, {} interleaved rounds.",
        config.sync_rounds
    ));
    Ok(())
}

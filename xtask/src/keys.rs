//! `cargo xtask keys`: makes giosg-rs's test key pair once (`openssl genrsa`) and writes it in
//! every form giosg-decrypt reads into `fixtures/keys/`, each with the openssl command that
//! made it (`fixtures/keys/README.md`). The key is for tests only: it is public.
//!
//! An existing key is kept (`--new` makes another): the forms are written again from it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The passphrase of the encrypted forms (in `fixtures/keys/passphrase.txt`).
const PASSPHRASE: &str = "giosg-test-passphrase";

/// Each form: its file, and openssl's arguments after `openssl` (`KEY` is the PKCS#1 PEM,
/// `PASS` the passphrase file).
const FORMS: &[(&str, &str)] = &[
    (
        "pkcs1.der",
        "rsa -in KEY -traditional -outform DER -out OUT",
    ),
    ("pkcs8.pem", "pkcs8 -topk8 -nocrypt -in KEY -out OUT"),
    (
        "pkcs8.der",
        "pkcs8 -topk8 -nocrypt -in KEY -outform DER -out OUT",
    ),
    (
        "pkcs8-aes256.pem",
        "pkcs8 -topk8 -v2 aes-256-cbc -passout file:PASS -in KEY -out OUT",
    ),
    (
        "pkcs8-aes256.der",
        "pkcs8 -topk8 -v2 aes-256-cbc -passout file:PASS -in KEY -outform DER -out OUT",
    ),
    (
        "pkcs8-des3.pem",
        "pkcs8 -topk8 -v2 des3 -passout file:PASS -in KEY -out OUT",
    ),
    (
        "legacy-des3.pem",
        "rsa -in KEY -traditional -des3 -passout file:PASS -out OUT",
    ),
    (
        "legacy-aes128.pem",
        "rsa -in KEY -traditional -aes128 -passout file:PASS -out OUT",
    ),
    (
        "legacy-aes256.pem",
        "rsa -in KEY -traditional -aes256 -passout file:PASS -out OUT",
    ),
];

/// The key's home: giosg-decrypt's `test_key` module includes it.
const KEY: &str = "crates/giosg-decrypt/src/test_key.pem";
const GENERATE: &str = "genrsa -traditional -out KEY 2048";

/// The workspace root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_owned()
}

pub(crate) fn main(args: &[&str]) -> Result<(), String> {
    let root = workspace();
    let key = root.join(KEY);
    let dir = root.join("fixtures/keys");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let pass = dir.join("passphrase.txt");
    std::fs::write(&pass, format!("{PASSPHRASE}\n")).map_err(|e| e.to_string())?;
    if args == ["--new"] || !key.exists() {
        openssl(GENERATE, &key, &pass, &key)?;
    } else if !args.is_empty() {
        return Err("usage: cargo xtask keys [--new]".into());
    }
    let mut readme = String::from(
        "# giosg-rs's test key: for tests only, public\n\n\
         An RSA-2048 key pair made for the tests, the demos and giosg-mock's encrypted rooms. \
         **Never encrypt anything real for it.** Written by `cargo xtask keys` \
         (`xtask/src/keys.rs`), which made the key once and writes each form below from it with \
         the openssl command shown (run in the repository's root; `passphrase.txt` holds the \
         passphrase of the encrypted ones).\n\n",
    );
    readme.push_str(&format!(
        "- `{KEY}` (PKCS#1 PEM, the key itself): `openssl {}`\n",
        GENERATE.replace("KEY", KEY)
    ));
    for (file, command) in FORMS {
        let out = dir.join(file);
        openssl(command, &key, &pass, &out)?;
        readme.push_str(&format!(
            "- `fixtures/keys/{file}`: `openssl {}`\n",
            command
                .replace("KEY", KEY)
                .replace("PASS", "fixtures/keys/passphrase.txt")
                .replace("OUT", &format!("fixtures/keys/{file}"))
        ));
    }
    let path = dir.join("README.md");
    std::fs::write(&path, readme).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("xtask keys: wrote {} and {}", key.display(), dir.display());
    Ok(())
}

fn openssl(command: &str, key: &Path, pass: &Path, out: &Path) -> Result<(), String> {
    let args: Vec<String> = command
        .split(' ')
        .map(|a| match a {
            "KEY" => key.display().to_string(),
            "OUT" => out.display().to_string(),
            "file:PASS" => format!("file:{}", pass.display()),
            a => a.to_owned(),
        })
        .collect();
    let status = Command::new("openssl")
        .args(&args)
        .status()
        .map_err(|e| format!("openssl: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("openssl {} failed", args.join(" ")))
    }
}

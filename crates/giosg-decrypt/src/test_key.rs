//! giosg-rs's **test key**: an RSA-2048 key pair made for tests, demos and the mock's encrypted
//! rooms, public in this repository. **Never encrypt anything real for it.**
//!
//! Made once by `cargo xtask keys` (with `openssl genrsa`; the command and the same key in
//! every form this crate reads, with the openssl commands that make each, are in
//! `fixtures/keys/` of the repository).

/// The test private key, PKCS#1 PEM, not encrypted.
pub const PKCS1_PEM: &str = include_str!("test_key.pem");

//! Project chores, run as `cargo xtask <task>`.
//!
//! - `fixtures`: regenerate `fixtures/generated/` from the seeded generator (byte-identical on
//!   every machine); `fixtures --check` fails if the committed files are stale.
//! - `bench [--quick]`: the benchmarks against the alternatives, written to `BENCHMARKS.md`;
//!   `bench --sync [--quick]` or `bench --wire` runs one section alone and prints it.
//! - `soak [--quick]`: export through giosg-mock with 30% faults on both clients; a report in
//!   `reliability/`.
//! - `fuzz --seconds N`: run the cargo-fuzz targets in `fuzz/`.
//! - `keys [--new]`: the test key pair (openssl) in every form giosg-decrypt reads, in
//!   `fixtures/keys/`.

mod bench;
mod fixtures;
mod fuzz;
mod keys;
mod soak;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["fixtures"] => fixtures::write(),
        ["fixtures", "--check"] => fixtures::check(),
        ["soak", rest @ ..] => soak::run(rest),
        ["fuzz", rest @ ..] => fuzz::run(rest),
        ["bench", rest @ ..] => bench::main(rest),
        ["keys", rest @ ..] => keys::main(rest),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str =
    "usage: cargo xtask fixtures [--check] | bench [--quick] [--sync] | bench --wire \
     | soak [--quick] | fuzz --seconds N | keys [--new]";

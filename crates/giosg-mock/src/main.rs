//! `giosg-mock`: serves generated chats on 127.0.0.1 until killed.

use giosg_mock::{FaultPlan, MockServer};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str =
    "usage: giosg-mock [--port N] [--chats N] [--seed S] [--token T] [--latency-ms MS]

Serves N chats generated from seed S (default 250 and 1) as the giosg Chat API on
127.0.0.1:N (default: a free port), accepting `Authorization: Token T` or `Bearer T`
(default token mock-token), until killed.";

struct Args {
    port: u16,
    chats: usize,
    seed: u64,
    token: Option<String>,
    latency_ms: Option<u64>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        port: 0,
        chats: 250,
        seed: 1,
        token: None,
        latency_ms: None,
    };
    while let Some(flag) = args.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (flag, None),
        };
        if name == "-h" || name == "--help" {
            return Err(String::new());
        }
        let value = match inline.or_else(|| args.next()) {
            Some(v) => v,
            None => return Err(format!("{name} needs a value")),
        };
        let bad = |e: &dyn std::fmt::Display| format!("{name} {value:?}: {e}");
        match name.as_str() {
            "--port" => parsed.port = value.parse().map_err(|e| bad(&e))?,
            "--chats" => parsed.chats = value.parse().map_err(|e| bad(&e))?,
            "--seed" => parsed.seed = value.parse().map_err(|e| bad(&e))?,
            "--token" => parsed.token = Some(value),
            "--latency-ms" => parsed.latency_ms = Some(value.parse().map_err(|e| bad(&e))?),
            _ => return Err(format!("unknown argument {name}")),
        }
    }
    Ok(parsed)
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("giosg-mock: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut builder = MockServer::builder()
        .port(args.port)
        .generated(args.seed, args.chats);
    if let Some(token) = args.token {
        builder = builder.token(token);
    }
    if let Some(ms) = args.latency_ms {
        builder = builder.faults(FaultPlan::new().latency(Duration::from_millis(ms)));
    }
    let server = match builder.start() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("giosg-mock: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("base_url {}", server.base_url());
    println!("org      {}", server.org());
    println!("token    {}", server.token());
    println!("chats    {}", server.chats_url());
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, String> {
        parse_args(s.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn parses_flags() {
        let a = args("--port 8080 --chats=10 --seed 3 --token t --latency-ms 20").unwrap();
        assert_eq!((a.port, a.chats, a.seed), (8080, 10, 3));
        assert_eq!((a.token.as_deref(), a.latency_ms), (Some("t"), Some(20)));
        let d = args("").unwrap();
        assert_eq!(
            (d.port, d.chats, d.seed, d.token, d.latency_ms),
            (0, 250, 1, None, None)
        );
        assert!(args("--port").is_err());
        assert!(args("--port x").is_err());
        assert!(args("--what 1").is_err());
        assert_eq!(args("--help").err().as_deref(), Some(""));
    }
}

//! `giosg-mock`: serves generated chats on 127.0.0.1 until killed; with `--log-requests`, prints
//! one line per request it handled on stderr.

use giosg_mock::{FaultPlan, MockServer, RecordedRequest};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str =
    "usage: giosg-mock [--port N] [--chats N] [--seed S] [--fixture-file PATH] [--token T]
                  [--latency-ms MS] [--encrypted-share P] [--log-requests]

Serves N chats generated from seed S (default 250 and 1), or the chats of a JSON file (an
array of chats, or a page), as the giosg Chat API on
127.0.0.1:N (default: a free port), accepting `Authorization: Token T` or `Bearer T`
(default token mock-token), until killed. With --encrypted-share P, that share (0 to 1) of the
rooms is encrypted for giosg-rs's public test key (giosg-decrypt's test_key; its private half
opens them): their messages are only in encrypted_message. With --log-requests, every request handled is
printed on stderr, one line each, in the order handled (within a tenth of a second):
`METHOD PATH[?QUERY] STATUS[ FAULT]`, the query decoded.";

/// How often `--log-requests` looks for new requests.
const LOG_EVERY: Duration = Duration::from_millis(100);

struct Args {
    port: u16,
    chats: usize,
    seed: u64,
    fixture: Option<std::path::PathBuf>,
    token: Option<String>,
    latency_ms: Option<u64>,
    encrypted_share: Option<f64>,
    log_requests: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        port: 0,
        chats: 250,
        seed: 1,
        fixture: None,
        token: None,
        latency_ms: None,
        encrypted_share: None,
        log_requests: false,
    };
    while let Some(flag) = args.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (flag, None),
        };
        if name == "-h" || name == "--help" {
            return Err(String::new());
        }
        if name == "--log-requests" {
            if inline.is_some() {
                return Err(format!("{name} takes no value"));
            }
            parsed.log_requests = true;
            continue;
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
            "--fixture-file" => parsed.fixture = Some(value.into()),
            "--latency-ms" => parsed.latency_ms = Some(value.parse().map_err(|e| bad(&e))?),
            "--encrypted-share" => {
                let share: f64 = value.parse().map_err(|e| bad(&e))?;
                if !(0.0..=1.0).contains(&share) {
                    return Err(format!("{name} is a share from 0 to 1"));
                }
                parsed.encrypted_share = Some(share);
            }
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
    let mut builder = MockServer::builder().port(args.port);
    builder = match &args.fixture {
        Some(path) => builder.fixture_file(path),
        None => builder.generated(args.seed, args.chats),
    };
    if let Some(token) = args.token {
        builder = builder.token(token);
    }
    if let Some(share) = args.encrypted_share {
        builder = builder.encrypted_share(share);
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
    if args.log_requests {
        log_requests(&server);
    }
    loop {
        std::thread::park();
    }
}

/// Prints every request the server records on stderr, one line each, as they come.
///
/// The server keeps a record of every request; this polls it (a copy of the whole record each
/// time, so it costs more the longer the server runs: leave it off when measuring the mock).
fn log_requests(server: &MockServer) -> ! {
    let mut printed = 0;
    loop {
        std::thread::sleep(LOG_EVERY);
        let requests = server.requests();
        if requests.len() <= printed {
            continue;
        }
        let mut err = std::io::stderr().lock();
        for request in &requests[printed..] {
            let _ = writeln!(err, "{}", log_line(request));
        }
        let _ = err.flush();
        printed = requests.len();
    }
}

/// `GET /api/v5/orgs/ORG/chats?page_size=100&since_id=ID 200`, then the fault if one was
/// injected.
fn log_line(request: &RecordedRequest) -> String {
    let mut line = format!("{} {}", request.method, request.path);
    for (i, (name, value)) in request.query.iter().enumerate() {
        line.push(if i == 0 { '?' } else { '&' });
        line.push_str(name);
        line.push('=');
        line.push_str(value);
    }
    line.push_str(&format!(" {}", request.status));
    if let Some(fault) = &request.fault {
        line.push_str(&format!(" {fault:?}"));
    }
    line
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
            (
                d.port,
                d.chats,
                d.seed,
                d.token,
                d.latency_ms,
                d.log_requests
            ),
            (0, 250, 1, None, None, false)
        );
        assert!(args("--log-requests --chats 3").unwrap().log_requests);
        assert!(args("--log-requests=yes").is_err());
        assert!(args("--port").is_err());
        assert!(args("--port x").is_err());
        assert!(args("--what 1").is_err());
        assert_eq!(args("--help").err().as_deref(), Some(""));
    }

    #[test]
    fn a_request_is_one_line() {
        use std::io::Read;
        let server = MockServer::builder().generated(1, 3).start().unwrap();
        let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
        write!(
            stream,
            "GET /api/v5/orgs/{}/chats?page_size=2&start_time=2025-01-01T00%3A00%3A00Z HTTP/1.1\r\n\
             Host: x\r\nAuthorization: Token {}\r\nConnection: close\r\n\r\n",
            server.org(),
            server.token()
        )
        .unwrap();
        stream.read_to_end(&mut Vec::new()).unwrap();
        let requests = server.requests();
        assert_eq!(
            log_line(&requests[0]),
            format!(
                "GET /api/v5/orgs/{}/chats?page_size=2&start_time=2025-01-01T00:00:00Z 200",
                server.org()
            )
        );
    }
}

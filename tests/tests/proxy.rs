//! A loopback API is reached directly on both clients, never through a proxy named by the
//! environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`): the proxy would see a plain-http
//! request, token included.
//!
//! Environment variables belong to the whole process, and other tests run beside this one: the
//! clients run in a child process (this test binary, running this test alone), which alone
//! has the proxy variables set.

use giosg_mock::MockServer;
use giosg_model::Uuid;
use giosg_query::RetryPolicy;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Set in the child: the mock's base URL, organisation and token, separated by spaces.
const CHILD: &str = "GIOSG_PROXY_TEST_CHILD";

/// The name of the test, to run it alone in the child.
const NAME: &str = "a_loopback_api_is_reached_without_the_environments_proxy";

#[test]
fn a_loopback_api_is_reached_without_the_environments_proxy() {
    if let Ok(api) = std::env::var(CHILD) {
        return child(&api);
    }
    let mock = MockServer::builder().generated(3, 5).start().unwrap();
    let proxy = Recorder::start();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(
            CHILD,
            format!("{} {} {}", mock.base_url(), mock.org(), mock.token()),
        )
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env(name, &proxy.url);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "the child failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        proxy.connections.load(Ordering::SeqCst),
        0,
        "a client went through the proxy"
    );
    assert_eq!(mock.requests().len(), 2, "one request from each client");
}

/// In the child, with the proxy variables set: each client asks the mock for a page, once.
fn child(api: &str) {
    let mut parts = api.split(' ');
    let (base, org, token) = (
        parts.next().unwrap(),
        Uuid::parse_str(parts.next().unwrap()).unwrap(),
        parts.next().unwrap(),
    );
    let once = RetryPolicy::default().max_attempts(1);
    let blocking = giosg_blocking::Client::builder()
        .base_url(base)
        .token(token)
        .retry_policy(once.clone())
        .build()
        .unwrap();
    blocking.chats(org).first_page().expect("blocking");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = giosg_async::Client::builder()
            .base_url(base)
            .token(token)
            .retry_policy(once)
            .build()
            .unwrap();
        client.chats(org).first_page().await.expect("async");
    });
}

/// A proxy that counts the connections it gets and answers each with a 502.
struct Recorder {
    url: String,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Recorder {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (counted, stopping) = (Arc::clone(&connections), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                counted.fetch_add(1, Ordering::SeqCst);
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n") && matches!(stream.read(&mut byte), Ok(1)) {
                    request.push(byte[0]);
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Recorder {
            url,
            connections,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

//! The HTTP server: hyper 1 on a current-thread tokio runtime in a background thread.

use crate::fault::{Fault, FaultPlan};
use crate::record::{mask_authorization, RecordedRequest};
use crate::store::{self, Store};
use bytes::Bytes;
use giosg_model::{Chat, Page, Uuid};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use url::form_urlencoded;

/// The token [`MockServer`] accepts unless told otherwise.
pub const DEFAULT_TOKEN: &str = "mock-token";

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

struct FaultState {
    plan: FaultPlan,
    /// The number the next chats-endpoint request gets.
    next: u64,
}

struct Shared {
    base_url: String,
    org: Uuid,
    token: String,
    store: Mutex<Store>,
    faults: Mutex<FaultState>,
    requests: Mutex<Vec<RecordedRequest>>,
    /// Gzip bodies for requests that accept it.
    gzip: bool,
}

/// A local giosg Chat API: `GET /api/v5/orgs/<org>/chats` over HTTP/1.1 on loopback, with
/// every query parameter, the pagination envelope, Django REST framework errors, and
/// scriptable [`Fault`]s.
///
/// It serves from its own thread and tokio runtime, so it works the same from blocking tests
/// and from inside async ones. Dropping it stops it, closing open connections.
///
/// ```
/// let server = giosg_mock::MockServer::start();
/// assert!(server.base_url().starts_with("http://127.0.0.1:"));
/// assert_eq!(server.chats().len(), 250);
/// ```
pub struct MockServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("base_url", &self.shared.base_url)
            .field("org", &self.shared.org)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
enum Source {
    Chats(Vec<Chat>),
    Generated { seed: u64, count: usize },
    Fixture(PathBuf),
}

/// Configures a [`MockServer`]; get one from [`MockServer::builder`].
#[derive(Clone, Debug)]
#[must_use]
pub struct MockServerBuilder {
    org: Uuid,
    token: String,
    source: Source,
    faults: FaultPlan,
    port: u16,
    gzip: bool,
}

impl Default for MockServerBuilder {
    fn default() -> Self {
        MockServerBuilder {
            org: crate::DEMO_ORG,
            token: DEFAULT_TOKEN.to_owned(),
            source: Source::Generated {
                seed: 1,
                count: 250,
            },
            faults: FaultPlan::new(),
            port: 0,
            gzip: false,
        }
    }
}

impl MockServerBuilder {
    /// The organisation whose chats are served (default [`crate::DEMO_ORG`]); any other org
    /// id gets 403.
    pub fn org(mut self, org: Uuid) -> Self {
        self.org = org;
        self
    }

    /// The API token accepted as `Token <t>` or `Bearer <t>` (default `mock-token`).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = token.into();
        self
    }

    /// Serve exactly these chats. A later chat replaces an earlier one with the same id.
    /// Replaces any earlier data choice.
    pub fn chats(mut self, chats: Vec<Chat>) -> Self {
        self.source = Source::Chats(chats);
        self
    }

    /// Serve `count` chats from [`crate::generate`]`(seed, count)` (the default is seed 1,
    /// 250 chats). Replaces any earlier data choice.
    pub fn generated(mut self, seed: u64, count: usize) -> Self {
        self.source = Source::Generated { seed, count };
        self
    }

    /// Serve the chats of a JSON file holding a page (`{"results": [...], ...}`) or an array
    /// of chats, read when the server starts. Replaces any earlier data choice.
    pub fn fixture_file(mut self, path: impl AsRef<Path>) -> Self {
        self.source = Source::Fixture(path.as_ref().to_owned());
        self
    }

    /// The faults to inject (default none).
    pub fn faults(mut self, plan: FaultPlan) -> Self {
        self.faults = plan;
        self
    }

    /// Gzip every non-empty response body when the request's `Accept-Encoding` accepts gzip
    /// (`Content-Encoding: gzip`, the compressed `Content-Length`), as giosg's servers do.
    /// Default off: bodies go out as they are.
    pub fn gzip(mut self, on: bool) -> Self {
        self.gzip = on;
        self
    }

    /// Listen on this port of 127.0.0.1 (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Binds, loads the data and starts serving.
    ///
    /// Fails if the port cannot be bound or the fixture file cannot be read or decoded.
    pub fn start(self) -> io::Result<MockServer> {
        let chats = match self.source {
            Source::Chats(chats) => chats,
            Source::Generated { seed, count } => crate::generate(seed, count),
            Source::Fixture(path) => load_fixture(&path)?,
        };
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, self.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let shared = Arc::new(Shared {
            base_url: format!("http://{addr}"),
            org: self.org,
            token: self.token,
            store: Mutex::new(Store::new(chats)),
            faults: Mutex::new(FaultState {
                plan: self.faults,
                next: 0,
            }),
            requests: Mutex::new(Vec::new()),
            gzip: self.gzip,
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let serving = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("giosg-mock {addr}"))
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::spawn(accept_loop(listener, serving));
                    // Either a message or the sender's drop ends the wait.
                    let _ = rx.await;
                });
                // Drops every connection task, stalled ones included, without waiting.
                runtime.shutdown_background();
            })?;
        Ok(MockServer {
            shared,
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }
}

fn load_fixture(path: &Path) -> io::Result<Vec<Chat>> {
    let bytes = std::fs::read(path)?;
    let invalid = |e: &dyn std::fmt::Display| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    };
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        serde_json::from_slice(&bytes).map_err(|e| invalid(&e))
    } else {
        Page::<Chat>::from_slice(&bytes)
            .map(|p| p.results)
            .map_err(|e| invalid(&e))
    }
}

impl MockServer {
    /// Starts a server with the defaults: [`crate::DEMO_ORG`], token `mock-token`, 250
    /// chats generated from seed 1, no faults, a free port.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound (or a thread started).
    pub fn start() -> MockServer {
        MockServer::builder()
            .start()
            .expect("giosg-mock: cannot start the mock server on 127.0.0.1")
    }

    /// A builder, to choose the data, org, token, port and faults.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The absolute URL of the chats endpoint of the server's org.
    pub fn chats_url(&self) -> String {
        format!(
            "{}/api/v5/orgs/{}/chats",
            self.shared.base_url, self.shared.org
        )
    }

    /// The organisation whose chats are served.
    pub fn org(&self) -> Uuid {
        self.shared.org
    }

    /// The accepted API token.
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// Every chat now served, in the default canonical order (`start_time` ascending, then
    /// `id`), including any pushed, drifted or inserted in, and without any deleted.
    pub fn chats(&self) -> Vec<Chat> {
        lock(&self.shared.store).chats().to_vec()
    }

    /// Adds chats while the server runs; a chat with the id of an existing one replaces it.
    pub fn push_chats(&self, chats: Vec<Chat>) {
        lock(&self.shared.store).push(chats);
    }

    /// Removes the chats with these ids while the server runs; unknown ids are ignored.
    /// Later answers, and [`MockServer::chats`], no longer have them; a `since_id` naming one
    /// is an unknown chat (an empty listing follows it).
    pub fn delete_chats(&self, ids: &[Uuid]) {
        lock(&self.shared.store).remove(ids);
    }

    /// Every request received so far (any path), in the order they were handled.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// Replaces the fault plan; its request numbers count from the next request on.
    pub fn set_faults(&self, plan: FaultPlan) {
        *lock(&self.shared.faults) = FaultState { plan, next: 0 };
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream, shared.clone()));
            }
            // Out of file descriptors and the like: wait a little instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

async fn serve_connection(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let ctl = Arc::new(ConnCtl::default());
    let io = TokioIo::new(ControlledIo {
        inner: stream,
        ctl: ctl.clone(),
    });
    let service = hyper::service::service_fn(move |req| handle(shared.clone(), ctl.clone(), req));
    // Errors are client disconnects or injected faults: nothing to report.
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await;
}

/// Per-connection switches the response body sets and the connection's IO obeys.
#[derive(Default)]
struct ConnCtl {
    /// Fail the next flush that completes, closing the connection after everything written
    /// so far has been handed to the socket.
    close_after_flush: AtomicBool,
}

/// A TCP stream that can be told to close right after a flush: how `Truncate` gets exactly
/// the first half of a body onto the wire before the connection goes.
struct ControlledIo {
    inner: tokio::net::TcpStream,
    ctl: Arc<ConnCtl>,
}

impl AsyncRead for ControlledIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ControlledIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Ready(Ok(())) if self.ctl.close_after_flush.load(Ordering::SeqCst) => {
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "giosg-mock: truncated response (fault)",
                )))
            }
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The response bodies the mock sends.
enum MockBody {
    /// All at once.
    Full(Option<Bytes>),
    /// The first half, then a closed connection.
    Truncate {
        half: Option<Bytes>,
        ctl: Arc<ConnCtl>,
    },
    /// The first half, a pause, the rest.
    Stall {
        first: Option<Bytes>,
        pause: Pin<Box<tokio::time::Sleep>>,
        rest: Option<Bytes>,
    },
    /// Lazily generated filler.
    Oversized { prefix_sent: bool, remaining: u64 },
    /// One byte at a time, a pause before each.
    Dribble {
        body: Bytes,
        every: Duration,
        pause: Pin<Box<tokio::time::Sleep>>,
    },
    /// Lazily generated filler, gzipped as it goes out.
    GzipBomb {
        encoder: Option<flate2::write::GzEncoder<Vec<u8>>>,
        remaining: u64,
    },
}

const OVERSIZED_PREFIX: &str = r#"{"count": 1, "num_pages": 1, "per_page": 25, "current_page": 1, "next_page": null, "previous_page": null, "next_page_url": null, "previous_page_url": null, "results": ["#;
const OVERSIZED_UNIT: &str =
    r#"{"id": "00000000-0000-4000-8000-000000000000", "token": "filler", "tags": []}, "#;

/// About 64 KiB of whole filler units, shared by every oversized body.
fn filler_block() -> Bytes {
    static BLOCK: OnceLock<Bytes> = OnceLock::new();
    BLOCK
        .get_or_init(|| Bytes::from(OVERSIZED_UNIT.repeat(65_536 / OVERSIZED_UNIT.len() + 1)))
        .clone()
}

/// The next piece of a gzip bomb: up to 1 MiB more of filler, compressed (a few KiB); the
/// gzip trailer once all is in; `None` at the end.
fn gzip_bomb_chunk(
    encoder: &mut Option<flate2::write::GzEncoder<Vec<u8>>>,
    remaining: &mut u64,
) -> Option<Bytes> {
    use std::io::Write;
    loop {
        let gz = encoder.as_mut()?;
        if *remaining == 0 {
            let out = encoder.take()?.finish().ok()?;
            return (!out.is_empty()).then(|| Bytes::from(out));
        }
        let block = filler_block();
        let mut fed = 0;
        while fed < 1 << 20 && *remaining > 0 {
            let take = block
                .len()
                .min(usize::try_from(*remaining).unwrap_or(usize::MAX));
            gz.write_all(&block[..take]).ok()?;
            *remaining -= take as u64;
            fed += take;
        }
        let out = std::mem::take(gz.get_mut());
        if !out.is_empty() {
            return Some(Bytes::from(out));
        }
    }
}

/// Gzips a body.
fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body).expect("writing to a Vec");
    gz.finish().expect("writing to a Vec")
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        let data = match this {
            MockBody::Full(data) => data.take(),
            MockBody::Truncate { half, ctl } => match half.take() {
                Some(half) => Some(half),
                None => {
                    // hyper flushes what it has buffered before polling again; the flush
                    // then fails, and the connection closes.
                    ctl.close_after_flush.store(true, Ordering::SeqCst);
                    return Poll::Pending;
                }
            },
            MockBody::Stall { first, pause, rest } => match first.take() {
                Some(first) => Some(first),
                None => {
                    if pause.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    rest.take()
                }
            },
            MockBody::GzipBomb { encoder, remaining } => gzip_bomb_chunk(encoder, remaining),
            MockBody::Dribble { body, every, pause } => {
                if body.is_empty() {
                    None
                } else {
                    if pause.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    let every = *every;
                    pause.as_mut().reset(tokio::time::Instant::now() + every);
                    Some(body.split_to(1))
                }
            }
            MockBody::Oversized {
                prefix_sent,
                remaining,
            } => {
                if *remaining == 0 {
                    None
                } else {
                    let chunk = if *prefix_sent {
                        filler_block()
                    } else {
                        *prefix_sent = true;
                        Bytes::from_static(OVERSIZED_PREFIX.as_bytes())
                    };
                    let take = chunk
                        .len()
                        .min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                    *remaining -= take as u64;
                    Some(chunk.slice(..take))
                }
            }
        };
        Poll::Ready(data.map(|d| Ok(Frame::data(d))))
    }

    fn is_end_stream(&self) -> bool {
        match self {
            MockBody::Full(data) => data.is_none(),
            MockBody::Oversized { remaining, .. } => *remaining == 0,
            MockBody::GzipBomb { encoder, .. } => encoder.is_none(),
            MockBody::Dribble { body, .. } => body.is_empty(),
            _ => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Full(data) => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            MockBody::Oversized {
                prefix_sent: false,
                remaining,
            } => SizeHint::with_exact(*remaining),
            // The Content-Length header says how long the body should be.
            _ => SizeHint::default(),
        }
    }
}

/// How the body of a response goes out.
enum Shape {
    Full,
    Truncate,
    Stall(Duration),
    Dribble(Duration),
}

/// A response before it is put on the wire.
struct Reply {
    status: u16,
    headers: Vec<(HeaderName, String)>,
    body: Bytes,
}

impl Reply {
    fn json(status: u16, body: Vec<u8>) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Bytes::from(body),
        }
    }

    fn detail(status: u16, detail: &str) -> Self {
        Reply::json(
            status,
            serde_json::to_vec(&serde_json::json!({ "detail": detail })).expect("a JSON object"),
        )
    }

    fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn into_response(self, shape: Shape, ctl: &Arc<ConnCtl>) -> Response<MockBody> {
        let len = self.body.len();
        let body = match shape {
            _ if len == 0 => MockBody::Full(None),
            Shape::Full => MockBody::Full(Some(self.body)),
            Shape::Truncate => MockBody::Truncate {
                half: Some(self.body.slice(..len / 2)),
                ctl: ctl.clone(),
            },
            Shape::Dribble(every) => MockBody::Dribble {
                body: self.body,
                every,
                pause: Box::pin(tokio::time::sleep(every)),
            },
            Shape::Stall(pause) => MockBody::Stall {
                first: Some(self.body.slice(..len / 2)),
                pause: Box::pin(tokio::time::sleep(pause)),
                rest: Some(self.body.slice(len / 2..)),
            },
        };
        response(self.status, self.headers, len as u64, body)
    }
}

fn response(
    status: u16,
    headers: Vec<(HeaderName, String)>,
    content_length: u64,
    body: MockBody,
) -> Response<MockBody> {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(content_length));
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            h.append(name, value);
        }
    }
    resp
}

/// Which resource a path names.
enum Route<'a> {
    /// `/api/v5/orgs/<segment>/chats`, with or without a trailing slash.
    Chats(&'a str),
    NotFound,
}

fn route(path: &str) -> Route<'_> {
    let rest = path.strip_prefix("/api/v5/orgs/").and_then(|r| {
        r.strip_suffix("/chats")
            .or_else(|| r.strip_suffix("/chats/"))
    });
    match rest {
        Some(org) if !org.is_empty() && !org.contains('/') => Route::Chats(org),
        _ => Route::NotFound,
    }
}

/// Like Django's `<uuid:...>` path converter: lower-case, hyphenated.
fn org_segment(s: &str) -> Option<Uuid> {
    let b = s.as_bytes();
    let shaped = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        });
    shaped.then(|| Uuid::parse_str(s).ok()).flatten()
}

const NOT_PROVIDED: &str = "Authentication credentials were not provided.";

/// Django REST framework's `TokenAuthentication`, accepting the `Bearer` keyword as well.
fn authenticate(header: Option<&[u8]>, token: &str) -> Result<(), &'static str> {
    let Some(raw) = header else {
        return Err(NOT_PROVIDED);
    };
    let parts: Vec<&[u8]> = raw
        .split(|b| b.is_ascii_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    let scheme_ok = parts
        .first()
        .is_some_and(|s| s.eq_ignore_ascii_case(b"token") || s.eq_ignore_ascii_case(b"bearer"));
    if !scheme_ok {
        return Err(NOT_PROVIDED);
    }
    match parts.len() {
        1 => Err("Invalid token header. No credentials provided."),
        2 => match std::str::from_utf8(parts[1]) {
            Ok(t) if t == token => Ok(()),
            Ok(_) => Err("Invalid token."),
            Err(_) => {
                Err("Invalid token header. Token string should not contain invalid characters.")
            }
        },
        _ => Err("Invalid token header. Token string should not contain spaces."),
    }
}

/// Django REST framework's default `detail` for a status.
fn status_detail(status: u16) -> String {
    match status {
        400 => "Malformed request.".to_owned(),
        401 => "Invalid token.".to_owned(),
        403 => "You do not have permission to perform this action.".to_owned(),
        404 => "Not found.".to_owned(),
        429 => "Request was throttled.".to_owned(),
        500 => "A server error occurred.".to_owned(),
        503 => "Service temporarily unavailable, try again later.".to_owned(),
        _ => StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .map_or_else(|| format!("Error {status}."), |r| format!("{r}.")),
    }
}

/// The URL of a page of the same listing: the request's query with `page` replaced in place
/// (appended if it was absent), or removed for page 1 as Django REST framework does.
fn page_url(origin: &str, path: &str, query: &[(String, String)], page: u64) -> String {
    let page = (page > 1).then(|| page.to_string());
    let mut ser = form_urlencoded::Serializer::new(String::new());
    let mut placed = false;
    for (k, v) in query {
        if k == "page" {
            if !placed {
                if let Some(p) = &page {
                    ser.append_pair("page", p);
                }
                placed = true;
            }
        } else {
            ser.append_pair(k, v);
        }
    }
    if let (false, Some(p)) = (placed, &page) {
        ser.append_pair("page", p);
    }
    let q = ser.finish();
    if q.is_empty() {
        format!("{origin}{path}")
    } else {
        format!("{origin}{path}?{q}")
    }
}

/// Answers a request of any path; `fault` is the request's, when it changes the data or the
/// page (see [`Fault`]).
fn respond(
    shared: &Shared,
    method: &Method,
    path: &str,
    auth: Option<&[u8]>,
    query: &[(String, String)],
    fault: Option<&Fault>,
) -> Reply {
    let Route::Chats(segment) = route(path) else {
        return Reply::detail(404, "Not found.");
    };
    let Some(org) = org_segment(segment) else {
        return Reply::detail(404, "Not found.");
    };
    if let Err(detail) = authenticate(auth, &shared.token) {
        return Reply::detail(401, detail).header(header::WWW_AUTHENTICATE, "Token");
    }
    if org != shared.org {
        return Reply::detail(403, "You do not have permission to perform this action.");
    }
    if method != Method::GET {
        return Reply::detail(405, &format!("Method \"{method}\" not allowed."))
            .header(header::ALLOW, "GET");
    }
    let request = match store::parse_request(query) {
        Ok(r) => r,
        Err(errors) => {
            let mut body = serde_json::Map::new();
            for (name, message) in errors {
                body.insert(name.to_owned(), serde_json::json!([message]));
            }
            let body = serde_json::to_vec(&body).expect("a JSON object");
            return Reply::json(400, body);
        }
    };

    let mut store = lock(&shared.store);
    let mut listed = request.query;
    match (fault, listed.since_id) {
        (Some(Fault::DeleteCursor), Some(cursor)) => {
            store.remove(&[cursor]);
        }
        (Some(Fault::IgnoreSinceId), Some(_)) => listed.since_id = None,
        _ => {}
    }
    let list = store.listing(&listed);
    let count = list.len() as u64;
    let size = request.page_size;
    let num_pages = count.div_ceil(size).max(1);
    let page_no = request.page;
    if page_no > num_pages {
        return Reply::detail(404, "Invalid page.");
    }
    let from = ((page_no - 1) * size) as usize;
    let mut to = (page_no * size).min(count) as usize;
    if let Some(Fault::ShortPage) = fault {
        to = from + (to - from) / 2;
    }
    let results: Vec<&Chat> = list[from..to].iter().map(|&i| store.chat(i)).collect();
    let last = results.last().map(|c| c.id);
    let mut page = Page::single(results);
    page.count = match fault {
        Some(Fault::CountOffset(by)) => count.saturating_add_signed(*by),
        _ => count,
    };
    page.num_pages = num_pages;
    page.per_page = size;
    page.current_page = page_no;
    if page_no < num_pages && fault != Some(&Fault::NoNextPage) {
        page.next_page = Some(page_no + 1);
        let origin = match fault {
            Some(Fault::ForeignNextPageUrl(origin)) => origin.trim_end_matches('/'),
            _ => &shared.base_url,
        };
        page.next_page_url = Some(page_url(origin, path, query, page_no + 1));
    }
    if page_no > 1 {
        page.previous_page = Some(page_no - 1);
        page.previous_page_url = Some(page_url(&shared.base_url, path, query, page_no - 1));
    }
    let body = serde_json::to_vec(&page).expect("chats serialise");
    drop(page);
    match fault {
        Some(Fault::Drift { new_chats }) => store.drift(*new_chats, listed.ordering[0]),
        Some(Fault::DeleteOldest { chats }) => {
            store.remove_oldest(*chats);
        }
        Some(Fault::DeleteLast) => {
            if let Some(last) = last {
                store.remove(&[last]);
            }
        }
        Some(Fault::Insert { chats }) => store.insert_within(*chats),
        _ => {}
    }
    Reply::json(200, body)
}

async fn handle(
    shared: Arc<Shared>,
    ctl: Arc<ConnCtl>,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, io::Error> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query: Vec<(String, String)> = req
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            let value = if name == header::AUTHORIZATION {
                mask_authorization(&value)
            } else {
                value
            };
            (name.as_str().to_owned(), value)
        })
        .collect();
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes().to_vec());
    let accepts_gzip = req
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .any(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(',')
                .any(|coding| coding.split(';').next().unwrap_or("").trim() == "gzip")
        });
    drop(req);

    let (latency, fault) = {
        let mut state = lock(&shared.faults);
        let fault = if matches!(route(&path), Route::Chats(_)) {
            let n = state.next;
            state.next += 1;
            state.plan.fault_for(n)
        } else {
            None
        };
        (state.plan.plan_latency(), fault)
    };
    if let Some(latency) = latency {
        tokio::time::sleep(latency).await;
    }

    let mut record = RecordedRequest {
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        headers,
        status: 0,
        fault: fault.as_ref().map(|f| format!("{f:?}")),
    };
    let mut shape = Shape::Full;
    match &fault {
        None => {}
        Some(Fault::Latency(pause)) => tokio::time::sleep(*pause).await,
        Some(Fault::Drop) => {
            lock(&shared.requests).push(record);
            // hyper closes the connection without a response when the service fails.
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "giosg-mock: dropped connection (fault)",
            ));
        }
        Some(Fault::Status {
            status,
            retry_after,
        }) => {
            let mut reply = Reply::detail(*status, &status_detail(*status));
            if let Some(value) = retry_after {
                reply = reply.header(header::RETRY_AFTER, value.clone());
            }
            record.status = reply.status;
            lock(&shared.requests).push(record);
            return Ok(reply.into_response(Shape::Full, &ctl));
        }
        Some(Fault::Redirect { location, status }) => {
            let reply = Reply::detail(*status, &status_detail(*status))
                .header(header::LOCATION, location.clone());
            record.status = reply.status;
            lock(&shared.requests).push(record);
            return Ok(reply.into_response(Shape::Full, &ctl));
        }
        Some(Fault::Oversized { bytes }) => {
            record.status = 200;
            lock(&shared.requests).push(record);
            let body = MockBody::Oversized {
                prefix_sent: false,
                remaining: *bytes,
            };
            return Ok(response(200, Vec::new(), *bytes, body));
        }
        Some(Fault::GzipBomb { bytes }) => {
            record.status = 200;
            lock(&shared.requests).push(record);
            let body = MockBody::GzipBomb {
                encoder: Some(flate2::write::GzEncoder::new(
                    Vec::new(),
                    flate2::Compression::fast(),
                )),
                remaining: *bytes,
            };
            let mut resp = response(200, Vec::new(), 0, body);
            // Chunked: the compressed length is not known up front.
            resp.headers_mut().remove(header::CONTENT_LENGTH);
            resp.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            return Ok(resp);
        }
        Some(Fault::Truncate) => shape = Shape::Truncate,
        Some(Fault::Stall(pause)) => shape = Shape::Stall(*pause),
        Some(Fault::Dribble(every)) => shape = Shape::Dribble(*every),
        // They change the data or the page: `respond` applies them.
        Some(
            Fault::Drift { .. }
            | Fault::ForeignNextPageUrl(_)
            | Fault::DeleteOldest { .. }
            | Fault::DeleteLast
            | Fault::DeleteCursor
            | Fault::Insert { .. }
            | Fault::NoNextPage
            | Fault::CountOffset(_)
            | Fault::ShortPage
            | Fault::IgnoreSinceId,
        ) => {}
    }
    let reply = respond(
        &shared,
        &method,
        &path,
        auth.as_deref(),
        &query,
        fault.as_ref(),
    );
    record.status = reply.status;
    lock(&shared.requests).push(record);
    let reply = if shared.gzip && accepts_gzip && !reply.body.is_empty() {
        Reply {
            body: Bytes::from(gzip(&reply.body)),
            ..reply
        }
        .header(header::CONTENT_ENCODING, "gzip")
    } else {
        reply
    };
    Ok(reply.into_response(shape, &ctl))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert!(matches!(route("/api/v5/orgs/x/chats"), Route::Chats("x")));
        assert!(matches!(route("/api/v5/orgs/x/chats/"), Route::Chats("x")));
        assert!(matches!(route("/api/v5/orgs//chats"), Route::NotFound));
        assert!(matches!(route("/api/v5/orgs/a/b/chats"), Route::NotFound));
        assert!(org_segment("7f9e9580-095b-42c7-838c-c04e667b26f7").is_some());
        assert!(org_segment("7F9E9580-095B-42C7-838C-C04E667B26F7").is_none());
        assert!(org_segment("7f9e9580095b42c7838cc04e667b26f7").is_none());
    }

    #[test]
    fn page_urls_keep_the_query() {
        let q = vec![
            ("tag".to_owned(), "a&b".to_owned()),
            ("page".to_owned(), "2".to_owned()),
            ("page_size".to_owned(), "10".to_owned()),
        ];
        assert_eq!(
            page_url("http://h", "/p", &q, 3),
            "http://h/p?tag=a%26b&page=3&page_size=10"
        );
        assert_eq!(
            page_url("http://h", "/p", &q, 1),
            "http://h/p?tag=a%26b&page_size=10"
        );
        assert_eq!(page_url("http://h", "/p", &[], 2), "http://h/p?page=2");
        assert_eq!(page_url("http://h", "/p", &[], 1), "http://h/p");
    }

    #[test]
    fn auth_messages() {
        let t = "tok";
        assert_eq!(authenticate(None, t), Err(NOT_PROVIDED));
        assert_eq!(authenticate(Some(b"Basic abc"), t), Err(NOT_PROVIDED));
        assert_eq!(authenticate(Some(b"Token tok"), t), Ok(()));
        assert_eq!(authenticate(Some(b"bearer tok"), t), Ok(()));
        assert_eq!(authenticate(Some(b"Token nope"), t), Err("Invalid token."));
        assert!(authenticate(Some(b"Token"), t).is_err());
        assert!(authenticate(Some(b"Token a b"), t).is_err());
    }
}

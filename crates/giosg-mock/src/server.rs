//! The server's lifecycle: [`MockServer`] and its builder, hyper 1 on a current-thread tokio
//! runtime in a background thread, the accept loop, and per request the fault it gets, its
//! record, and the hand-over from the emulation ([`crate::emulate`]) to the wire
//! ([`crate::wire`]).

use crate::emulate::{self, Api, ApiRequest};
use crate::fault::{Fault, FaultPlan};
use crate::record::{mask_authorization, RecordedRequest};
use crate::store::Store;
use crate::wire::{self, ConnCtl, ControlledIo, MockBody, Shape};
use giosg_model::{Chat, Page, Uuid};
use hyper::body::Incoming;
use hyper::header;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
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

/// Requests of the chats endpoint held unanswered from a number on, until released: how a
/// test stops a client at an exact point of its listing (see [`MockServer::hold_from`]).
struct Gate {
    /// Chats requests numbered this or later are held (`None`: none is).
    from: tokio::sync::watch::Sender<Option<u64>>,
    /// Which `hold_from` call is in force, and how many requests it holds.
    held: Mutex<(u64, u64)>,
    changed: Condvar,
}

struct Shared {
    /// Who the API is: origin, org and token.
    api: Api,
    gate: Gate,
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
            .field("base_url", &self.shared.api.origin)
            .field("org", &self.shared.api.org)
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
    deny_users: bool,
    encrypted: Option<(f64, giosg_decrypt::PublicKey)>,
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
            deny_users: false,
            encrypted: None,
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

    /// Answers 403 to the users listing, as for a token that may not read users (default:
    /// allowed).
    pub fn deny_users(mut self, deny: bool) -> Self {
        self.deny_users = deny;
        self
    }

    /// Serves `share` (0 to 1) of the rooms encrypted for `key` ([`crate::encrypt`]): their
    /// chats' messages only in `encrypted_message`, as giosg serves them once its cache of a
    /// chat's key has expired. Default: nothing encrypted.
    pub fn encrypted(mut self, share: f64, key: giosg_decrypt::PublicKey) -> Self {
        self.encrypted = Some((share, key));
        self
    }

    /// [`MockServerBuilder::encrypted`] for giosg-rs's test key
    /// ([`giosg_decrypt::test_key`]).
    pub fn encrypted_share(self, share: f64) -> Self {
        let key = giosg_decrypt::PrivateKey::from_pem(giosg_decrypt::test_key::PKCS1_PEM, None)
            .expect("the test key reads")
            .public();
        self.encrypted(share, key)
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
        let mut chats = chats;
        if let Some((share, key)) = &self.encrypted {
            crate::encrypt(&mut chats, *share, key);
        }
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
            api: Api {
                origin: format!("http://{addr}"),
                org: self.org,
                token: self.token,
                deny_users: self.deny_users,
            },
            store: Mutex::new(Store::new(chats)),
            gate: Gate::new(),
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
        self.shared.api.origin.clone()
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The absolute URL of the chats endpoint of the server's org.
    pub fn chats_url(&self) -> String {
        format!(
            "{}/api/v5/orgs/{}/chats",
            self.shared.api.origin, self.shared.api.org
        )
    }

    /// The organisation whose chats are served.
    pub fn org(&self) -> Uuid {
        self.shared.api.org
    }

    /// The accepted API token.
    pub fn token(&self) -> &str {
        &self.shared.api.token
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

impl Gate {
    fn new() -> Self {
        Gate {
            from: tokio::sync::watch::Sender::new(None),
            held: Mutex::new((0, 0)),
            changed: Condvar::new(),
        }
    }

    /// Waits while request `n` is to be held.
    async fn pass(&self, n: u64) {
        let holds = |from: &Option<u64>| from.is_some_and(|from| n >= from);
        let mut rx = self.from.subscribe();
        if !holds(&rx.borrow_and_update()) {
            return;
        }
        let generation = {
            let mut held = lock(&self.held);
            held.1 += 1;
            held.0
        };
        self.changed.notify_all();
        // The sender lives as long as the server: an error means it is stopping.
        let _ = rx.wait_for(|from| !holds(from)).await;
        let mut held = lock(&self.held);
        if held.0 == generation {
            held.1 -= 1;
        }
    }
}

impl MockServer {
    /// Holds every request of the chats endpoint after the next `answered` ones, unanswered,
    /// until [`MockServer::release`]: a client is then stopped at an exact point of its
    /// listing, for a test to look at (or kill it) there, without waiting on time.
    pub fn hold_from(&self, answered: u64) {
        let next = lock(&self.shared.faults).next;
        {
            // Requests still held by an earlier call count no more.
            let mut held = lock(&self.shared.gate.held);
            *held = (held.0 + 1, 0);
        }
        self.shared.gate.from.send_replace(Some(next + answered));
    }

    /// Blocks until at least one request is being held (see [`MockServer::hold_from`]).
    pub fn wait_until_held(&self) {
        let gate = &self.shared.gate;
        let mut held = lock(&gate.held);
        while held.1 == 0 {
            held = gate
                .changed
                .wait(held)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Answers the requests held, and holds no more.
    pub fn release(&self) {
        self.shared.gate.from.send_replace(None);
    }

    /// How many requests of the chats endpoint were received so far (since the fault plan was
    /// last set).
    pub fn chats_requests(&self) -> u64 {
        lock(&self.shared.faults).next
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
    let io = ControlledIo::new(stream);
    let ctl = io.ctl();
    let io = TokioIo::new(io);
    let service = hyper::service::service_fn(move |req| handle(shared.clone(), ctl.clone(), req));
    // Errors are client disconnects or injected faults: nothing to report.
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await;
}

/// Serves one request: its fault (by request number, for the chats endpoint), the plan's
/// latency, its record, then the answer, from the emulation unless the fault answers instead.
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
    let accepts_gzip = wire::accepts_gzip(req.headers());
    drop(req);

    let (latency, fault, number) = {
        let mut state = lock(&shared.faults);
        let (fault, number) = if emulate::is_chats_path(&path) {
            let n = state.next;
            state.next += 1;
            (state.plan.fault_for(n), Some(n))
        } else {
            (None, None)
        };
        (state.plan.plan_latency(), fault, number)
    };
    if let Some(n) = number {
        shared.gate.pass(n).await;
    }
    if let Some(latency) = latency {
        tokio::time::sleep(latency).await;
    }
    if let Some(Fault::Latency(pause)) = &fault {
        tokio::time::sleep(*pause).await;
    }

    let mut record = RecordedRequest {
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        headers,
        status: 0,
        fault: fault.clone(),
    };
    // The faults that answer without the API.
    let answered = match &fault {
        Some(Fault::Drop) => {
            lock(&shared.requests).push(record);
            // hyper closes the connection without a response when the service fails.
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "giosg-mock: dropped connection (fault)",
            ));
        }
        Some(Fault::Oversized { bytes }) => Some(wire::oversized(*bytes)),
        Some(Fault::GzipBomb { bytes }) => Some(wire::gzip_bomb(*bytes)),
        _ => None,
    };
    if let Some(response) = answered {
        record.status = response.status().as_u16();
        lock(&shared.requests).push(record);
        return Ok(response);
    }

    let request = ApiRequest {
        method: &method,
        path: &path,
        query: &query,
        authorization: auth.as_deref(),
    };
    let reply = emulate::respond(
        &shared.api,
        &request,
        &mut lock(&shared.store),
        fault.as_ref(),
    );
    record.status = reply.status;
    lock(&shared.requests).push(record);
    // A scripted status or redirect goes out as it is, never gzipped.
    let scripted = matches!(fault, Some(Fault::Status { .. } | Fault::Redirect { .. }));
    let reply = if shared.gzip && accepts_gzip && !scripted {
        wire::gzipped(reply)
    } else {
        reply
    };
    Ok(wire::send(reply, Shape::of(fault.as_ref()), &ctl))
}

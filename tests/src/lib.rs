//! The conformance harness: one scenario, written once against [`Harness`], runs on the
//! blocking (ureq) and the async (reqwest) client alike, over real HTTP on loopback with
//! giosg-mock.
//!
//! Both harnesses wrap their transport so that waiting between retries is recorded instead of
//! slept: scenarios assert the waits the policy chose (`Retry-After` honoured, say) and never
//! sleep.

use futures_util::StreamExt;
use giosg_model::{Chat, ChatFilter, Page, Uuid};
use giosg_query::{Completeness, Error, RetryPolicy, TransportError};
use giosg_transport::{
    AsyncChats, AsyncClient, AsyncTransport, Chats, Client, FromSettings, Transport,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a scenario configures its client and its listings (`concurrency` and `limit` apply
/// to every listing a harness runs).
#[derive(Clone, Debug)]
pub struct Setup {
    /// The base URL (the mock's).
    pub base_url: String,
    /// The token.
    pub token: String,
    /// Send it as `Bearer` instead of `Token`.
    pub bearer: bool,
    /// The retry policy (default: 5 attempts, tiny backoff).
    pub retry: RetryPolicy,
    /// Read timeout.
    pub read_timeout: Duration,
    /// Overall timeout of one request.
    pub timeout: Duration,
    /// Body cap.
    pub max_body: usize,
    /// Pages in flight (async only; the blocking client is sequential).
    pub concurrency: usize,
    /// The most chats a listing hands out (`Chats::limit` / `AsyncChats::limit`), if any.
    pub limit: Option<u64>,
}

impl Setup {
    /// A setup for this mock server.
    pub fn for_mock(mock: &giosg_mock::MockServer) -> Self {
        Setup {
            base_url: mock.base_url(),
            token: mock.token().to_owned(),
            bearer: false,
            retry: RetryPolicy::default()
                .max_attempts(5)
                .backoff(Duration::from_millis(1), Duration::from_millis(4)),
            read_timeout: Duration::from_secs(20),
            timeout: Duration::from_secs(120),
            max_body: 32 << 20,
            concurrency: 1,
            limit: None,
        }
    }
}

/// What a scenario sees of a client.
pub trait Harness {
    /// `blocking` or `async`.
    fn name(&self) -> &'static str;
    /// Every chat of a listing (`.iter()` / `.stream()`), stopping at the first error.
    fn list(&self, setup: &Setup, org: Uuid, filter: &ChatFilter) -> Result<Vec<Chat>, Error>;
    /// Every chat of a listing, as [`Harness::list`], with what the drained iterator or stream
    /// reported (`completeness()`).
    fn list_reported(
        &self,
        setup: &Setup,
        org: Uuid,
        filter: &ChatFilter,
    ) -> Result<(Vec<Chat>, Completeness), Error>;
    /// The listing's pages (`.pages()`).
    fn pages(
        &self,
        setup: &Setup,
        org: Uuid,
        filter: &ChatFilter,
    ) -> Result<Vec<Page<Chat>>, Error>;
    /// The first page (`.first_page()`).
    fn first_page(
        &self,
        setup: &Setup,
        org: Uuid,
        filter: &ChatFilter,
    ) -> Result<Page<Chat>, Error>;
    /// A keyset sync (`.tail()`).
    fn sync(
        &self,
        setup: &Setup,
        org: Uuid,
        filter: &ChatFilter,
        since: Option<Uuid>,
    ) -> Result<Vec<Chat>, Error>;
    /// The waits between retries so far, recorded instead of slept.
    fn waits(&self) -> Vec<Duration>;
    /// `Debug` of a client built from `setup`.
    fn debug_client(&self, setup: &Setup) -> String;
}

/// A transport wrapper that records retry waits instead of sleeping.
#[derive(Debug)]
pub struct Recorded<T> {
    inner: T,
    waits: Arc<Mutex<Vec<Duration>>>,
}

impl<T: Transport> Transport for Recorded<T> {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self.inner.send(request)
    }
    fn sleep(&self, duration: Duration) {
        self.waits.lock().unwrap().push(duration);
    }
}

#[async_trait::async_trait]
impl<T: AsyncTransport> AsyncTransport for Recorded<T> {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self.inner.send(request).await
    }
    async fn sleep(&self, duration: Duration) {
        self.waits.lock().unwrap().push(duration);
    }
}

fn builder<C>(setup: &Setup) -> giosg_transport::ClientBuilder<C> {
    let b = giosg_transport::ClientBuilder::<C>::default()
        .base_url(&setup.base_url)
        .retry_policy(setup.retry.clone())
        .read_timeout(setup.read_timeout)
        .timeout(setup.timeout)
        .max_body(setup.max_body)
        .jitter(|| 0.5);
    if setup.bearer {
        b.bearer(&setup.token)
    } else {
        b.token(&setup.token)
    }
}

/// The blocking client over ureq.
#[derive(Debug, Default)]
pub struct Blocking {
    waits: Arc<Mutex<Vec<Duration>>>,
}

type BlockingClient = Client<Recorded<giosg_blocking::UreqTransport>>;

impl Blocking {
    fn client(&self, setup: &Setup) -> Result<BlockingClient, Error> {
        let b = builder::<BlockingClient>(setup);
        let inner = giosg_blocking::UreqTransport::from_settings(b.settings())?;
        b.build_with(Recorded {
            inner,
            waits: self.waits.clone(),
        })
    }

    /// The listing as `setup` configures it (the blocking client is sequential: no
    /// concurrency).
    fn chats(
        &self,
        setup: &Setup,
        org: Uuid,
        filter: &ChatFilter,
    ) -> Result<Chats<Recorded<giosg_blocking::UreqTransport>>, Error> {
        let chats = self.client(setup)?.chats(org).filter(filter.clone());
        Ok(match setup.limit {
            Some(n) => chats.limit(n),
            None => chats,
        })
    }
}

impl Harness for Blocking {
    fn name(&self) -> &'static str {
        "blocking"
    }
    fn list(&self, setup: &Setup, org: Uuid, filter: &ChatFilter) -> Result<Vec<Chat>, Error> {
        self.chats(setup, org, filter)?.iter().collect()
    }
    fn list_reported(
        &self,
        setup: &Setup,
        org: Uuid,
        filter: &ChatFilter,
    ) -> Result<(Vec<Chat>, Completeness), Error> {
        let mut iter = self.chats(setup, org, filter)?.iter();
        let chats = iter.by_ref().collect::<Result<Vec<_>, _>>()?;
        Ok((chats, iter.completeness()))
    }
    fn pages(
        &self,
        setup: &Setup,
        org: Uuid,
        filter: &ChatFilter,
    ) -> Result<Vec<Page<Chat>>, Error> {
        self.chats(setup, org, filter)?.pages().collect()
    }
    fn first_page(
        &self,
        setup: &Setup,
        org: Uuid,
        filter: &ChatFilter,
    ) -> Result<Page<Chat>, Error> {
        self.chats(setup, org, filter)?.first_page()
    }
    fn sync(
        &self,
        setup: &Setup,
        org: Uuid,
        filter: &ChatFilter,
        since: Option<Uuid>,
    ) -> Result<Vec<Chat>, Error> {
        self.chats(setup, org, filter)?.tail(since).collect()
    }
    fn waits(&self) -> Vec<Duration> {
        self.waits.lock().unwrap().clone()
    }
    fn debug_client(&self, setup: &Setup) -> String {
        format!("{:?}", self.client(setup).unwrap())
    }
}

/// The async client over reqwest, driven on a current-thread tokio runtime.
#[derive(Debug)]
pub struct Async {
    waits: Arc<Mutex<Vec<Duration>>>,
    runtime: tokio::runtime::Runtime,
}

impl Default for Async {
    fn default() -> Self {
        Async {
            waits: Arc::default(),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime"),
        }
    }
}

type AsyncClientT = AsyncClient<Recorded<giosg_async::ReqwestTransport>>;

impl Async {
    fn client(&self, setup: &Setup) -> Result<AsyncClientT, Error> {
        let b = builder::<AsyncClientT>(setup);
        let inner = giosg_async::ReqwestTransport::from_settings(b.settings())?;
        b.build_with(Recorded {
            inner,
            waits: self.waits.clone(),
        })
    }

    /// The listing as `setup` configures it. Call within the runtime's context.
    fn chats(
        &self,
        setup: &Setup,
        org: Uuid,
        filter: &ChatFilter,
    ) -> Result<AsyncChats<Recorded<giosg_async::ReqwestTransport>>, Error> {
        let chats = self
            .client(setup)?
            .chats(org)
            .filter(filter.clone())
            .concurrency(setup.concurrency);
        Ok(match setup.limit {
            Some(n) => chats.limit(n),
            None => chats,
        })
    }

    fn collect<T>(
        &self,
        stream: impl futures_util::Stream<Item = Result<T, Error>> + Unpin,
    ) -> Result<Vec<T>, Error> {
        self.runtime.block_on(async {
            let mut out = Vec::new();
            let mut stream = stream;
            while let Some(item) = stream.next().await {
                out.push(item?);
            }
            Ok(out)
        })
    }
}

impl Harness for Async {
    fn name(&self) -> &'static str {
        "async"
    }
    fn list(&self, setup: &Setup, org: Uuid, filter: &ChatFilter) -> Result<Vec<Chat>, Error> {
        let _guard = self.runtime.enter();
        self.collect(self.chats(setup, org, filter)?.stream())
    }
    fn list_reported(
        &self,
        setup: &Setup,
        org: Uuid,
        filter: &ChatFilter,
    ) -> Result<(Vec<Chat>, Completeness), Error> {
        let _guard = self.runtime.enter();
        let mut stream = self.chats(setup, org, filter)?.stream();
        let chats = self.collect(&mut stream)?;
        Ok((chats, stream.completeness()))
    }
    fn pages(
        &self,
        setup: &Setup,
        org: Uuid,
        filter: &ChatFilter,
    ) -> Result<Vec<Page<Chat>>, Error> {
        let _guard = self.runtime.enter();
        self.collect(self.chats(setup, org, filter)?.pages())
    }
    fn first_page(
        &self,
        setup: &Setup,
        org: Uuid,
        filter: &ChatFilter,
    ) -> Result<Page<Chat>, Error> {
        let _guard = self.runtime.enter();
        let chats = self.chats(setup, org, filter)?;
        self.runtime.block_on(chats.first_page())
    }
    fn sync(
        &self,
        setup: &Setup,
        org: Uuid,
        filter: &ChatFilter,
        since: Option<Uuid>,
    ) -> Result<Vec<Chat>, Error> {
        let _guard = self.runtime.enter();
        self.collect(self.chats(setup, org, filter)?.tail(since))
    }
    fn waits(&self) -> Vec<Duration> {
        self.waits.lock().unwrap().clone()
    }
    fn debug_client(&self, setup: &Setup) -> String {
        let _guard = self.runtime.enter();
        format!("{:?}", self.client(setup).unwrap())
    }
}

/// Declares a scenario once and runs it as two tests, one per client.
#[macro_export]
macro_rules! scenario {
    ($name:ident, |$h:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn run($h: &dyn $crate::Harness) $body
            #[test]
            fn blocking() {
                run(&$crate::Blocking::default());
            }
            #[test]
            fn r#async() {
                run(&$crate::Async::default());
            }
        }
    };
}

/// Runs `f` with every trace event of this thread captured (TRACE level); returns its value
/// and the log.
pub fn traced<T>(f: impl FnOnce() -> T) -> (T, String) {
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let value = tracing::subscriber::with_default(subscriber, f);
    let log = String::from_utf8_lossy(&sink.0.lock().unwrap()).into_owned();
    (value, log)
}

/// Asserts every chat appears exactly once and the ids are those of `want`, in order.
pub fn assert_exactly(got: &[Chat], want: &[Chat], context: &str) {
    let got_ids: Vec<Uuid> = got.iter().map(|c| c.id).collect();
    let want_ids: Vec<Uuid> = want.iter().map(|c| c.id).collect();
    assert_eq!(
        got_ids.len(),
        want_ids.len(),
        "{context}: wrong number of chats"
    );
    assert_eq!(got_ids, want_ids, "{context}: wrong chats or order");
}

/// Asserts what a listing that ran while chats came and went delivered: none twice, every chat
/// that existed for the whole listing (in `before` and in `after`), and none that never existed
/// (in neither). `context` names the case in failures.
pub fn assert_lossless(got: &[Chat], before: &[Chat], after: &[Chat], context: &str) {
    use std::collections::HashSet;
    let got_ids: HashSet<Uuid> = got.iter().map(|c| c.id).collect();
    assert_eq!(got_ids.len(), got.len(), "{context}: a chat came twice");
    let after_ids: HashSet<Uuid> = after.iter().map(|c| c.id).collect();
    let before_ids: HashSet<Uuid> = before.iter().map(|c| c.id).collect();
    let missing: Vec<Uuid> = before
        .iter()
        .filter(|c| after_ids.contains(&c.id) && !got_ids.contains(&c.id))
        .map(|c| c.id)
        .collect();
    assert!(
        missing.is_empty(),
        "{context}: {} chats that existed throughout were not delivered: {missing:?}",
        missing.len()
    );
    let invented: Vec<Uuid> = got
        .iter()
        .filter(|c| !before_ids.contains(&c.id) && !after_ids.contains(&c.id))
        .map(|c| c.id)
        .collect();
    assert!(
        invented.is_empty(),
        "{context}: chats that never existed: {invented:?}"
    );
}

/// Asserts chats are in the default order: `start_time` ascending, ties by `id`.
pub fn assert_in_default_order(got: &[Chat], context: &str) {
    let key = |c: &Chat| (c.start_time.is_none(), c.start_time, c.id);
    if let Some(i) = got.windows(2).position(|w| key(&w[0]) >= key(&w[1])) {
        panic!(
            "{context}: chat {} at {i} comes before {}",
            got[i].id,
            got[i + 1].id
        );
    }
}

//! Watching the soak: every panic on any thread counted, and a transport wrapper that records
//! how many requests were sent and how long each retry waited.

use super::Config;
use giosg_mock::MockServer;
use giosg_transport::{AsyncTransport, Transport, TransportError, TransportErrorKind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

/// Panics seen so far, on any thread.
pub(super) static PANICS: AtomicU64 = AtomicU64::new(0);

/// Counts every panic, on any thread (the mock's included), then reports it as usual.
pub(super) fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
}

/// What a transport wrapper saw.
#[derive(Default)]
pub(super) struct Seen {
    pub(super) sends: AtomicU64,
    pub(super) waits: Mutex<Vec<Duration>>,
}

/// A transport that only talks to loopback, within a request budget, recording its waits (and
/// then waiting them).
pub(super) struct Watched<T> {
    pub(super) inner: T,
    pub(super) seen: Arc<Seen>,
    pub(super) max_requests: u64,
}

impl<T> Watched<T> {
    fn admit(&self, request: &http::Request<Vec<u8>>) -> Result<(), TransportError> {
        let n = self.seen.sends.fetch_add(1, Ordering::SeqCst) + 1;
        if n > self.max_requests {
            return Err(TransportError::new(
                TransportErrorKind::Other,
                format!("soak: request budget of {} exhausted", self.max_requests),
            ));
        }
        if request.uri().host() != Some("127.0.0.1") {
            return Err(TransportError::new(
                TransportErrorKind::Other,
                format!("soak: refusing a request off loopback: {}", request.uri()),
            ));
        }
        Ok(())
    }

    fn record(&self, wait: Duration) {
        self.seen
            .waits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(wait);
    }
}

impl<T: Transport> Transport for Watched<T> {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self.admit(&request)?;
        self.inner.send(request)
    }
    fn sleep(&self, duration: Duration) {
        self.record(duration);
        self.inner.sleep(duration);
    }
}

#[async_trait::async_trait]
impl<T: AsyncTransport> AsyncTransport for Watched<T> {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self.admit(&request)?;
        self.inner.send(request).await
    }
    async fn sleep(&self, duration: Duration) {
        self.record(duration);
        self.inner.sleep(duration).await;
    }
}

pub(super) fn builder<C>(config: &Config, mock: &MockServer) -> giosg_transport::ClientBuilder<C> {
    giosg_transport::ClientBuilder::<C>::default()
        .base_url(mock.base_url())
        .token(mock.token())
        .retry_policy(config.policy.clone())
        .read_timeout(config.read_timeout)
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(10))
}

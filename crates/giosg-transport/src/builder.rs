//! One builder for every client: endpoint, credentials, timeouts, retries, limits.

use giosg_query::{
    BaseUrl, ConfigError, Credentials, Endpoint, Error, RetryPolicy, DEFAULT_BASE_URL,
    DEFAULT_MAX_BODY, TOKEN_ENV,
};
use std::{marker::PhantomData, sync::Arc, time::Duration};

/// The API token in [`TOKEN_ENV`] (`GIOSG_API_TOKEN`), as a builder given no token reads it:
/// [`ConfigError::MissingToken`] when it is not set, [`ConfigError::TokenNotHeaderSafe`] when
/// it is not Unicode. The whitespace around it is not part of it (see
/// [`Credentials`]); an empty one is refused when the client is built.
pub fn token_from_env() -> Result<String, ConfigError> {
    match std::env::var(TOKEN_ENV) {
        Ok(token) => Ok(token),
        Err(std::env::VarError::NotPresent) => Err(ConfigError::MissingToken),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::TokenNotHeaderSafe),
    }
}

/// What a transport needs to know to build itself: timeouts and the body cap.
///
/// Each timeout, when it fires, is a [`TransportErrorKind::Timeout`](crate::TransportErrorKind::Timeout)
/// whose [`TimeoutKind`](crate::TimeoutKind) says which one it was (retried like any timeout).
///
/// | setting | default | what it bounds |
/// | --- | --- | --- |
/// | `connect_timeout` | 10 s | DNS, TCP and TLS: [`TimeoutKind::Connect`](crate::TimeoutKind::Connect) |
/// | `read_timeout` | 30 s | the wait for the response to start, any one read, and the body's progress (at least 1 KiB per `read_timeout`, so a body that stalls or dribbles a byte a second is cut): [`TimeoutKind::Read`](crate::TimeoutKind::Read) |
/// | `timeout` | 120 s | one whole request, body included: [`TimeoutKind::Overall`](crate::TimeoutKind::Overall) |
/// | `max_body` | 32 MiB | a response body, counted after gzip decoding |
/// | `proxy_from_env` | true (false for a loopback base URL) | whether a proxy named by the environment is used |
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportSettings {
    /// Time to establish a connection (DNS, TCP and TLS). Default 10 s.
    pub connect_timeout: Duration,
    /// Time to wait for the response to start, for any one read of it, and for each 1 KiB of
    /// its body (a stalled or dribbling body fails). Default 30 s.
    pub read_timeout: Duration,
    /// Time for a whole request, body included (each retry gets its own). Default 120 s.
    pub timeout: Duration,
    /// Cap on a response body, in bytes, counted decompressed. Default 32 MiB.
    pub max_body: usize,
    /// Whether the transport may send through a proxy named by the environment
    /// (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, with `NO_PROXY`), as ureq and reqwest do by
    /// default. `build()` turns it off for a loopback base URL: the request stays on this
    /// machine and a proxy would see it, plain http and token included. Default true.
    pub proxy_from_env: bool,
}

impl Default for TransportSettings {
    fn default() -> Self {
        TransportSettings {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            timeout: Duration::from_secs(120),
            max_body: DEFAULT_MAX_BODY,
            proxy_from_env: true,
        }
    }
}

/// A transport that can build itself from [`TransportSettings`]; what `Client::builder()`'s
/// `build()` uses.
pub trait FromSettings: Sized {
    /// Builds the transport.
    fn from_settings(settings: &TransportSettings) -> Result<Self, Error>;
}

/// Builds a client: `Client::builder().token(..).build()`.
///
/// Defaults: base URL `https://service.giosg.com`, the token from `GIOSG_API_TOKEN`
/// ([`token_from_env`]), the
/// [`TransportSettings`] and [`RetryPolicy`] defaults.
#[must_use]
pub struct ClientBuilder<C> {
    base_url: String,
    allow_http: bool,
    credentials: Option<Credentials>,
    user_agent: Option<String>,
    retry: RetryPolicy,
    settings: TransportSettings,
    jitter: Option<Jitter>,
    client: PhantomData<fn() -> C>,
}

/// The source of retry jitter, a number in `[0, 1)`.
pub(crate) type Jitter = Arc<dyn Fn() -> f64 + Send + Sync>;

/// What the clients share once built (public only to name it in [`BuildClient`]'s hidden
/// methods; not reachable from outside the crate).
#[derive(Clone)]
#[doc(hidden)]
pub struct Core {
    pub endpoint: Endpoint,
    pub retry: RetryPolicy,
    pub jitter: Jitter,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("endpoint", &self.endpoint)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

mod sealed {
    pub trait Sealed {}
    #[cfg(feature = "blocking")]
    impl<T> Sealed for crate::Client<T> {}
    #[cfg(feature = "async")]
    impl<T> Sealed for crate::AsyncClient<T> {}
}

/// The client types a [`ClientBuilder`] builds: [`Client<T>`](crate::Client) (blocking) and
/// [`AsyncClient<T>`](crate::AsyncClient). Sealed: it only names them in the builder's
/// bounds, so that `Client::builder().build_with(transport)` gives the same kind of client
/// over any transport.
pub trait BuildClient: sealed::Sealed + Sized {
    /// The transport this client type runs over (`build()` makes it from the settings).
    type Transport;
    /// The same kind of client over another transport.
    type With<T>;
    #[doc(hidden)]
    fn assemble(transport: Self::Transport, core: Core) -> Self;
    #[doc(hidden)]
    fn assemble_with<T>(transport: T, core: Core) -> Self::With<T>;
}

impl<C> std::fmt::Debug for ClientBuilder<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &giosg_query::redact_url(&self.base_url))
            .field("allow_http", &self.allow_http)
            .field("credentials", &self.credentials)
            .field("retry", &self.retry)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<C> Default for ClientBuilder<C> {
    fn default() -> Self {
        ClientBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            allow_http: false,
            credentials: None,
            user_agent: None,
            retry: RetryPolicy::default(),
            settings: TransportSettings::default(),
            jitter: None,
            client: PhantomData,
        }
    }
}

impl<C> ClientBuilder<C> {
    /// Sets the base URL (default `https://service.giosg.com`). It must be https, but for
    /// loopback hosts.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Allows a plain-http base URL to a non-loopback host. The token then crosses the
    /// network in clear text.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Authenticates with a giosg API token (`Authorization: Token ...`).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::token(token));
        self
    }

    /// Authenticates with an OAuth2 access token (`Authorization: Bearer ...`).
    pub fn bearer(mut self, token: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::bearer(token));
        self
    }

    /// Sets the credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Sets the `User-Agent` (default `giosg-rs/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Sets the retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Sets the connect timeout: DNS, TCP and TLS (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.settings.connect_timeout = d;
        self
    }

    /// Sets the read timeout (default 30 s): the wait for the response to start, for any one
    /// read, and for each 1 KiB of the body, so a stalled or dribbling body fails.
    pub fn read_timeout(mut self, d: Duration) -> Self {
        self.settings.read_timeout = d;
        self
    }

    /// Sets the overall timeout of one request, body included (default 120 s; each retry
    /// gets its own).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.settings.timeout = d;
        self
    }

    /// Sets the cap on a response body, in bytes, counted after gzip decoding (default
    /// 32 MiB).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.settings.max_body = bytes;
        self
    }

    /// Replaces the retry jitter source (default: a thread-local random number generator),
    /// for deterministic tests. It must return numbers in `[0, 1)`.
    pub fn jitter(mut self, source: impl Fn() -> f64 + Send + Sync + 'static) -> Self {
        self.jitter = Some(Arc::new(source));
        self
    }

    /// The transport settings so far.
    pub fn settings(&self) -> &TransportSettings {
        &self.settings
    }

    fn core(self) -> Result<(Core, TransportSettings), Error> {
        let base = if self.allow_http {
            BaseUrl::parse_allowing_http(&self.base_url)?
        } else {
            BaseUrl::parse(&self.base_url)?
        };
        let credentials = match self.credentials {
            Some(c) => c,
            None => Credentials::token(token_from_env()?),
        };
        let mut endpoint = Endpoint::with_base(base, credentials)?;
        if let Some(ua) = &self.user_agent {
            endpoint.set_user_agent(ua)?;
        }
        endpoint.set_max_body(self.settings.max_body);
        let mut settings = self.settings;
        // A loopback API is reached directly, never through a proxy from the environment.
        settings.proxy_from_env &= !endpoint.base_url().is_loopback();
        let jitter = self.jitter.unwrap_or_else(|| Arc::new(fastrand::f64));
        let core = Core {
            endpoint,
            retry: self.retry,
            jitter,
        };
        Ok((core, settings))
    }

    /// Builds the same kind of client over a transport of your own: a closure, a test
    /// double, another HTTP stack. `giosg_blocking::Client::builder().build_with(f)` gives a
    /// blocking client over `f`. The transport gets no [`TransportSettings`]: timeouts and
    /// the body cap are its own business (the cap is still enforced when decoding).
    pub fn build_with<T>(self, transport: T) -> Result<C::With<T>, Error>
    where
        C: BuildClient,
    {
        let (core, _) = self.core()?;
        Ok(C::assemble_with(transport, core))
    }

    /// Builds the client over its default transport, made from the [`TransportSettings`].
    pub fn build(self) -> Result<C, Error>
    where
        C: BuildClient,
        C::Transport: FromSettings,
    {
        let (core, settings) = self.core()?;
        let transport = C::Transport::from_settings(&settings)?;
        Ok(C::assemble(transport, core))
    }
}

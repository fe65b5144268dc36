//! One builder for every client: endpoint, credentials, timeouts, retries, limits.

use giosg_query::{
    BaseUrl, ConfigError, Credentials, Endpoint, Error, RetryPolicy, DEFAULT_BASE_URL,
    DEFAULT_MAX_BODY,
};
use std::{marker::PhantomData, sync::Arc, time::Duration};

/// The environment variable a builder reads the API token from when none is given.
pub const TOKEN_ENV: &str = "GIOSG_API_TOKEN";

/// What a transport needs to know to build itself: timeouts, body cap, user agent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportSettings {
    /// Time to establish a connection (TCP and TLS). Default 10 s.
    pub connect_timeout: Duration,
    /// Time to wait for the response to start and between reads of it. Default 30 s.
    pub read_timeout: Duration,
    /// Time for a whole request, body included. Default 120 s.
    pub timeout: Duration,
    /// Cap on a response body, in bytes. Default 32 MiB.
    pub max_body: usize,
}

impl Default for TransportSettings {
    fn default() -> Self {
        TransportSettings {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            timeout: Duration::from_secs(120),
            max_body: DEFAULT_MAX_BODY,
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
/// Defaults: base URL `https://service.giosg.com`, the token from `GIOSG_API_TOKEN`, the
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

/// What the clients share once built.
#[derive(Clone)]
pub(crate) struct Core {
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

/// A client type the builder can make from a transport and the shared core.
pub(crate) trait Assemble<T>: Sized {
    fn assemble(transport: T, core: Core) -> Self;
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

    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.settings.connect_timeout = d;
        self
    }

    /// Sets the read timeout (response start, and between reads).
    pub fn read_timeout(mut self, d: Duration) -> Self {
        self.settings.read_timeout = d;
        self
    }

    /// Sets the overall timeout of one request.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.settings.timeout = d;
        self
    }

    /// Sets the cap on a response body, in bytes.
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
            None => match std::env::var(TOKEN_ENV) {
                Ok(token) => Credentials::token(token),
                Err(_) => return Err(ConfigError::MissingToken.into()),
            },
        };
        let mut endpoint = Endpoint::with_base(base, credentials)?;
        if let Some(ua) = &self.user_agent {
            endpoint.set_user_agent(ua)?;
        }
        endpoint.set_max_body(self.settings.max_body);
        let jitter = self.jitter.unwrap_or_else(|| Arc::new(fastrand::f64));
        let core = Core {
            endpoint,
            retry: self.retry,
            jitter,
        };
        Ok((core, self.settings))
    }

    /// Builds the client over a transport of your own (a closure, a test double).
    #[allow(private_bounds)]
    pub fn build_with<T>(self, transport: T) -> Result<C, Error>
    where
        C: Assemble<T>,
    {
        let (core, _) = self.core()?;
        Ok(C::assemble(transport, core))
    }

    /// Builds the client over its default transport.
    #[allow(private_bounds)]
    pub fn build<T>(self) -> Result<C, Error>
    where
        C: Assemble<T>,
        T: FromSettings,
    {
        let (core, settings) = self.core()?;
        let transport = T::from_settings(&settings)?;
        Ok(C::assemble(transport, core))
    }
}

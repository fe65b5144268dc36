//! A request that did not complete: what transports report, and which timeout fired.

use super::Error;
use std::fmt;

/// A request that did not complete. Transports construct these; [`Exchange`](crate::Exchange)
/// decides which are retried.
///
/// `Display` says what failed (the kind, and which timeout fired); the HTTP stack's error is
/// the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub struct TransportError {
    /// What failed.
    pub kind: TransportErrorKind,
    /// Which timeout fired, when `kind` is [`TransportErrorKind::Timeout`] and the transport
    /// knows.
    pub timeout: Option<TimeoutKind>,
    /// The HTTP stack's own error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
    /// The cap a body passed ([`TransportError::body_too_large`]): such an error becomes
    /// [`Error::BodyTooLarge`], never an [`Error::Transport`].
    body_limit: Option<usize>,
}

impl From<TransportError> for Error {
    /// [`Error::BodyTooLarge`] for a body past the cap, [`Error::Transport`] otherwise.
    fn from(e: TransportError) -> Self {
        match e.body_limit {
            Some(limit) => Error::BodyTooLarge { limit },
            None => Error::Transport(e),
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(limit) = self.body_limit {
            return write!(f, "body larger than {limit} bytes");
        }
        match (self.kind, self.timeout) {
            (TransportErrorKind::Timeout, Some(TimeoutKind::Connect)) => {
                f.write_str("timed out connecting (connect timeout)")
            }
            (TransportErrorKind::Timeout, Some(TimeoutKind::Read)) => f.write_str(
                "timed out reading: the response stalled or came too slowly (read timeout)",
            ),
            (TransportErrorKind::Timeout, Some(TimeoutKind::Overall)) => {
                f.write_str("timed out: the request took longer than the overall timeout")
            }
            (kind, _) => write!(f, "{kind}"),
        }
    }
}

impl TransportError {
    /// A transport error of this kind with this cause.
    pub fn new(
        kind: TransportErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        TransportError {
            kind,
            timeout: None,
            source: source.into(),
            body_limit: None,
        }
    }

    /// The body passed the cap of `limit` bytes, found out `how` (by its `Content-Length`, or
    /// while reading it): what a transport returns instead of reading on. The client reports
    /// it as [`Error::BodyTooLarge`] (not retried); its `kind` is
    /// [`TransportErrorKind::Other`].
    pub fn body_too_large(limit: usize, how: &str) -> Self {
        TransportError {
            body_limit: Some(limit),
            ..TransportError::new(
                TransportErrorKind::Other,
                format!("refused a body larger than {limit} bytes ({how})"),
            )
        }
    }

    /// A [`TransportErrorKind::Timeout`] that says which timeout fired.
    pub fn timed_out(
        which: TimeoutKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        TransportError {
            kind: TransportErrorKind::Timeout,
            timeout: Some(which),
            source: source.into(),
            body_limit: None,
        }
    }
}

/// Which of a transport's timeouts fired (see `TransportSettings` in `giosg-transport`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// No connection (DNS, TCP and TLS) within the connect timeout.
    Connect,
    /// The response did not start, or its body stalled or arrived too slowly, within the read
    /// timeout.
    Read,
    /// The whole request, body included, took longer than the overall timeout.
    Overall,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "connect timeout",
            TimeoutKind::Read => "read timeout",
            TimeoutKind::Overall => "overall timeout",
        })
    }
}

/// What kind of failure a [`TransportError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (refused, DNS, TLS handshake).
    Connect,
    /// A timeout expired (connect, read or overall).
    Timeout,
    /// The connection failed mid-request or mid-body (reset, closed early, truncated).
    Io,
    /// Anything else the HTTP stack reports (not retried).
    Other,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportErrorKind::Connect => f.write_str("connection failed"),
            TransportErrorKind::Timeout => f.write_str("timed out"),
            TransportErrorKind::Io => f.write_str("connection broken"),
            TransportErrorKind::Other => f.write_str("request failed"),
        }
    }
}

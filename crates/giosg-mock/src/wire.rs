//! The wire: how a reply goes out, and the faults that live below HTTP semantics. A connection
//! whose IO can be told to close right after a flush ([`ControlledIo`]), and the response bodies
//! ([`MockBody`]): whole, gzipped, cut after half ([`Fault::Truncate`]), paused midway
//! ([`Fault::Stall`]), one byte at a time ([`Fault::Dribble`]), or generated lazily and never
//! held whole ([`Fault::Oversized`], [`Fault::GzipBomb`]).

use crate::emulate::Reply;
use crate::fault::Fault;
use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Per-connection switches the response body sets and the connection's IO obeys.
#[derive(Default)]
pub(crate) struct ConnCtl {
    /// Fail the next flush that completes, closing the connection after everything written
    /// so far has been handed to the socket.
    close_after_flush: AtomicBool,
}

/// A TCP stream that can be told to close right after a flush: how `Truncate` gets exactly
/// the first half of a body onto the wire before the connection goes.
pub(crate) struct ControlledIo {
    inner: tokio::net::TcpStream,
    ctl: Arc<ConnCtl>,
}

impl ControlledIo {
    /// Wraps a connection's stream.
    pub(crate) fn new(inner: tokio::net::TcpStream) -> Self {
        ControlledIo {
            inner,
            ctl: Arc::default(),
        }
    }

    /// The switches the connection's response bodies set.
    pub(crate) fn ctl(&self) -> Arc<ConnCtl> {
        self.ctl.clone()
    }
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
pub(crate) enum MockBody {
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

/// Whether a request's `Accept-Encoding` headers accept gzip.
pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().any(|v| {
        String::from_utf8_lossy(v.as_bytes())
            .split(',')
            .any(|coding| coding.split(';').next().unwrap_or("").trim() == "gzip")
    })
}

/// The reply with its body gzipped and `Content-Encoding: gzip`; an empty body stays as it is.
pub(crate) fn gzipped(reply: Reply) -> Reply {
    if reply.body.is_empty() {
        return reply;
    }
    Reply {
        body: Bytes::from(gzip(&reply.body)),
        ..reply
    }
    .header(header::CONTENT_ENCODING, "gzip")
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
pub(crate) enum Shape {
    Full,
    Truncate,
    Stall(Duration),
    Dribble(Duration),
}

impl Shape {
    /// The shape a fault gives the body: whole but for [`Fault::Truncate`], [`Fault::Stall`]
    /// and [`Fault::Dribble`].
    pub(crate) fn of(fault: Option<&Fault>) -> Self {
        match fault {
            Some(Fault::Truncate) => Shape::Truncate,
            Some(Fault::Stall(pause)) => Shape::Stall(*pause),
            Some(Fault::Dribble(every)) => Shape::Dribble(*every),
            _ => Shape::Full,
        }
    }
}

/// The response that sends a reply in this shape, `Content-Length` the whole body's.
pub(crate) fn send(reply: Reply, shape: Shape, ctl: &Arc<ConnCtl>) -> Response<MockBody> {
    let len = reply.body.len();
    let body = match shape {
        _ if len == 0 => MockBody::Full(None),
        Shape::Full => MockBody::Full(Some(reply.body)),
        Shape::Truncate => MockBody::Truncate {
            half: Some(reply.body.slice(..len / 2)),
            ctl: ctl.clone(),
        },
        Shape::Dribble(every) => MockBody::Dribble {
            body: reply.body,
            every,
            pause: Box::pin(tokio::time::sleep(every)),
        },
        Shape::Stall(pause) => MockBody::Stall {
            first: Some(reply.body.slice(..len / 2)),
            pause: Box::pin(tokio::time::sleep(pause)),
            rest: Some(reply.body.slice(len / 2..)),
        },
    };
    response(reply.status, reply.headers, len as u64, body)
}

/// 200 with `Content-Length: bytes` and that many bytes of filler ([`Fault::Oversized`]).
pub(crate) fn oversized(bytes: u64) -> Response<MockBody> {
    let body = MockBody::Oversized {
        prefix_sent: false,
        remaining: bytes,
    };
    response(200, Vec::new(), bytes, body)
}

/// 200 with `Content-Encoding: gzip` and a chunked body that inflates to `bytes` bytes of
/// filler ([`Fault::GzipBomb`]).
pub(crate) fn gzip_bomb(bytes: u64) -> Response<MockBody> {
    let body = MockBody::GzipBomb {
        encoder: Some(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        )),
        remaining: bytes,
    };
    let mut resp = response(200, Vec::new(), 0, body);
    // Chunked: the compressed length is not known up front.
    resp.headers_mut().remove(header::CONTENT_LENGTH);
    resp.headers_mut()
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    resp
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

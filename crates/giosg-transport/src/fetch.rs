//! One page request, with retries: the loop both clients run, minus the sleeping.

use crate::builder::Core;
use giosg_query::{Exchange, TransportError, Verdict};
use std::time::{Duration, SystemTime};

/// A fresh copy of a request for one attempt (`http::Request` is not `Clone`).
pub(crate) fn copy(request: &http::Request<Vec<u8>>) -> http::Request<Vec<u8>> {
    let mut copy = http::Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.headers_mut() = request.headers().clone();
    copy
}

/// The state of one request across its attempts.
pub(crate) struct Fetch<'a> {
    core: &'a Core,
    pub request: &'a http::Request<Vec<u8>>,
    /// The page number asked for (chats), for the span.
    page: u64,
    exchange: Exchange,
}

/// What the driver does next.
pub(crate) enum Step<T> {
    Done(Result<T, giosg_query::Error>),
    Sleep(Duration),
}

impl<'a> Fetch<'a> {
    /// A request of the API with the page number it asks for (0 for one that is not a page of
    /// chats: a cursor page, the token's user).
    pub(crate) fn of(core: &'a Core, request: &'a http::Request<Vec<u8>>, page: u64) -> Self {
        Fetch {
            core,
            request,
            page,
            exchange: Exchange::new(&core.retry, core.endpoint.max_body()),
        }
    }

    /// The span of the next attempt: method, path, page and attempt; never headers.
    pub(crate) fn span(&self) -> tracing::Span {
        tracing::debug_span!(
            "giosg.request",
            method = %self.request.method(),
            path = self.request.uri().path(),
            page = self.page,
            attempt = self.exchange.attempts() + 1,
            status = tracing::field::Empty,
        )
    }

    /// Judges an attempt's outcome, decoded with `decode`.
    pub(crate) fn judge_with<T>(
        &mut self,
        span: &tracing::Span,
        outcome: Result<http::Response<Vec<u8>>, TransportError>,
        decode: impl FnOnce(&http::Response<Vec<u8>>, usize) -> Result<T, giosg_query::Error>,
    ) -> Step<T> {
        match &outcome {
            Ok(response) => {
                span.record("status", response.status().as_u16());
            }
            Err(e) => tracing::debug!(parent: span, error = %display_chain(e), "request failed"),
        }
        match self
            .exchange
            .judge_with(outcome, SystemTime::now(), (self.core.jitter)(), decode)
        {
            Verdict::Page(page) => {
                tracing::debug!(parent: span, "page received");
                Step::Done(Ok(page))
            }
            Verdict::Retry(wait) => {
                tracing::info!(parent: span, ?wait, "retrying");
                Step::Sleep(wait)
            }
            Verdict::Fail(e) => {
                tracing::debug!(parent: span, error = %e.display_chain(), "giving up");
                Step::Done(Err(e))
            }
        }
    }
}

/// An error and its causes, joined with `": "`.
fn display_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

//! Retry decisions as data: which outcomes are retried, and after how long.
//!
//! The caller sends, hands the outcome to an [`Exchange`], and gets a [`Verdict`]: a page, a
//! wait before sending again, or a final error. Time and randomness come from the caller, so
//! every decision is reproducible in a test.

use crate::{decode_page, ApiErrorKind, Error, TransportError, TransportErrorKind};
use giosg_model::{Chat, Page};
use std::time::{Duration, SystemTime};

/// When to retry and how long to wait.
///
/// Retried: 429, 500, 502, 503, 504, connection failures, timeouts, broken connections and
/// truncated bodies (these GETs are idempotent). Never retried: 400, 401, 403, 404, other
/// statuses, undecodable bodies, oversized bodies. A `Retry-After` header (seconds or an HTTP
/// date) sets the wait; otherwise the wait is exponential backoff with full jitter:
/// `random * min(max_delay, base_delay * 2^(attempt - 1))`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Requests to send at most, the first included (1 = never retry). Default 5.
    pub max_attempts: u32,
    /// The backoff's first step. Default 500 ms.
    pub base_delay: Duration,
    /// The longest backoff step. Default 30 s.
    pub max_delay: Duration,
    /// The most time to spend waiting across all retries of one request; a `Retry-After`
    /// that would go past it ends the retries. Default 2 minutes.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_total_wait: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the number of attempts (at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets the backoff's first step and its cap.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max;
        self
    }

    /// Sets the most time to wait across the retries of one request.
    pub fn max_total_wait(mut self, d: Duration) -> Self {
        self.max_total_wait = d;
        self
    }

    /// Whether an error is worth another attempt.
    pub fn is_retryable(error: &Error) -> bool {
        match error {
            Error::Api(e) => {
                e.kind == ApiErrorKind::RateLimited || matches!(e.status, 500 | 502 | 503 | 504)
            }
            Error::Transport(e) => matches!(
                e.kind,
                TransportErrorKind::Connect | TransportErrorKind::Timeout | TransportErrorKind::Io
            ),
            // A 2xx body that ends early is a truncated transfer.
            Error::Decode { source, .. } => source.is_eof(),
            _ => false,
        }
    }

    /// The wait before attempt `attempt + 1`, after `attempt` attempts failed with `error`
    /// and `waited` was already spent waiting; `None` to give up.
    ///
    /// `now` resolves a `Retry-After` date; `random` in `[0, 1)` is the jitter.
    ///
    /// ```
    /// use giosg_query::RetryPolicy;
    /// use std::time::Duration;
    /// let policy = RetryPolicy::default();
    /// assert_eq!(policy.backoff_delay(1, 1.0), Duration::from_millis(500));
    /// assert_eq!(policy.backoff_delay(3, 0.5), Duration::from_millis(1000));
    /// assert_eq!(policy.backoff_delay(30, 0.999), Duration::from_secs(30).mul_f64(0.999));
    /// ```
    pub fn decide(
        &self,
        error: &Error,
        attempt: u32,
        waited: Duration,
        now: SystemTime,
        random: f64,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts || !Self::is_retryable(error) {
            return None;
        }
        let delay = match error.api().and_then(|e| e.retry_after) {
            Some(after) => after.delay(now),
            None => self.backoff_delay(attempt, random),
        };
        let total = waited.checked_add(delay)?;
        (total <= self.max_total_wait).then_some(delay)
    }

    /// The jittered backoff after `attempt` failures.
    pub fn backoff_delay(&self, attempt: u32, random: f64) -> Duration {
        let exp = attempt.saturating_sub(1).min(31);
        let step = self
            .base_delay
            .checked_mul(1u32 << exp)
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        // NaN would make `mul_f64` panic: treat it as the full step.
        let random = if random.is_nan() {
            1.0
        } else {
            random.clamp(0.0, 1.0)
        };
        step.mul_f64(random)
    }
}

/// A `Retry-After` header: a number of seconds or an HTTP date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryAfter {
    /// Wait this long.
    Delay(Duration),
    /// Wait until then.
    At(SystemTime),
}

impl RetryAfter {
    /// Parses a header value; `None` if it is neither form.
    ///
    /// ```
    /// use giosg_query::RetryAfter;
    /// use std::time::Duration;
    /// assert_eq!(RetryAfter::parse("2"), Some(RetryAfter::Delay(Duration::from_secs(2))));
    /// assert!(matches!(RetryAfter::parse("Wed, 21 Oct 2015 07:28:00 GMT"), Some(RetryAfter::At(_))));
    /// assert_eq!(RetryAfter::parse("soon"), None);
    /// ```
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(RetryAfter::Delay(Duration::from_secs(seconds)));
        }
        httpdate::parse_http_date(value).ok().map(RetryAfter::At)
    }

    /// How long to wait from `now` (zero for a date in the past).
    pub fn delay(self, now: SystemTime) -> Duration {
        match self {
            RetryAfter::Delay(d) => d,
            RetryAfter::At(t) => t.duration_since(now).unwrap_or(Duration::ZERO),
        }
    }
}

/// What to do after an attempt.
///
/// Not `#[non_exhaustive]`, on purpose: a transport must act on every verdict, and a kind of
/// verdict it cannot know would leave it nothing correct to do. A new one is a breaking change.
#[derive(Debug)]
pub enum Verdict<T = Page<Chat>> {
    /// The page (or the resource) arrived.
    Page(T),
    /// Wait this long, then send the same request again.
    Retry(Duration),
    /// Stop with this error ([`Error::RetriesExhausted`] when retries were made,
    /// [`Error::RetryAfterTooLong`] when the server asked to wait longer than the policy
    /// allows).
    Fail(Error),
}

/// The attempts at one request: counts them and the time waited, and judges each outcome.
#[derive(Clone, Debug)]
pub struct Exchange {
    policy: RetryPolicy,
    max_body: usize,
    attempts: u32,
    waited: Duration,
}

impl Exchange {
    /// A new exchange under `policy`, with responses capped at `max_body` bytes.
    pub fn new(policy: &RetryPolicy, max_body: usize) -> Self {
        Exchange {
            policy: policy.clone(),
            max_body,
            attempts: 0,
            waited: Duration::ZERO,
        }
    }

    /// How many outcomes were judged so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Judges the outcome of the latest attempt. `now` and `random` (in `[0, 1)`) feed
    /// [`RetryPolicy::decide`].
    pub fn judge(
        &mut self,
        outcome: Result<http::Response<Vec<u8>>, TransportError>,
        now: SystemTime,
        random: f64,
    ) -> Verdict {
        self.judge_with(outcome, now, random, decode_page)
    }

    /// [`Exchange::judge`] for an answer that is not a page of chats: `decode` turns a
    /// response into what was asked for (a cursor page, a user), or the API's error, which is
    /// retried or not by the same rules.
    pub fn judge_with<T>(
        &mut self,
        outcome: Result<http::Response<Vec<u8>>, TransportError>,
        now: SystemTime,
        random: f64,
        decode: impl FnOnce(&http::Response<Vec<u8>>, usize) -> Result<T, Error>,
    ) -> Verdict<T> {
        self.attempts += 1;
        let error = match outcome {
            Ok(response) => match decode(&response, self.max_body) {
                Ok(page) => return Verdict::Page(page),
                Err(e) => e,
            },
            // A body past the cap becomes `Error::BodyTooLarge`.
            Err(e) => Error::from(e),
        };
        match self
            .policy
            .decide(&error, self.attempts, self.waited, now, random)
        {
            Some(delay) => {
                self.waited += delay;
                Verdict::Retry(delay)
            }
            // A retry was due but for the server's `Retry-After`, which asks for more than
            // the policy allows: say so at once rather than "gave up".
            None if self.attempts < self.policy.max_attempts
                && RetryPolicy::is_retryable(&error)
                && error.api().and_then(|e| e.retry_after).is_some() =>
            {
                let asked = error
                    .api()
                    .and_then(|e| e.retry_after)
                    .map_or(Duration::ZERO, |r| r.delay(now));
                Verdict::Fail(Error::RetryAfterTooLong {
                    asked,
                    allowed: self.policy.max_total_wait.saturating_sub(self.waited),
                    attempts: self.attempts,
                    last: Box::new(error),
                })
            }
            None if self.attempts > 1 => Verdict::Fail(Error::RetriesExhausted {
                attempts: self.attempts,
                waited: self.waited,
                last: Box::new(error),
            }),
            None => Verdict::Fail(error),
        }
    }
}

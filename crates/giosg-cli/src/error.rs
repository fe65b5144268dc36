//! What can fail, the one line said about it on stderr, and the exit code it gives.

use giosg_async::{
    ApiErrorKind, ConfigError, Error as GiosgError, SalesOverflow, TimeoutKind, TransportErrorKind,
    Uuid, ValidationError, MAX_PAGE_SIZE, TOKEN_ENV,
};
use std::fmt;

/// The classes of failure, each with its exit code (documented in `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// 1: the output file cannot be read or written.
    Local,
    /// 2: invalid arguments; nothing was sent.
    Usage,
    /// 3: no usable token, or 401 / 403.
    Auth,
    /// 4: any other API error status.
    Api,
    /// 5: connection failed, timed out or broke.
    Network,
    /// 6: a response that is not a valid page, or pages that do not add up.
    BadResponse,
    /// 7: everything was copied, but some encrypted chats could not be decrypted (they were
    /// written as they came).
    Undecrypted,
}

impl Failure {
    /// The process exit code.
    pub(crate) fn code(self) -> u8 {
        match self {
            Failure::Local => 1,
            Failure::Usage => 2,
            Failure::Auth => 3,
            Failure::Api => 4,
            Failure::Network => 5,
            Failure::BadResponse => 6,
            Failure::Undecrypted => 7,
        }
    }
}

/// A failure of the command: its class and a short message that says what failed and what to
/// do. The message never holds the token: it is built from errors that cannot contain it.
#[derive(Debug)]
pub(crate) struct CliError {
    /// The class, which gives the exit code.
    pub failure: Failure,
    /// What failed and what to do.
    message: String,
}

impl CliError {
    /// A failure of this class with this message.
    pub(crate) fn new(failure: Failure, message: impl Into<String>) -> Self {
        CliError {
            failure,
            message: message.into(),
        }
    }

    /// Invalid arguments (exit 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(Failure::Usage, message)
    }

    /// A local I/O failure on `what` (exit 1); but an encoder's refusal of a chat whose
    /// sales overflow a decimal, which comes as an I/O error carrying the [`SalesOverflow`],
    /// is a bad response (exit 6).
    pub(crate) fn io(what: impl fmt::Display, e: &std::io::Error) -> Self {
        if let Some(overflow) = e.get_ref().and_then(|e| e.downcast_ref::<SalesOverflow>()) {
            return Self::overflow(overflow);
        }
        Self::new(Failure::Local, format!("{what}: {e}"))
    }

    /// A chat whose carts total more than a decimal holds (exit 6).
    pub(crate) fn overflow(e: &SalesOverflow) -> Self {
        Self::new(
            Failure::BadResponse,
            format!("bad response from the API: {e}: no total is given rather than a wrong one; leave the chat out with the filters, or export it as jsonl"),
        )
    }

    /// A filter the SDK refuses (its rules, not a copy), said with the flags that set it
    /// (exit 2).
    pub(crate) fn invalid(e: &ValidationError) -> Self {
        Self::usage(match e {
            ValidationError::Page(n) => format!("--page must be at least 1, got {n}"),
            ValidationError::PageSize(n) => {
                format!("--page-size must be between 1 and {MAX_PAGE_SIZE}, got {n}")
            }
            ValidationError::TimeRange { start, end } => format!(
                "--start-time ({start}) must be before --end-time ({end}), as sent: to the millisecond"
            ),
            ValidationError::EmptyTag => "--tag must not be empty".to_owned(),
            ValidationError::UrlTooLong => {
                "the request would be longer than 64 KiB: shorten --tag".to_owned()
            }
            ValidationError::DescendingKeyset(key) => format!(
                "--since-id needs an ascending --ordering: with -{key}, chats added later come before the cursor and would be missed"
            ),
            other => format!("invalid filter: {other}"),
        })
    }

    /// Appends context after the message (`...; 12 chats written`).
    pub(crate) fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{}; {context}", self.message);
        self
    }

    /// The message, on one line.
    pub(crate) fn message(&self) -> String {
        one_line(&self.message)
    }

    /// Classifies an SDK error and says what to do about it; `org` names the organisation in
    /// 403 and 404 hints.
    pub(crate) fn from_giosg(e: &GiosgError, org: Option<Uuid>) -> Self {
        let attempts = e.attempts();
        let after = if attempts > 1 {
            format!(" after {attempts} attempts")
        } else {
            String::new()
        };
        let org = org.map_or_else(
            || "the organisation".to_owned(),
            |o| format!("organisation {o}"),
        );
        if let GiosgError::RetryAfterTooLong { asked, allowed, .. } = e {
            let (asked, allowed) = (asked.as_secs(), allowed.as_secs());
            // The status that carried the Retry-After: a 429, or a 503 in maintenance, say.
            let answered = match (e.status(), e.api()) {
                (Some(429), _) => "rate limited by the API (HTTP 429)".to_owned(),
                (Some(status), Some(api)) if api.kind == ApiErrorKind::Server => {
                    format!("the API failed (HTTP {status})")
                }
                (Some(status), _) => format!("the API answered HTTP {status}"),
                (None, _) => "the API".to_owned(),
            };
            return Self::new(
                Failure::Api,
                format!("{answered}: it asked to wait {asked} s before the next request (Retry-After), longer than the {allowed} s --max-wait allows: run again after that wait, or raise --max-wait to at least {asked}"),
            );
        }
        if let Some(api) = e.api() {
            let status = api.status;
            let detail = api
                .detail
                .as_deref()
                .map_or_else(String::new, |d| format!(": {d}"));
            let (failure, message) = match api.kind {
                ApiErrorKind::Unauthorized => (
                    Failure::Auth,
                    format!("the API refused the token (HTTP 401{detail}): check {TOKEN_ENV} or --token-file, and --bearer for an OAuth2 access token"),
                ),
                ApiErrorKind::Forbidden => (
                    Failure::Auth,
                    format!("the token may not read {org} (HTTP 403{detail}): check --org and the token's permissions"),
                ),
                ApiErrorKind::NotFound => (
                    Failure::Api,
                    format!("not found (HTTP 404{detail}): check the organisation id (--org) and --page"),
                ),
                ApiErrorKind::RateLimited => (
                    Failure::Api,
                    format!("rate limited by the API (HTTP 429){after}: wait a while, lower --concurrency, or raise --max-attempts"),
                ),
                ApiErrorKind::BadRequest => (
                    Failure::Api,
                    format!("the API refused the request: {api}: check the filter options"),
                ),
                ApiErrorKind::Server => (
                    Failure::Api,
                    format!("the API failed (HTTP {status}{detail}){after}: try again later"),
                ),
                _ => (
                    Failure::Api,
                    format!("unexpected answer: {api}{after}: check --base-url"),
                ),
            };
            return Self::new(failure, message);
        }
        match e.root() {
            GiosgError::Config(c) => match c {
                ConfigError::MissingToken | ConfigError::EmptyToken => Self::new(
                    Failure::Auth,
                    format!("no API token: set {TOKEN_ENV} or pass --token-file <PATH>"),
                ),
                ConfigError::TokenNotHeaderSafe => Self::new(
                    Failure::Auth,
                    "the API token holds characters that cannot be sent (a stray quote or non-ASCII?): check it",
                ),
                ConfigError::InsecureBaseUrl(url) => Self::usage(format!(
                    "--base-url must be https (plain http only for a loopback host): {url}"
                )),
                ConfigError::BaseUrl(_)
                | ConfigError::BaseUrlUserInfo
                | ConfigError::BaseUrlQuery(_) => Self::usage(format!("{c}: check --base-url")),
                other => Self::usage(other.to_string()),
            },
            GiosgError::Invalid(v) => Self::invalid(v),
            GiosgError::Transport(t) => match t.kind {
                TransportErrorKind::Timeout => {
                    let flag = match e.timeout() {
                        Some(TimeoutKind::Connect) => "--connect-timeout",
                        Some(TimeoutKind::Read) => "--read-timeout",
                        _ => "--timeout",
                    };
                    Self::new(
                        Failure::Network,
                        format!(
                            "network error{after} ({}): check the connection, or raise {flag}",
                            e.root().display_chain()
                        ),
                    )
                }
                _ => Self::new(
                    Failure::Network,
                    format!("network error{after} ({}): check --base-url and the connection", e.root().display_chain()),
                ),
            },
            GiosgError::BodyTooLarge { limit } => Self::new(
                Failure::BadResponse,
                format!("bad response: the body is larger than {limit} bytes"),
            ),
            other => Self::new(
                Failure::BadResponse,
                format!("bad response from the API{after}: {}", other.display_chain()),
            ),
        }
    }
}

impl CliError {
    /// A store failure on `db` (a file or a PostgreSQL database, its password masked):
    /// another listing's copy, an unproven one, a newer schema, a symbolic link or a location
    /// that cannot be used is a usage error (exit 2); a PostgreSQL server that cannot be
    /// reached or went away a network one (exit 5); anything else a local one (exit 1).
    pub(crate) fn store(db: &dyn fmt::Display, e: &giosg_sync::StoreError) -> Self {
        use giosg_sync::StoreError as E;
        let message = format!("{db}: {}", chain(e));
        match e {
            E::OtherListing { .. }
            | E::UnprovenListing { .. }
            | E::NewerSchema(_)
            | E::Symlink
            | E::Location(_) => Self::usage(message),
            E::Connection(_) => Self::new(Failure::Network, message),
            _ => Self::new(Failure::Local, message),
        }
    }

    /// A failure of a sync or an export (into `path`), classified by what failed.
    pub(crate) fn copy(e: &giosg_sync::Error, org: Uuid, path: &dyn fmt::Display) -> Self {
        use giosg_sync::Error as E;
        match e {
            E::Api(api) => Self::from_giosg(api, Some(org)),
            E::Stopped { source, done } => Self::from_giosg(source, Some(org)).context(format!(
                "{done} chats stored or written into {path} before it stopped; run the same command again to go on"
            )),
            E::Store(store) => Self::store(path, store),
            E::Refused { .. } | E::Unsupported(_) => Self::usage(chain(e)),
            E::File { path, source } => Self::io(path.display(), source),
            _ => Self::new(Failure::Local, chain(e)),
        }
    }
}

/// An error and its causes, `: `-separated.
fn chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// Folds a message onto one line of at most 400 characters, its control characters escaped
/// ([`giosg_async::printable`]): messages carry the server's text, and go to a terminal.
fn one_line(s: &str) -> String {
    let line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let line = giosg_async::printable(&line);
    match line.char_indices().nth(400) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_short_line() {
        let e = CliError::usage("a\nb\n\n  c");
        assert_eq!(e.message(), "a b c");
        let hostile = CliError::usage("\u{1b}]0;PWNED-TITLE\u{7}\u{1b}[2J");
        assert_eq!(hostile.message(), r"\u{1b}]0;PWNED-TITLE\u{7}\u{1b}[2J");
        let long = CliError::usage("x".repeat(1000));
        assert_eq!(long.message().chars().count(), 401);
    }

    #[test]
    fn refused_filters_name_their_flags() {
        let cases = [
            (ValidationError::Page(0), "--page must be at least 1, got 0"),
            (
                ValidationError::PageSize(101),
                "--page-size must be between 1 and 100, got 101",
            ),
            (ValidationError::EmptyTag, "--tag must not be empty"),
            (
                ValidationError::DescendingKeyset("start_time"),
                "--since-id needs an ascending --ordering",
            ),
        ];
        for (e, expected) in cases {
            let direct = CliError::invalid(&e);
            let through_the_sdk = CliError::from_giosg(&e.clone().into(), None);
            assert_eq!(direct.failure, Failure::Usage);
            assert!(
                direct.message().starts_with(expected),
                "{}",
                direct.message()
            );
            assert_eq!(through_the_sdk.message(), direct.message());
        }
    }

    #[test]
    fn missing_token_is_an_authentication_failure() {
        let e = CliError::from_giosg(&ConfigError::MissingToken.into(), None);
        assert_eq!(e.failure.code(), 3);
    }
}

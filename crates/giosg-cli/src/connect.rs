//! From the API flags to a client: base URL, the token (environment or file, never an
//! argument), the `Authorization` scheme and the retry policy.

use crate::args::ApiArgs;
use crate::error::{CliError, Failure};
use giosg_async::{Client, RetryPolicy};
use std::time::Duration;

/// The environment variable the token is read from when there is no `--token-file`.
pub const TOKEN_ENV: &str = "GIOSG_API_TOKEN";

/// The longest wait between two attempts, whatever the backoff says.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A client for these flags. Nothing is sent yet.
pub fn client(api: &ApiArgs) -> Result<Client, CliError> {
    let token = read_token(api)?;
    build(api, token)
}

/// A client for these flags with this token (the demo brings its own).
pub fn build(api: &ApiArgs, token: String) -> Result<Client, CliError> {
    let policy = RetryPolicy::default()
        .max_attempts(api.max_attempts)
        .backoff(Duration::from_millis(api.retry_delay_ms), MAX_BACKOFF)
        .max_total_wait(Duration::from_secs(api.max_wait));
    let builder = Client::builder()
        .base_url(api.base_url.as_str())
        .retry_policy(policy)
        .timeout(Duration::from_secs(api.timeout))
        .connect_timeout(Duration::from_secs(api.connect_timeout))
        .read_timeout(Duration::from_secs(api.read_timeout));
    let builder = if api.bearer {
        builder.bearer(token)
    } else {
        builder.token(token)
    };
    builder
        .build()
        .map_err(|e| CliError::from_giosg(&e, Some(api.org)))
}

/// The token from `--token-file` or `GIOSG_API_TOKEN`, trimmed of surrounding whitespace.
fn read_token(api: &ApiArgs) -> Result<String, CliError> {
    let token = match &api.token_file {
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            CliError::new(
                Failure::Auth,
                format!("cannot read the token file {}: {e}", path.display()),
            )
        })?,
        None => match std::env::var(TOKEN_ENV) {
            Ok(token) => token,
            Err(std::env::VarError::NotPresent) => {
                return Err(CliError::new(
                    Failure::Auth,
                    format!("no API token: set {TOKEN_ENV} or pass --token-file <PATH>"),
                ))
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(CliError::new(
                    Failure::Auth,
                    format!("{TOKEN_ENV} is not valid UTF-8: check it"),
                ))
            }
        },
    };
    let token = token.trim();
    if token.is_empty() {
        let source = api.token_file.as_ref().map_or_else(
            || TOKEN_ENV.to_owned(),
            |p| format!("the token file {}", p.display()),
        );
        return Err(CliError::new(
            Failure::Auth,
            format!("{source} is empty: put your giosg API token there"),
        ));
    }
    Ok(token.to_owned())
}

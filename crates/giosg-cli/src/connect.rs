//! From the API flags to a client: base URL, the token (environment or file, never an
//! argument), the `Authorization` scheme and the retry policy.

use crate::args::ApiArgs;
use crate::error::{CliError, Failure};
use giosg_async::{Client, ConfigError, Error, RetryPolicy, TOKEN_ENV};
use std::time::Duration;

/// The longest wait between two attempts, whatever the backoff says.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A client for these flags, with the token from `--token-file` or `GIOSG_API_TOKEN`. Nothing
/// is sent yet. What is a token (the whitespace around it is not) is the SDK's rule.
pub(crate) fn client(api: &ApiArgs) -> Result<Client, CliError> {
    let token = match &api.token_file {
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            CliError::new(
                Failure::Auth,
                format!("cannot read the token file {}: {e}", path.display()),
            )
        })?,
        None => giosg_async::token_from_env().map_err(|e| match e {
            ConfigError::TokenNotHeaderSafe => CliError::new(
                Failure::Auth,
                format!("{TOKEN_ENV} is not valid UTF-8: check it"),
            ),
            e => CliError::from_giosg(&e.into(), api.org),
        })?,
    };
    configure(api, token).map_err(|e| match e.root() {
        Error::Config(ConfigError::EmptyToken) => {
            let source = api.token_file.as_ref().map_or_else(
                || TOKEN_ENV.to_owned(),
                |p| format!("the token file {}", p.display()),
            );
            CliError::new(
                Failure::Auth,
                format!("{source} is empty: put your giosg API token there"),
            )
        }
        _ => CliError::from_giosg(&e, api.org),
    })
}

/// A client for these flags with this token (the demo brings its own).
pub(crate) fn build(api: &ApiArgs, token: String) -> Result<Client, CliError> {
    configure(api, token).map_err(|e| CliError::from_giosg(&e, api.org))
}

fn configure(api: &ApiArgs, token: String) -> Result<Client, Error> {
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
    builder.build()
}

/// The organisation: `--org` (or `GIOSG_ORG`), else the token's own user's
/// (`GET /api/v5/users/me`), said on stderr.
pub(crate) async fn org(api: &ApiArgs, client: &Client) -> Result<giosg_async::Uuid, CliError> {
    if let Some(org) = api.org {
        return Ok(org);
    }
    let me = client.me().await.map_err(|e| {
        CliError::from_giosg(&e, None)
            .context("--org was not given, and the token's own user (users/me) could not be read: give --org")
    })?;
    let org = me.organization_id.ok_or_else(|| {
        CliError::usage(
            "--org was not given, and the token's user names no organisation: give --org",
        )
    })?;
    eprintln!("giosg: --org not given: reading organisation {org}, the token's user's");
    Ok(org)
}

/// The copy `--db` and `--db-schema` name: a SQLite file, or a schema of a PostgreSQL
/// database (the store's rule: [`giosg_sync::Location::parse`]).
pub(crate) fn location(db: &str, schema: Option<&str>) -> Result<giosg_sync::Location, CliError> {
    let location = giosg_sync::Location::parse(db).map_err(|e| CliError::usage(e.to_string()))?;
    match schema {
        None => Ok(location),
        Some(name) => location
            .schema(name)
            .map_err(|e| CliError::usage(format!("--db-schema: {e}"))),
    }
}

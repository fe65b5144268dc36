//! Where a store is: a SQLite file's path, or a PostgreSQL URL and schema.

use crate::Error;
use std::fmt;
use std::path::{Path, PathBuf};

/// The schema a PostgreSQL copy is in unless another is named.
pub const DEFAULT_SCHEMA: &str = "giosg";

/// Where a store is: a SQLite file, or a schema of a PostgreSQL database.
///
/// [`Location::parse`] reads what a user writes: a `postgres://` or `postgresql://` URL
/// selects PostgreSQL (`postgres://user@host:port/dbname?sslmode=require`), anything else is a
/// SQLite file's path. A password may be in the URL or in `PGPASSWORD`; it appears in no
/// output: [`Display`](fmt::Display) and [`Debug`] show the URL with the password masked.
///
/// `sslmode` is `disable`, `prefer` (the default: TLS when the server offers it), `require`
/// (TLS, the server's certificate not checked, as libpq does without a root certificate) or
/// `verify-full` (TLS, the certificate checked against the web's root authorities and, with
/// `sslrootcert=FILE`, the PEM certificates in that file, and issued for the host connected
/// to). TLS is rustls: no OpenSSL.
///
/// ```
/// use giosg_store::Location;
///
/// let file = Location::parse("chats.db")?;
/// assert_eq!(file.to_string(), "chats.db");
/// let shared = Location::parse("postgres://analyst:s3cret@db.example:5432/support")?;
/// assert_eq!(shared.to_string(), "postgres://analyst:***@db.example:5432/support");
/// assert!(!format!("{shared:?}").contains("s3cret"));
/// assert!(Location::parse("chats.db")?.schema("reports").is_err());
/// # Ok::<(), giosg_store::Error>(())
/// ```
#[derive(Clone)]
pub struct Location {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    File(PathBuf),
    Postgres {
        /// The URL as given (it may hold a password: never shown).
        url: String,
        /// The URL with its password masked.
        shown: String,
        schema: String,
    },
}

/// What a location opens, once checked.
pub(crate) enum Target {
    File(PathBuf),
    #[cfg(feature = "postgres")]
    Postgres(Box<crate::postgres::Target>),
}

impl Location {
    /// Reads a location as a user writes it (see [`Location`]).
    pub fn parse(text: &str) -> Result<Location, Error> {
        let lower = text.get(..13).unwrap_or(text).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Ok(Location {
                inner: Inner::Postgres {
                    url: text.to_owned(),
                    shown: masked(text),
                    schema: DEFAULT_SCHEMA.to_owned(),
                },
            })
        } else if text.is_empty() {
            Err(Error::Location(
                "no database given: a file's path or a postgres:// URL".into(),
            ))
        } else {
            Ok(Location::from(Path::new(text)))
        }
    }

    /// The PostgreSQL schema the copy is in (default [`DEFAULT_SCHEMA`]): a plain identifier
    /// (letters, digits and `_`, not beginning with a digit, at most 63 bytes). A SQLite file
    /// has no schema to choose.
    pub fn schema(self, name: &str) -> Result<Location, Error> {
        match self.inner {
            Inner::File(_) => Err(Error::Location(
                "a schema applies to a PostgreSQL database only (a postgres:// URL)".into(),
            )),
            Inner::Postgres { url, shown, .. } => {
                let plain = !name.is_empty()
                    && name.len() <= 63
                    && !name.starts_with(|c: char| c.is_ascii_digit())
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !plain {
                    return Err(Error::Location(format!(
                        "the schema name {:?} is not a plain identifier (letters, digits and _, not beginning with a digit)",
                        giosg_query::printable(name)
                    )));
                }
                Ok(Location {
                    inner: Inner::Postgres {
                        url,
                        shown,
                        schema: name.to_owned(),
                    },
                })
            }
        }
    }

    /// The SQLite file's path, for a file.
    pub fn path(&self) -> Option<&Path> {
        match &self.inner {
            Inner::File(path) => Some(path),
            Inner::Postgres { .. } => None,
        }
    }

    /// Whether this is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        matches!(self.inner, Inner::Postgres { .. })
    }

    pub(crate) fn into_target(self) -> Result<Target, Error> {
        match self.inner {
            Inner::File(path) => Ok(Target::File(path)),
            #[cfg(feature = "postgres")]
            Inner::Postgres { url, schema, .. } => Ok(Target::Postgres(Box::new(
                crate::postgres::Target::new(&url, schema)?,
            ))),
            #[cfg(not(feature = "postgres"))]
            Inner::Postgres { .. } => Err(Error::Location(
                "this build of giosg-store has no PostgreSQL (its feature `postgres`)".into(),
            )),
        }
    }
}

impl std::str::FromStr for Location {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Location::parse(s)
    }
}

impl From<&Path> for Location {
    fn from(path: &Path) -> Self {
        Location {
            inner: Inner::File(path.to_owned()),
        }
    }
}

impl From<PathBuf> for Location {
    fn from(path: PathBuf) -> Self {
        Location {
            inner: Inner::File(path),
        }
    }
}

impl From<&PathBuf> for Location {
    fn from(path: &PathBuf) -> Self {
        Location::from(path.as_path())
    }
}

impl From<&Location> for Location {
    fn from(location: &Location) -> Self {
        location.clone()
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::File(path) => write!(f, "{}", path.display()),
            Inner::Postgres { shown, .. } => f.write_str(shown),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::File(path) => f.debug_tuple("File").field(path).finish(),
            Inner::Postgres { shown, schema, .. } => f
                .debug_struct("Postgres")
                .field("url", shown)
                .field("schema", schema)
                .finish(),
        }
    }
}

/// A PostgreSQL URL with the password masked: in the user information, and in a `password`
/// parameter.
pub(crate) fn masked(url: &str) -> String {
    let (before_query, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = match before_query.split_once("://") {
        // The user information ends at the last `@`: a password with `/` or `@` in it (not
        // percent-encoded) is masked whole all the same.
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
                None => format!("{scheme}://{userinfo}@{host}"),
            },
            None => before_query.to_owned(),
        },
        None => before_query.to_owned(),
    };
    if let Some(query) = query {
        out.push('?');
        let params: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_owned(),
            })
            .collect();
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_wherever_they_are_written() {
        for (url, shown) in [
            ("postgres://u:pw@h/db", "postgres://u:***@h/db"),
            (
                "postgresql://u:p@ss@h:5433/db?sslmode=require",
                "postgresql://u:***@h:5433/db?sslmode=require",
            ),
            (
                "postgres://u@h/db?password=pw&sslmode=disable",
                "postgres://u@h/db?password=***&sslmode=disable",
            ),
            ("postgres://h/db", "postgres://h/db"),
            ("postgres://u:@h", "postgres://u:***@h"),
            ("postgres://u:p/ss@h/db", "postgres://u:***@h/db"),
            ("postgres://u:p@s/s@h:1/db", "postgres://u:***@h:1/db"),
        ] {
            assert_eq!(masked(url), shown, "{url}");
        }
    }

    #[test]
    fn a_url_selects_postgresql_and_anything_else_is_a_file() {
        assert!(Location::parse("POSTGRES://h/db").unwrap().is_postgres());
        assert!(Location::parse("postgresql://h/db").unwrap().is_postgres());
        let file = Location::parse("postgres.db").unwrap();
        assert_eq!(file.path(), Some(Path::new("postgres.db")));
        assert!(Location::parse("").is_err());
    }

    #[test]
    fn a_schema_is_a_plain_identifier() {
        let url = || Location::parse("postgres://h/db").unwrap();
        assert!(url().schema("team_copy2").is_ok());
        for bad in [
            "",
            "2nd",
            "a-b",
            "a\"b",
            "x; DROP TABLE chats",
            &"a".repeat(64),
        ] {
            assert!(url().schema(bad).is_err(), "{bad}");
        }
    }
}

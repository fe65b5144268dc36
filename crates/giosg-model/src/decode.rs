//! Decoding with errors that say where.

use serde::{de::DeserializeOwned, Deserialize, Deserializer};
use std::fmt;

/// Reads `null` as the type's default, for collections and envelope numbers.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// How many bytes of the body around the error a [`DecodeError`] keeps.
const SNIPPET_RADIUS: usize = 32;

/// How many characters of serde's message a [`DecodeError`] keeps from each end: the message
/// quotes the offending value, which can be as long as the body.
const MESSAGE_END_KEPT: usize = 240;

/// A body that is not a valid page: broken JSON, or a value of the wrong kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    path: String,
    message: String,
    line: usize,
    column: usize,
    offset: usize,
    snippet: String,
    category: serde_json::error::Category,
}

impl DecodeError {
    /// The JSON path of the offending value, e.g. `results[3].shopping_carts[0].total_price`;
    /// `.` when the error is at the top level.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong, as serde says it; a long message (one quoting a huge value) keeps its
    /// first and last 240 characters around a `…`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// 1-based line of the error in the body.
    pub fn line(&self) -> usize {
        self.line
    }

    /// 1-based column of the error in its line.
    pub fn column(&self) -> usize {
        self.column
    }

    /// Byte offset of the error in the body.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Up to 64 bytes of the body around the error, lossily decoded and escaped.
    pub fn snippet(&self) -> &str {
        &self.snippet
    }

    /// Whether the body ended too early (a truncated response), rather than being wrong.
    pub fn is_eof(&self) -> bool {
        self.category == serde_json::error::Category::Eof
    }

    /// Whether the body is not JSON at all (syntax), rather than JSON of the wrong shape.
    pub fn is_syntax(&self) -> bool {
        self.category == serde_json::error::Category::Syntax
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid page at {}: {} (line {}, column {}, byte {}, near `{}`)",
            self.path, self.message, self.line, self.column, self.offset, self.snippet
        )
    }
}

impl std::error::Error for DecodeError {}

pub(crate) fn from_slice<T: DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    // The fast path decodes without tracking paths; only a failure pays for a second,
    // path-tracking pass to say where it failed. Checking UTF-8 once for the whole body is
    // cheaper than serde_json checking every string and key on its own (from_slice does).
    let decoded = match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    };
    decoded.map_err(|e| locate::<T>(body, e))
}

#[cold]
fn locate<T: DeserializeOwned>(body: &[u8], first: serde_json::Error) -> DecodeError {
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => {
            let path = e.path().to_string();
            DecodeError::new(body, path, e.into_inner())
        }
        Ok(_) => match de.end() {
            Err(e) => DecodeError::new(body, ".".to_owned(), e),
            // Only if the two passes disagreed: report the first pass's error, unlocated.
            Ok(()) => DecodeError::new(body, ".".to_owned(), first),
        },
    }
}

impl DecodeError {
    fn new(body: &[u8], path: String, inner: serde_json::Error) -> Self {
        let (line, column) = (inner.line(), inner.column());
        let offset = byte_offset(body, line, column);
        DecodeError {
            path,
            message: strip_position(&inner.to_string()),
            line,
            column,
            offset,
            snippet: snippet(body, offset),
            category: inner.classify(),
        }
    }
}

/// serde_json appends " at line L column C"; we report those as fields. A message longer
/// than twice [`MESSAGE_END_KEPT`] characters keeps both ends: what was found and what was
/// expected.
fn strip_position(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    let chars = message.chars().count();
    if chars <= 2 * MESSAGE_END_KEPT + 1 {
        return message.to_owned();
    }
    let head: String = message.chars().take(MESSAGE_END_KEPT).collect();
    let tail: String = message.chars().skip(chars - MESSAGE_END_KEPT).collect();
    format!("{head}…{tail}")
}

fn byte_offset(body: &[u8], line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        body.iter()
            .enumerate()
            .filter(|(_, &b)| b == b'\n')
            .nth(line - 2)
            .map_or(body.len(), |(i, _)| i + 1)
    };
    (line_start + column.saturating_sub(1)).min(body.len())
}

fn snippet(body: &[u8], offset: usize) -> String {
    let start = offset.saturating_sub(SNIPPET_RADIUS);
    let end = (offset + SNIPPET_RADIUS).min(body.len());
    String::from_utf8_lossy(&body[start..end])
        .escape_debug()
        .to_string()
}

#[cfg(test)]
mod tests {
    use crate::{Chat, Page};

    #[test]
    fn a_huge_offending_value_makes_a_bounded_message() {
        let body = format!(r#"{{"count": "{}", "results": []}}"#, "x".repeat(1 << 20));
        let err = Page::<Chat>::from_slice(body.as_bytes()).unwrap_err();
        assert_eq!(err.path(), "count");
        assert!(err.message().starts_with("invalid type: string \"xxx"));
        assert!(
            err.message().ends_with("xxx\", expected u64"),
            "{}",
            err.message()
        );
        assert_eq!(
            err.message().chars().count(),
            2 * super::MESSAGE_END_KEPT + 1
        );
        assert!(err.to_string().len() < 1024);
    }
}

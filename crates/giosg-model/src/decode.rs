//! Decoding with errors that say where, and within a memory budget.
//!
//! A page decoded by [`from_slice`] may hold at most [`BUDGET_PER_BODY_BYTE`] bytes of memory
//! for each byte of its body, plus [`BUDGET_BASE`], besides its strings (which take what their
//! text took in the body). Every list (the chats, their messages, tags, carts, products and
//! API data, and the arrays of members the model does not know) is charged its capacity
//! before it grows, and gives back what it did not use when it ends; every member the model
//! does not know is charged its map entry. A body whose decoded form would take more
//! (`{"x": [[],[],[],...]}`, where 3 bytes of JSON make a 32-byte value, or
//! `"logs": [{},{},...]`, where 3 bytes make a whole message) is refused with a
//! [`DecodeError`] ([`DecodeError::is_over_budget`]) before it is built.
//!
//! So a page of `n` bytes holds at most its strings (`n`) and `4 n + 16 MiB` more, decoded;
//! while a list grows (by half each time), its old buffer, two thirds of the new one at most,
//! lives beside it. Under the 32 MiB body cap that is about 270 MiB at the very worst besides
//! the body (and `--concurrency N` pages at once hold N times that), where real pages hold about
//! 1.8 bytes per byte of compact JSON (0.8 charged, and their strings).

use serde::{de, de::DeserializeOwned, Deserialize, Deserializer};
use std::cell::Cell;
use std::fmt;

/// The bytes of memory a decoded page may hold for each byte of its body, besides its strings
/// and [`BUDGET_BASE`]; real pages hold about 0.8.
pub const BUDGET_PER_BODY_BYTE: usize = 4;

/// The bytes of memory any decoded page may hold, whatever its body's size: room for a small
/// page's structs, each larger than its JSON (20,000 chats that hold only their id fit).
pub const BUDGET_BASE: usize = 16 << 20;

/// What a page being decoded may still take.
#[derive(Clone, Copy, Debug)]
struct Budget {
    /// Bytes left.
    left: usize,
    /// Bytes in all.
    all: usize,
    /// Whether a charge was refused.
    refused: bool,
}

thread_local! {
    /// The budget of the page being decoded on this thread; `None` outside [`from_slice`] (a
    /// chat decoded on its own is not charged).
    static BUDGET: Cell<Option<Budget>> = const { Cell::new(None) };
}

/// Charges `bytes` to the budget of the page being decoded on this thread: an error once the
/// budget is spent, nothing outside [`from_slice`].
pub(crate) fn charge<E: de::Error>(bytes: usize) -> Result<(), E> {
    BUDGET.with(|cell| {
        let Some(mut budget) = cell.get() else {
            return Ok(());
        };
        if bytes <= budget.left {
            budget.left -= bytes;
            cell.set(Some(budget));
            return Ok(());
        }
        budget.refused = true;
        cell.set(Some(budget));
        Err(E::custom(format_args!(
            "decoded, the page would take more memory than its budget of {} bytes ({BUDGET_PER_BODY_BYTE} per byte of the body, plus {BUDGET_BASE})",
            budget.all
        )))
    })
}

/// Gives `bytes` charged earlier back to the budget (capacity a list did not use).
fn refund(bytes: usize) {
    BUDGET.with(|cell| {
        if let Some(mut budget) = cell.get() {
            budget.left = budget.left.saturating_add(bytes).min(budget.all);
            cell.set(Some(budget));
        }
    });
}

/// Collects a sequence's elements (each taken by `next`) into a `Vec` whose capacity is charged
/// to the budget before it grows; the capacity left unused at the end is freed and given back.
pub(crate) fn collect_charged<'de, A, T>(
    mut seq: A,
    mut next: impl FnMut(&mut A) -> Result<Option<T>, A::Error>,
) -> Result<Vec<T>, A::Error>
where
    A: de::SeqAccess<'de>,
{
    let size = std::mem::size_of::<T>();
    let mut items: Vec<T> = Vec::new();
    while let Some(item) = next(&mut seq)? {
        if items.len() == items.capacity() {
            // Half as much again: the capacity charged stays within 1.5 times what is used.
            let more = (items.capacity() / 2).max(4);
            charge::<A::Error>(more.saturating_mul(size))?;
            items.reserve_exact(more);
        }
        items.push(item);
    }
    let unused = items.capacity() - items.len();
    items.shrink_to_fit();
    refund(unused.saturating_mul(size));
    Ok(items)
}

/// Reads a list, or `null` as an empty one, charging its capacity ([`collect_charged`]).
pub(crate) fn nullable_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct List<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> de::Visitor<'de> for List<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a sequence")
        }
        fn visit_none<E: de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
            d.deserialize_seq(self)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Vec<T>, A::Error> {
            collect_charged(seq, |seq| seq.next_element::<T>())
        }
    }
    d.deserialize_option(List(std::marker::PhantomData))
}

/// Sets the budget of a page of `body_len` bytes for the time it lives, then puts back the one
/// before.
struct BudgetScope(Option<Budget>);

impl BudgetScope {
    fn enter(body_len: usize) -> Self {
        let all = body_len
            .saturating_mul(BUDGET_PER_BODY_BYTE)
            .saturating_add(BUDGET_BASE);
        let budget = Budget {
            left: all,
            all,
            refused: false,
        };
        BudgetScope(BUDGET.with(|b| b.replace(Some(budget))))
    }

    /// Whether a charge was refused.
    fn refused(&self) -> bool {
        BUDGET.with(|b| b.get().is_some_and(|b| b.refused))
    }
}

impl Drop for BudgetScope {
    fn drop(&mut self) {
        BUDGET.with(|b| b.set(self.0));
    }
}

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
    over_budget: bool,
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

    /// Whether the page was refused because, decoded, it would take more memory than its
    /// budget ([`BUDGET_PER_BODY_BYTE`] per byte of the body, plus [`BUDGET_BASE`]).
    pub fn is_over_budget(&self) -> bool {
        self.over_budget
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
    let budget = BudgetScope::enter(body.len());
    let decoded = match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    };
    let over_budget = budget.refused();
    drop(budget);
    decoded.map_err(|e| {
        let mut e = locate::<T>(body, e);
        e.over_budget = over_budget;
        e
    })
}

#[cold]
fn locate<T: DeserializeOwned>(body: &[u8], first: serde_json::Error) -> DecodeError {
    // The same budget: a page refused for its memory fails here at the same place.
    let _budget = BudgetScope::enter(body.len());
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
            over_budget: false,
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

#[cfg(test)]
mod budget {
    use crate::{Chat, Page};

    /// A page of one chat whose member `name` is `value`, repeated until the body is about
    /// `bytes` long: `[v,v,...]`.
    fn page_of(name: &str, item: &str, bytes: usize) -> Vec<u8> {
        let items = vec![item; bytes / (item.len() + 1)].join(",");
        format!(
            r#"{{"count": 1, "results": [{{"id": "58f5055c-56e0-11e5-9354-6c4008c08dfe", "{name}": [{items}]}}]}}"#
        )
        .into_bytes()
    }

    #[test]
    fn pages_that_would_take_memory_out_of_proportion_are_refused() {
        for (name, item) in [
            ("x", "[]"),
            ("x", "{}"),
            ("x", "0"),
            ("logs", "{}"),
            ("tags", "{}"),
        ] {
            let body = page_of(name, item, 4 << 20);
            let e = Page::<Chat>::from_slice(&body).unwrap_err();
            assert!(e.is_over_budget(), "{name}: {item}: {e}");
            assert!(e.path().starts_with(&format!("results[0].{name}")), "{e}");
            assert!(e.message().contains("budget"), "{e}");
        }
    }

    #[test]
    fn pages_within_the_budget_decode_and_the_budget_ends_with_them() {
        // Unknown members and lists that take about what their text does.
        for (name, item) in [
            ("x", r#""some text of its own""#),
            (
                "logs",
                r#"{"message": "a message of some length, as real ones are"}"#,
            ),
        ] {
            let body = page_of(name, item, 4 << 20);
            let page = Page::<Chat>::from_slice(&body).unwrap();
            assert_eq!(page.results.len(), 1);
        }
        // Outside a page, nothing is charged.
        let body = page_of("x", "[]", 4 << 20);
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let chat: Chat = serde_json::from_value(value["results"][0].clone()).unwrap();
        assert!(chat.extra["x"].is_array());
    }
}

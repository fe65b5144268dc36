//! CSV output: one row per chat with its scalar fields and counts, or one row per message.
//!
//! The first column is always the chat's id, unquoted (a UUID never needs quotes).

use super::Encoder;
use giosg_model::{Chat, ChatLog, DateTime, MessageType, SenderType, Utc};
use std::io;

/// The columns of a row per chat.
pub const CHAT_COLUMNS: [&str; 23] = [
    "id",
    "start_time",
    "end_time",
    "updated_at",
    "room_id",
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
    "has_sales",
    "log_count",
    "tag_count",
    "api_data_count",
    "shopping_cart_count",
];

/// The columns of a row per message (`--csv-logs`).
pub const LOG_COLUMNS: [&str; 10] = [
    "chat_id",
    "chat_start_time",
    "room_id",
    "log_index",
    "created_at",
    "sender_type",
    "sender_id",
    "type",
    "display_name",
    "message",
];

/// Rows per chat, or per message with `logs`.
#[derive(Debug, Clone, Copy)]
pub struct CsvEncoder {
    /// A row per message instead of per chat.
    logs: bool,
}

impl CsvEncoder {
    /// A row per chat, or per message when `logs`.
    pub fn new(logs: bool) -> Self {
        CsvEncoder { logs }
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
        if self.logs {
            write_rows(
                out,
                chat.logs
                    .iter()
                    .enumerate()
                    .map(|(i, log)| log_row(chat, i, log)),
            )
        } else {
            write_rows(out, [chat_row(chat)])
        }
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

/// The purchased carts' totals per currency: `83.00 EUR; 12.50 SEK`.
pub fn sales_total(chat: &Chat) -> String {
    chat.sales_totals()
        .iter()
        .map(|(currency, total)| format!("{total} {currency}"))
        .collect::<Vec<_>>()
        .join("; ")
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
fn chat_row(chat: &Chat) -> Vec<String> {
    vec![
        chat.id.to_string(),
        time(chat.start_time),
        time(chat.end_time),
        time(chat.updated_at),
        opt(chat.room_id),
        opt(chat.is_private),
        opt(chat.is_real_conversation),
        opt(chat.is_autosuggested),
        opt(chat.operator_message_count),
        opt(chat.visitor_message_count),
        opt(chat.message_count),
        opt(chat.start_url.as_deref()),
        opt(chat.start_url_title.as_deref()),
        opt(chat.autosuggest_url.as_deref()),
        opt(chat.autosuggest_url_title.as_deref()),
        opt(chat.token.as_deref()),
        tag_names(chat),
        sales_total(chat),
        chat.has_sales().to_string(),
        chat.logs.len().to_string(),
        chat.tags.len().to_string(),
        chat.api_data.len().to_string(),
        chat.shopping_carts.len().to_string(),
    ]
}

/// `operator`, `visitor`, or an unknown code as a number.
fn sender(t: Option<SenderType>) -> String {
    match t {
        Some(SenderType::Operator) => "operator".to_owned(),
        Some(SenderType::Visitor) => "visitor".to_owned(),
        // Unknown codes, and kinds a later version names, as their number.
        Some(other) => i64::from(other).to_string(),
        None => String::new(),
    }
}

/// `message`, `autosuggest`, or an unknown code as a number.
fn message_type(t: Option<MessageType>) -> String {
    match t {
        Some(MessageType::Message) => "message".to_owned(),
        Some(MessageType::Autosuggest) => "autosuggest".to_owned(),
        Some(other) => i64::from(other).to_string(),
        None => String::new(),
    }
}

/// The row of one message of a chat.
fn log_row(chat: &Chat, index: usize, log: &ChatLog) -> Vec<String> {
    vec![
        chat.id.to_string(),
        time(chat.start_time),
        opt(chat.room_id),
        index.to_string(),
        time(log.created_at),
        sender(log.sender_type),
        opt(log.sender_id.as_deref()),
        message_type(log.message_type),
        opt(log.display_name.as_deref()),
        opt(log.message.as_deref()),
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
    fn a_chat_without_messages_has_no_log_rows() {
        let mut out = Vec::new();
        CsvEncoder::new(true)
            .chat(&Chat::new(Uuid::from_u128(1)), &mut out)
            .unwrap();
        assert!(out.is_empty());
    }
}

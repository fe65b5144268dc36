//! The formats an export writes, each an [`Encoder`] that turns chats into whole records
//! (lines, or CSV rows), so that an export appends each chat in one write and a torn tail can
//! be cut at a record's end.

mod csv;

pub use self::csv::{
    neutralised, room_names, sales_total, tag_names, CsvEncoder, RoomNames, CHAT_COLUMNS,
    LOG_COLUMNS,
};

use giosg_model::Chat;
use std::io;

/// An export file's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// One chat per line, as the API's JSON object (unknown members included).
    Jsonl,
    /// A header, then one row per chat: its scalar fields and counts.
    Csv,
    /// A header, then one row per message.
    CsvLogs,
}

impl Format {
    /// The name an export's state records: `jsonl`, `csv` or `csv-logs`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::CsvLogs => "csv-logs",
        }
    }

    /// Its encoder; `csv_raw` writes CSV text cells as the API sent them (see
    /// [`CsvEncoder::raw`]), `rooms` names the rooms in CSV's `room_name`.
    pub fn encoder(self, csv_raw: bool, rooms: RoomNames) -> Box<dyn Encoder + Send> {
        match self {
            Format::Jsonl => Box::new(JsonlEncoder),
            Format::Csv => Box::new(CsvEncoder::new(false).raw(csv_raw).rooms(rooms)),
            Format::CsvLogs => Box::new(CsvEncoder::new(true).raw(csv_raw).rooms(rooms)),
        }
    }

    /// Whether its records name rooms (CSV's `room_name`).
    pub fn names_rooms(self) -> bool {
        self != Format::Jsonl
    }
}

/// Turns a sequence of chats into bytes: what goes before the first, each chat, and what goes
/// after the last.
pub trait Encoder {
    /// Appends what comes before the first chat (a CSV header, say).
    fn begin(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        let _ = out;
        Ok(())
    }

    /// Appends one chat; the export formats append whole records ending with a newline.
    fn chat(&mut self, chat: &Chat, out: &mut Vec<u8>) -> io::Result<()>;

    /// Appends what comes after the last chat (a closing bracket, a footer).
    fn end(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        let _ = out;
        Ok(())
    }
}

/// One chat per line, as a JSON object: the API's field names, times in UTC with `Z`, money as
/// decimal strings, members the model does not know as they came.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonlEncoder;

impl Encoder for JsonlEncoder {
    fn chat(&mut self, chat: &Chat, out: &mut Vec<u8>) -> io::Result<()> {
        serde_json::to_writer(&mut *out, chat)?;
        out.push(b'\n');
        Ok(())
    }
}

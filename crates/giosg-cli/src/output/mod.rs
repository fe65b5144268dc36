//! Output formats of `list`: each is an [`Encoder`] that turns chats into bytes, so that chats
//! stream to stdout as they arrive. The line formats an export writes too (jsonl, csv) are the
//! copy library's ([`giosg_sync::format`]); the JSON array and the table are for reading.

mod json;
mod table;
mod terminal;

pub(crate) use self::json::JsonArrayEncoder;
pub(crate) use self::table::TableEncoder;
pub(crate) use self::terminal::TerminalText;
pub(crate) use giosg_sync::format::Encoder;

use crate::args::Format;
use giosg_async::Chat;
use giosg_sync::format::{CsvEncoder, JsonlEncoder, RoomNames};
use std::io::{self, Write};

/// What the CSV format writes: a row per message (`--csv-logs`), and text cells as they came
/// (`--csv-raw`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CsvOptions {
    /// A row per message instead of per chat.
    pub logs: bool,
    /// Text cells as the API sent them, formulas included.
    pub raw: bool,
}

/// The encoder for a `list` format; the table and CSV name rooms by `rooms`.
pub(crate) fn encoder(format: Format, csv: CsvOptions, rooms: RoomNames) -> Box<dyn Encoder> {
    match format {
        Format::Jsonl => Box::new(JsonlEncoder),
        Format::Json => Box::new(JsonArrayEncoder::default()),
        Format::Csv => Box::new(CsvEncoder::new(csv.logs).raw(csv.raw).rooms(rooms)),
        Format::Table => Box::new(TableEncoder::new(rooms)),
    }
}

/// Streams chats through an [`Encoder`] into a writer, one write per chat.
pub(crate) struct ChatWriter<W: Write> {
    /// The format.
    encoder: Box<dyn Encoder>,
    /// Where the bytes go.
    out: W,
    /// One chat's bytes, reused.
    buf: Vec<u8>,
}

impl<W: Write> ChatWriter<W> {
    /// Starts the output (writes the encoder's beginning).
    pub(crate) fn new(mut encoder: Box<dyn Encoder>, mut out: W) -> io::Result<Self> {
        let mut buf = Vec::new();
        encoder.begin(&mut buf)?;
        out.write_all(&buf)?;
        Ok(ChatWriter { encoder, out, buf })
    }

    /// Writes one chat.
    pub(crate) fn write(&mut self, chat: &Chat) -> io::Result<()> {
        self.buf.clear();
        self.encoder.chat(chat, &mut self.buf)?;
        self.out.write_all(&self.buf)
    }

    /// Writes the encoder's end and flushes.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        self.buf.clear();
        self.encoder.end(&mut self.buf)?;
        self.out.write_all(&self.buf)?;
        self.out.flush()
    }

    /// Flushes what was written so far, without the end (after a failure).
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

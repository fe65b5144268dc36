//! A table to skim in a terminal: start, room, messages, tags, sales total.
//!
//! Columns have fixed widths so that rows stream out as chats arrive; long tag lists are cut
//! with `…`. Times are UTC; a room is its name (cut to the column), or the first 8 hex digits of
//! its id when its name is not known. Names, tags and currencies are the API's text: their
//! control characters are escaped ([`printable`]).

use super::Encoder;
use giosg_async::{printable, Chat};
use giosg_sync::format::{sales_total, tag_names, RoomNames};
use std::io::{self, Write};

/// The width of the tags column.
const TAGS_WIDTH: usize = 28;
/// The width of the room column.
const ROOM_WIDTH: usize = 20;

/// Rows of a fixed-width table, a header first and a count last.
#[derive(Debug, Default, Clone)]
pub(crate) struct TableEncoder {
    /// Rows written, for the footer.
    rows: u64,
    /// Rooms' names by id.
    rooms: RoomNames,
}

impl TableEncoder {
    /// A table naming rooms by `rooms`.
    pub(crate) fn new(rooms: RoomNames) -> Self {
        TableEncoder { rows: 0, rooms }
    }
}

impl Encoder for TableEncoder {
    fn begin(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        writeln!(
            out,
            "{:<16}  {:<ROOM_WIDTH$}  {:>8}  {:<TAGS_WIDTH$}  SALES",
            "START (UTC)", "ROOM", "MESSAGES", "TAGS"
        )
    }

    fn chat(&mut self, chat: &Chat, out: &mut Vec<u8>) -> io::Result<()> {
        self.rows += 1;
        let start = chat.start_time.map_or_else(
            || "-".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M").to_string(),
        );
        let room = chat.room_id.map_or_else(
            || "-".to_owned(),
            |r| match self.rooms.get(&r) {
                Some(name) => cut(&printable(name), ROOM_WIDTH),
                None => r.simple().to_string()[..8].to_owned(),
            },
        );
        let messages = chat
            .message_count
            .map_or_else(|| "-".to_owned(), |n| n.to_string());
        // Text from the API, its control characters escaped before it is measured.
        let tags = cut(&printable(&tag_names(chat)), TAGS_WIDTH);
        let sales = printable(&sales_total(chat)?).into_owned();
        let line = format!(
            "{start:<16}  {room:<ROOM_WIDTH$}  {messages:>8}  {tags:<TAGS_WIDTH$}  {sales}"
        );
        writeln!(out, "{}", line.trim_end())
    }

    fn end(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        let s = if self.rows == 1 { "" } else { "s" };
        writeln!(out, "({} chat{s})", self.rows)
    }
}

/// `s` cut to `width` characters, the last one `…` when something was cut.
fn cut(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    let mut cut: String = s.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_to_the_width() {
        assert_eq!(cut("short", 8), "short");
        assert_eq!(cut("päivä+1; Premium", 8), "päivä+1…");
        assert_eq!(cut("päivä+1; Premium", 8).chars().count(), 8);
    }
}

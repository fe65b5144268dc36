//! JSON array output: the API's field names, times in UTC with `Z`, money as
//! decimal strings (the model's serialisation).

use super::Encoder;
use giosg_async::Chat;
use std::io;

/// One JSON array, streamed: `[`, one chat per line separated by commas, `]`.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct JsonArrayEncoder {
    /// Whether a chat was written (the next one needs a comma).
    written: bool,
}

impl Encoder for JsonArrayEncoder {
    fn begin(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        out.push(b'[');
        Ok(())
    }

    fn chat(&mut self, chat: &Chat, out: &mut Vec<u8>) -> io::Result<()> {
        out.extend_from_slice(if self.written { b",\n" } else { b"\n" });
        self.written = true;
        serde_json::to_writer(&mut *out, chat)?;
        Ok(())
    }

    fn end(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        out.extend_from_slice(if self.written { b"\n]\n" } else { b"]\n" });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use giosg_async::Uuid;

    #[test]
    fn an_empty_array_is_valid_json() {
        let mut e = JsonArrayEncoder::default();
        let mut out = Vec::new();
        e.begin(&mut out).unwrap();
        e.end(&mut out).unwrap();
        assert_eq!(out, b"[]\n");
    }

    #[test]
    fn an_array_of_chats_is_valid_json() {
        let mut e = JsonArrayEncoder::default();
        let mut out = Vec::new();
        e.begin(&mut out).unwrap();
        for n in 1..=3 {
            e.chat(&Chat::new(Uuid::from_u128(n)), &mut out).unwrap();
        }
        e.end(&mut out).unwrap();
        let chats: Vec<Chat> = serde_json::from_slice(&out).unwrap();
        assert_eq!(chats.len(), 3);
    }
}

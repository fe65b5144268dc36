//! What `list` writes to a terminal: any format, with the control characters of the API's
//! text escaped ([`giosg_async::printable`]) but the line ends that separate records.
//!
//! JSON escapes only C0 controls and CSV none, so a message holding `ESC ] 0 ; title BEL` or a
//! C1 `CSI` would otherwise reach the terminal raw. Output to a file or a pipe is not wrapped:
//! there the data is written exactly.

use std::io::{self, Write};

/// A writer that escapes control characters but `\n` in what passes through it.
///
/// Each write must hold whole UTF-8 characters, as [`super::ChatWriter`]'s writes of whole
/// chats do; a character split between two writes is shown as `U+FFFD`.
#[derive(Debug)]
pub(crate) struct TerminalText<W: Write> {
    /// Where the escaped text goes.
    inner: W,
}

impl<W: Write> TerminalText<W> {
    /// Escapes what is written before it reaches `inner`.
    pub(crate) fn new(inner: W) -> Self {
        TerminalText { inner }
    }
}

impl<W: Write> Write for TerminalText<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                self.inner.write_all(b"\n")?;
            }
            self.inner
                .write_all(giosg_async::printable(line).as_bytes())?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_but_line_ends_are_escaped() {
        let mut out = TerminalText::new(Vec::new());
        out.write_all("a,\"\u{1b}]0;PWNED\u{7}\"\n{\"m\":\"\u{9b}2J\"}\n".as_bytes())
            .unwrap();
        assert_eq!(
            String::from_utf8(out.inner).unwrap(),
            "a,\"\\u{1b}]0;PWNED\\u{7}\"\n{\"m\":\"\\u{9b}2J\"}\n"
        );
    }
}

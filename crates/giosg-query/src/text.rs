//! Text from the API, made safe to print: the one rule for every string a server sent that
//! reaches a terminal or a log.
//!
//! A terminal obeys control characters: `ESC ] 0 ; title BEL` retitles the window,
//! `ESC [ 2 J` clears it, and other sequences move the cursor, rewrite earlier lines or, in
//! some terminals, write files. A server (or anyone who can type into a chat) chooses the
//! text of error details, tags and currencies, so that text is printed with its control
//! characters escaped.

use std::borrow::Cow;

/// `text` with every control character (Unicode's `Cc`: C0, DEL and C1, which include ESC,
/// BEL, CSI and the line breaks) escaped as Rust writes it in a string literal: ESC becomes
/// `\u{1b}`, a newline `\n`, a tab `\t`. Every other character is kept, so the result is the
/// text as sent when it had none (then nothing is copied).
///
/// ```
/// use giosg_query::printable;
/// assert_eq!(printable("\u{1b}]0;PWNED\u{7}\u{1b}[2J"), r"\u{1b}]0;PWNED\u{7}\u{1b}[2J");
/// assert_eq!(printable("Päivä 24 €"), "Päivä 24 €");
/// ```
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn every_control_character_is_escaped_and_nothing_else() {
        for c in ('\0'..='\u{a0}').chain(['\u{2028}', '€', 'ä']) {
            let text = c.to_string();
            let shown = printable(&text);
            assert!(!shown.chars().any(char::is_control), "{c:?}: {shown:?}");
            if c.is_control() {
                assert!(shown.starts_with('\\'), "{c:?}: {shown:?}");
            } else {
                assert_eq!(shown, text);
            }
        }
        assert_eq!(printable("a\nb\tc\r"), r"a\nb\tc\r");
        assert_eq!(printable("\u{9b}31m"), r"\u{9b}31m");
        assert_eq!(printable("\u{7f}"), r"\u{7f}");
    }

    #[test]
    fn escaping_twice_changes_nothing() {
        let once = printable("\u{1b}[2J").into_owned();
        assert_eq!(printable(&once), once);
    }
}

//! Where an export file resumes: the chat in its last complete record, and the torn bytes
//! after it, which are cut.
//!
//! JSON Lines: a record is a line (JSON strings escape newlines), read backwards from the end
//! without reading the whole file. CSV: a quoted field may hold newlines, so the file is
//! scanned forwards once, tracking quotes, to find where records end; the first column is the
//! chat id. With one row per message a chat spans several records, and a torn write may end
//! exactly between two of them, so the last chat's rows are always cut and fetched again.

use giosg_async::Uuid;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

/// How records are laid out in the file.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Layout<'a> {
    /// One JSON object per line, with an `id`.
    Jsonl,
    /// A header line, then rows whose first column is the chat id.
    Csv {
        /// The exact header line, newline included.
        header: &'a [u8],
        /// Several rows per chat (one per message).
        per_message: bool,
    },
}

/// Where to continue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResumePoint {
    /// The bytes to keep; the rest is cut.
    pub keep: u64,
    /// The last chat kept: the export continues after it.
    pub cursor: Option<Uuid>,
    /// Whether the kept bytes begin with the CSV header.
    pub has_header: bool,
}

impl ResumePoint {
    /// Nothing to keep: start from the beginning.
    const EMPTY: ResumePoint = ResumePoint {
        keep: 0,
        cursor: None,
        has_header: false,
    };
}

/// Why a file cannot be resumed.
#[derive(Debug)]
pub(crate) enum ResumeError {
    /// Reading failed.
    Io(io::Error),
    /// The file holds something else than this format's export.
    Foreign(String),
}

impl From<io::Error> for ResumeError {
    fn from(e: io::Error) -> Self {
        ResumeError::Io(e)
    }
}

/// Finds the resume point of a file of `len` bytes.
pub(crate) fn inspect<R: Read + Seek>(
    file: &mut R,
    len: u64,
    layout: Layout<'_>,
) -> Result<ResumePoint, ResumeError> {
    match layout {
        Layout::Jsonl => jsonl(file, len),
        Layout::Csv {
            header,
            per_message,
        } => csv(file, header, per_message),
    }
}

/// How much is read at once.
const CHUNK: u64 = 64 * 1024;

/// The position of the last `\n` before `before`, reading backwards in chunks.
fn rfind_newline<R: Read + Seek>(file: &mut R, before: u64) -> io::Result<Option<u64>> {
    let mut end = before;
    let mut buf = vec![0u8; CHUNK as usize];
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(Some(start + i as u64));
        }
        end = start;
    }
    Ok(None)
}

#[derive(serde::Deserialize)]
/// The one field of an exported chat that resuming needs.
struct IdOnly {
    /// The chat's id.
    id: Uuid,
}

/// The resume point of a JSON Lines file: after its last complete line.
fn jsonl<R: Read + Seek>(file: &mut R, len: u64) -> Result<ResumePoint, ResumeError> {
    let Some(end) = rfind_newline(file, len)? else {
        return Ok(ResumePoint::EMPTY);
    };
    let start = rfind_newline(file, end)?.map_or(0, |i| i + 1);
    let mut line = vec![0u8; (end - start) as usize];
    file.seek(SeekFrom::Start(start))?;
    file.read_exact(&mut line)?;
    let chat: IdOnly = serde_json::from_slice(&line).map_err(|e| {
        ResumeError::Foreign(format!(
            "its last complete line is not a chat in JSON ({e})"
        ))
    })?;
    Ok(ResumePoint {
        keep: end + 1,
        cursor: Some(chat.id),
        has_header: false,
    })
}

/// The chat id at the start of a CSV record: 36 characters, then a comma or the end.
fn record_id(head: &[u8]) -> Option<Uuid> {
    let id = head.get(..36)?;
    matches!(head.get(36), Some(b',' | b'\n'))
        .then(|| Uuid::try_parse_ascii(id).ok())
        .flatten()
}

/// The resume point of a CSV file: after its last complete record, or before the last
/// chat's rows when there is a row per message.
fn csv<R: Read + Seek>(
    file: &mut R,
    header: &[u8],
    per_message: bool,
) -> Result<ResumePoint, ResumeError> {
    file.seek(SeekFrom::Start(0))?;
    let mut reader = BufReader::with_capacity(CHUNK as usize, file);
    // The first bytes of the record being read: enough for the header or an id.
    let keep_head = header.len().max(37);
    let mut head: Vec<u8> = Vec::with_capacity(keep_head);
    let (mut pos, mut record_start, mut records) = (0u64, 0u64, 0u64);
    let mut in_quotes = false;
    let mut last_end = 0u64;
    let mut last_id: Option<Uuid> = None;
    let mut block_start = 0u64;
    let mut previous_id: Option<Uuid> = None;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len();
        for &b in buf {
            if head.len() < keep_head {
                head.push(b);
            }
            pos += 1;
            match b {
                b'"' => in_quotes = !in_quotes,
                b'\n' if !in_quotes => {
                    if records == 0 {
                        if head != header {
                            return Err(ResumeError::Foreign(
                                "its first line is not the header of this --format".to_owned(),
                            ));
                        }
                    } else {
                        let id = record_id(&head).ok_or_else(|| {
                            ResumeError::Foreign(format!(
                                "record {} does not start with a chat id",
                                records + 1
                            ))
                        })?;
                        if last_id != Some(id) {
                            previous_id = last_id;
                            block_start = record_start;
                        }
                        last_id = Some(id);
                    }
                    records += 1;
                    last_end = pos;
                    record_start = pos;
                    head.clear();
                }
                _ => {}
            }
        }
        reader.consume(n);
    }
    Ok(match (records, last_id) {
        (0, _) => ResumePoint::EMPTY,
        (_, Some(_)) if per_message => ResumePoint {
            keep: block_start,
            cursor: previous_id,
            has_header: true,
        },
        (_, cursor) => ResumePoint {
            keep: last_end,
            cursor,
            has_header: true,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    const A: &str = "00000000-0000-0000-0000-00000000000a";
    const B: &str = "00000000-0000-0000-0000-00000000000b";
    const C: &str = "00000000-0000-0000-0000-00000000000c";

    fn id(s: &str) -> Option<Uuid> {
        Some(Uuid::parse_str(s).unwrap())
    }

    fn at(text: &str, layout: Layout<'_>) -> Result<ResumePoint, ResumeError> {
        inspect(&mut Cursor::new(text.as_bytes()), text.len() as u64, layout)
    }

    fn point(keep: usize, cursor: Option<Uuid>, has_header: bool) -> ResumePoint {
        ResumePoint {
            keep: keep as u64,
            cursor,
            has_header,
        }
    }

    #[test]
    fn jsonl_resumes_after_the_last_complete_line() {
        let a = format!("{{\"id\":\"{A}\"}}\n");
        let b = format!("{{\"id\":\"{B}\",\"x\":1}}\n");
        let ab = format!("{a}{b}");
        assert_eq!(at("", Layout::Jsonl).unwrap(), point(0, None, false));
        assert_eq!(
            at("{\"id\":", Layout::Jsonl).unwrap(),
            point(0, None, false)
        );
        assert_eq!(at(&a, Layout::Jsonl).unwrap(), point(a.len(), id(A), false));
        assert_eq!(
            at(&ab, Layout::Jsonl).unwrap(),
            point(ab.len(), id(B), false)
        );
        let torn = format!("{ab}{{\"id\":\"{C}\",\"lo");
        assert_eq!(
            at(&torn, Layout::Jsonl).unwrap(),
            point(ab.len(), id(B), false)
        );
    }

    #[test]
    fn jsonl_lines_longer_than_a_chunk_are_found() {
        let long = format!("{{\"id\":\"{A}\",\"pad\":\"{}\"}}\n", "x".repeat(200_000));
        let text = format!("{long}{long}torn");
        assert_eq!(
            at(&text, Layout::Jsonl).unwrap(),
            point(2 * long.len(), id(A), false)
        );
    }

    #[test]
    fn jsonl_refuses_a_file_that_is_not_an_export() {
        assert!(matches!(
            at("hello\n", Layout::Jsonl),
            Err(ResumeError::Foreign(_))
        ));
    }

    #[test]
    fn csv_resumes_after_the_last_complete_row_even_with_newlines_in_fields() {
        let header = b"id,message\n";
        let layout = Layout::Csv {
            header,
            per_message: false,
        };
        let rows = format!("id,message\n{A},\"two\nlines\"\n{B},plain\n");
        assert_eq!(at(&rows, layout).unwrap(), point(rows.len(), id(B), true));
        // Torn inside a quoted field, right after an embedded newline.
        let torn = format!("{rows}{C},\"half\n");
        assert_eq!(at(&torn, layout).unwrap(), point(rows.len(), id(B), true));
        assert_eq!(at("id,mess", layout).unwrap(), point(0, None, false));
        assert_eq!(at("id,message\n", layout).unwrap(), point(11, None, true));
        assert!(matches!(
            at("other,header\n", layout),
            Err(ResumeError::Foreign(_))
        ));
        assert!(matches!(
            at("id,message\nnot-an-id,x\n", layout),
            Err(ResumeError::Foreign(_))
        ));
    }

    #[test]
    fn csv_per_message_cuts_the_last_chat_whole() {
        let header = b"chat_id,message\n";
        let layout = Layout::Csv {
            header,
            per_message: true,
        };
        let head = "chat_id,message\n";
        let a = format!("{A},hi\n{A},\"there\nyou\"\n");
        let b = format!("{B},one\n{B},two\n");
        let text = format!("{head}{a}{b}");
        assert_eq!(
            at(&text, layout).unwrap(),
            point(head.len() + a.len(), id(A), true)
        );
        let only_a = format!("{head}{a}");
        assert_eq!(at(&only_a, layout).unwrap(), point(head.len(), None, true));
        let torn = format!("{head}{a}{B},one\n{B},tw");
        assert_eq!(
            at(&torn, layout).unwrap(),
            point(head.len() + a.len(), id(A), true)
        );
    }
}

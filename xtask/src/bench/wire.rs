//! `cargo xtask bench`, part 6: bytes on the wire per chat. Every page of a listing (100 chats
//! a page) fetched from an in-process `giosg-mock` that gzips when asked, once without
//! `Accept-Encoding` (what the clients sent before) and once with `Accept-Encoding: gzip` (what
//! they send now), over a raw HTTP/1.1 socket that counts every byte read: status line, headers
//! and body.

use super::report::Report;
use super::{step, Config, SEED};
use std::io::{Read, Write};
use std::net::TcpStream;

/// What one listing cost on the wire.
pub(super) struct Wire {
    /// Chats listed.
    pub chats: usize,
    /// Bytes read without compression.
    pub plain: u64,
    /// Bytes read with `Accept-Encoding: gzip`.
    pub gzip: u64,
}

/// Lists `n` chats of `generate(seed, n)` both ways.
pub(super) fn measure(seed: u64, n: usize) -> Result<Wire, String> {
    let mock = giosg_mock::MockServer::builder()
        .generated(seed, n)
        .gzip(true)
        .start()
        .map_err(|e| format!("giosg-mock: {e}"))?;
    let pages = n.div_ceil(100);
    let mut plain = 0;
    let mut gzip = 0;
    for page in 1..=pages {
        plain += fetch(&mock, page, false)?;
        gzip += fetch(&mock, page, true)?;
    }
    Ok(Wire {
        chats: n,
        plain,
        gzip,
    })
}

/// Part 6: bytes on the wire per chat, gzipped against plain, over every page of a listing.
pub(super) fn section(config: &Config, report: &mut Report) -> Result<(), String> {
    let n = if config.quick { 2_000 } else { 10_000 };
    let w = measure(SEED, n)?;
    let per = |bytes: u64| bytes as f64 / w.chats as f64;
    step(&format!(
        "  {n} chats: {:.0} B/chat gzipped, {:.0} B/chat plain",
        per(w.gzip),
        per(w.plain)
    ));
    report.row(
        format!("bytes on the wire per chat ({n} chats, 100 a page): gzip vs plain"),
        format!("{:.0} B", per(w.gzip)),
        format!("{:.0} B", per(w.plain)),
        format!("{:.1}x smaller", w.plain as f64 / w.gzip as f64),
        "–",
        None,
    );
    report.notes.push(format!(
        "Wire: every page of `generate({SEED}, {n})`, 100 chats a page, from an in-process \
         giosg-mock that gzips when asked (as giosg's servers do), over a raw HTTP/1.1 socket \
         counting every byte of each response (status line, headers, body): once with \
         `Accept-Encoding: gzip`, as both clients send it now, once without, as they did before."
    ));
    Ok(())
}

/// One page over a fresh connection; the bytes the response took.
fn fetch(mock: &giosg_mock::MockServer, page: usize, gzip: bool) -> Result<u64, String> {
    let addr = mock.addr();
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("{addr}: {e}"))?;
    let accept = if gzip {
        "Accept-Encoding: gzip\r\n"
    } else {
        ""
    };
    let request = format!(
        "GET /api/v5/orgs/{}/chats?page={page}&page_size=100 HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Token {}\r\nAccept: application/json\r\n{accept}Connection: close\r\n\r\n",
        mock.org(),
        mock.token()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("{addr}: {e}"))?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| format!("{addr}: {e}"))?;
    let head = String::from_utf8_lossy(&response[..response.len().min(512)]).to_lowercase();
    if !head.starts_with("http/1.1 200") {
        return Err(format!(
            "page {page}: {}",
            head.lines().next().unwrap_or("")
        ));
    }
    if gzip != head.contains("content-encoding: gzip") {
        return Err(format!(
            "page {page}: gzip {gzip}, but the answer says otherwise"
        ));
    }
    Ok(response.len() as u64)
}

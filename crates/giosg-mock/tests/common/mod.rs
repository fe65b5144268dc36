//! Helpers shared by the integration tests: a tiny HTTP client over real loopback sockets.
#![allow(dead_code)]

use giosg_mock::MockServer;
use giosg_model::{Chat, Page};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A safety net so that a broken server fails a test instead of hanging it; never waited on.
const SAFETY_TIMEOUT: Duration = Duration::from_secs(60);

/// A response read with ureq.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    pub(crate) fn page(&self) -> Page<Chat> {
        assert_eq!(self.status, 200, "{}", self.body);
        Page::from_slice(self.body.as_bytes()).unwrap()
    }
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(SAFETY_TIMEOUT))
        .build()
        .into()
}

/// Percent-encodes query pairs.
pub(crate) fn query(params: &[(&str, &str)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// GET `url` with this `Authorization` header value, if any.
pub(crate) fn get_url(url: &str, authorization: Option<&str>) -> Reply {
    let mut req = agent().get(url);
    if let Some(a) = authorization {
        req = req.header("Authorization", a);
    }
    let mut resp = req.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    Reply {
        status: resp.status().as_u16(),
        headers,
        body: resp.body_mut().read_to_string().unwrap(),
    }
}

/// GET the server's chats endpoint with these parameters and its token.
pub(crate) fn get(server: &MockServer, params: &[(&str, &str)]) -> Reply {
    let q = query(params);
    let url = if q.is_empty() {
        server.chats_url()
    } else {
        format!("{}?{q}", server.chats_url())
    };
    get_url(&url, Some(&format!("Token {}", server.token())))
}

/// The page of chats for these parameters.
pub(crate) fn page(server: &MockServer, params: &[(&str, &str)]) -> Page<Chat> {
    get(server, params).page()
}

/// The ids of a page's chats as u128, to compare with hand-built ids.
pub(crate) fn ids(page: &Page<Chat>) -> Vec<u128> {
    page.results.iter().map(|c| c.id.as_u128()).collect()
}

/// Sends a raw request and reads everything until the server closes the connection (or
/// resets it).
pub(crate) fn raw_exchange(addr: SocketAddr, request: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(SAFETY_TIMEOUT)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => panic!("server hung"),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => panic!("server hung"),
            Err(_) => break,
        }
    }
    out
}

/// A `Connection: close` GET of the server's chats endpoint, with its token.
pub(crate) fn raw_get_request(server: &MockServer, query: &str) -> String {
    let path = server.chats_url().replace(&server.base_url(), "");
    let sep = if query.is_empty() { "" } else { "?" };
    format!(
        "GET {path}{sep}{query} HTTP/1.1\r\nHost: {}\r\nAuthorization: Token {}\r\nConnection: close\r\n\r\n",
        server.addr(),
        server.token()
    )
}

/// Splits raw response bytes into (status, lower-case headers, body).
pub(crate) fn split_response(bytes: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = std::str::from_utf8(&bytes[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    (status, headers, bytes[end + 4..].to_vec())
}

pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

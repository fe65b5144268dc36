//! What a user of `giosg-blocking` alone can do: everything below imports from this crate only
//! (`giosg-mock` is only the server on the other end). Errors, the model, the re-exported
//! types, `build_with` over a closure and over a transport of one's own, timeouts, gzip.

use giosg_blocking::{
    http, time, token_from_env, ApiData, ApiError, ApiErrorKind, CartProduct, Chat, ChatFilter,
    ChatIter, ChatLog, Chats, Client, ClientBuilder, Completeness, ConfigError, Credentials,
    DateTime, Decimal, DecodeError, EachChat, Error, ErrorKind, Listing, MessageType, OrderBy,
    Page, Pages, PagingError, RetryPolicy, SenderType, ShoppingCart, SortField, SortKey, Tag, Tail,
    TailIter, TimeoutKind, Transport, TransportError, TransportErrorKind, TransportSettings, Utc,
    Uuid, ValidationError, MAX_PAGE_SIZE, TOKEN_ENV,
};
use std::sync::Mutex;
use std::time::Duration;

const ORG: &str = "7f9e9580-095b-42c7-838c-c04e667b26f7";
const TOKEN: &str = "s3cret-facade-token";

fn org() -> Uuid {
    Uuid::parse_str(ORG).unwrap()
}

fn answer(status: u16, retry_after: Option<&str>, body: &str) -> http::Response<Vec<u8>> {
    let mut b = http::Response::builder().status(status);
    if let Some(v) = retry_after {
        b = b.header("Retry-After", v);
    }
    b.body(body.as_bytes().to_vec()).unwrap()
}

const ONE_CHAT: &str = r#"{"count": 1, "num_pages": 1, "current_page": 1,
    "results": [{"id": "58f5055c-56e0-11e5-9354-6c4008c08dfe", "start_time": "2015-02-13T11:31:36.042"}]}"#;

/// A transport of one's own: scripted answers, waits recorded instead of slept.
struct Scripted {
    answers: Mutex<Vec<Result<http::Response<Vec<u8>>, TransportError>>>,
    waits: Mutex<Vec<Duration>>,
}

impl Scripted {
    fn new(mut answers: Vec<Result<http::Response<Vec<u8>>, TransportError>>) -> Self {
        answers.reverse();
        Scripted {
            answers: Mutex::new(answers),
            waits: Mutex::new(Vec::new()),
        }
    }
}

impl Transport for Scripted {
    fn send(
        &self,
        _request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self.answers.lock().unwrap().pop().expect("an answer left")
    }
    fn sleep(&self, duration: Duration) {
        self.waits.lock().unwrap().push(duration);
    }
}

#[test]
#[allow(clippy::type_complexity)]
fn every_name_a_user_needs_is_here() {
    // The model and its parts, by name.
    let filter: ChatFilter = ChatFilter::new()
        .tag("Premium")
        .ordering(OrderBy::desc(SortField::StartTime));
    let _: fn(&SortKey) = |_| ();
    let _: Option<(ChatLog, Tag, ShoppingCart, CartProduct, ApiData)> = None;
    let _: Option<(SenderType, MessageType, Decimal, Completeness)> = None;
    let _: Option<(
        Pages<Scripted>,
        ChatIter<Scripted>,
        TailIter<Scripted>,
        Chats<Scripted>,
    )> = None;
    // What those are: the listing types the blocking and the async client share.
    let _: Option<(
        Listing<Client>,
        EachChat<Pages<Scripted>>,
        Tail<Pages<Scripted>>,
    )> = None;
    let _: Option<ClientBuilder<Client>> = None;
    let _: Option<(ApiError, ApiErrorKind, ConfigError, ValidationError)> = None;
    let _: Option<(PagingError, DecodeError, TransportErrorKind, TimeoutKind)> = None;
    let when: DateTime<Utc> = time::parse("2025-01-01T00:00:00+02:00").unwrap();
    assert_eq!(time::format(&when), "2024-12-31T22:00:00.000Z");
    let _ = filter;
    let settings = TransportSettings::default();
    assert_eq!(settings.connect_timeout, Duration::from_secs(10));
    assert_eq!(settings.read_timeout, Duration::from_secs(30));
    assert_eq!(settings.timeout, Duration::from_secs(120));
    let _ = Credentials::token(TOKEN);
    // The API's rules a caller checks against, and where the token comes from.
    assert_eq!(MAX_PAGE_SIZE, 100);
    assert_eq!(TOKEN_ENV, "GIOSG_API_TOKEN");
    let _: fn() -> Result<String, ConfigError> = token_from_env;
}

#[test]
fn build_with_takes_a_closure() {
    let transport =
        |req: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
            assert_eq!(req.headers()["authorization"], format!("Token {TOKEN}"));
            Ok(answer(200, None, ONE_CHAT))
        };
    let client = Client::builder()
        .token(TOKEN)
        .build_with(transport)
        .unwrap();
    let chats: Vec<Chat> = client
        .chats(org())
        .iter()
        .collect::<Result<_, Error>>()
        .unwrap();
    assert_eq!(chats.len(), 1);
    let page: Page<Chat> = client.chats(org()).first_page().unwrap();
    assert_eq!(page.count, 1);
}

#[test]
fn errors_answer_through_the_retries() {
    let transport = Scripted::new(vec![
        Ok(answer(503, None, "")),
        Ok(answer(503, None, "")),
        Ok(answer(503, None, r#"{"detail": "Down for maintenance."}"#)),
    ]);
    let client = Client::builder()
        .token(TOKEN)
        .retry_policy(RetryPolicy::default().max_attempts(3))
        .jitter(|| 0.5)
        .build_with(transport)
        .unwrap();
    let e: Error = client.chats(org()).first_page().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server);
    assert_eq!(e.status(), Some(503));
    assert!(e.is_retryable());
    assert_eq!(e.attempts(), 3);
    assert_eq!(e.retry_after(), None);
    assert_eq!(e.api().map(|a| a.kind), Some(ApiErrorKind::Server));
    assert_eq!(client.transport().waits.lock().unwrap().len(), 2);
    // Display says its own part; the cause is the source, printed once by a chain.
    assert_eq!(
        e.to_string(),
        format!("gave up after 3 attempts ({} waiting)", "750ms")
    );
    let source = std::error::Error::source(&e).unwrap().to_string();
    assert!(!e.to_string().contains(&source));
    assert_eq!(
        e.display_chain(),
        format!("{e}: giosg API answered 503 Service Unavailable: Down for maintenance.")
    );
    assert!(!format!("{e:?}{}", e.display_chain()).contains(TOKEN));
}

#[test]
fn a_retry_after_longer_than_the_policy_allows_fails_at_once() {
    let transport = Scripted::new(vec![Ok(answer(
        429,
        Some("86400"),
        r#"{"detail": "Request was throttled."}"#,
    ))]);
    let client = Client::builder()
        .token(TOKEN)
        .build_with(transport)
        .unwrap();
    let e = client.chats(org()).first_page().unwrap_err();
    assert!(matches!(e, Error::RetryAfterTooLong { .. }), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(86400)));
    assert_eq!(e.attempts(), 1);
    assert!(e.to_string().contains("24h"), "{e}");
    assert!(client.transport().waits.lock().unwrap().is_empty());
}

#[test]
fn refusals_before_sending_and_a_body_too_large_say_what_they_are() {
    let never = |_: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
        Err(TransportError::new(
            TransportErrorKind::Other,
            "nothing is sent",
        ))
    };
    let e = Client::builder()
        .token(TOKEN)
        .user_agent("my-app/1.0\n")
        .build_with(never)
        .err()
        .expect("refused");
    assert!(
        matches!(e, Error::Config(ConfigError::UserAgent(ref ua)) if ua == "my-app/1.0\n"),
        "{e:?}"
    );
    assert_eq!(e.kind(), ErrorKind::Config);
    // Whitespace around a token is not sent.
    let client = Client::builder()
        .token(format!("{TOKEN}\n"))
        .build_with(
            |req: http::Request<Vec<u8>>| -> Result<http::Response<Vec<u8>>, TransportError> {
                assert_eq!(req.headers()["authorization"], format!("Token {TOKEN}"));
                Ok(answer(200, None, ONE_CHAT))
            },
        )
        .unwrap();
    assert_eq!(client.chats(org()).first_page().unwrap().count, 1);
    let e = client
        .chats(org())
        .filter(ChatFilter::new().page_size(MAX_PAGE_SIZE + 1))
        .first_page()
        .unwrap_err();
    assert!(
        matches!(e, Error::Invalid(ValidationError::PageSize(101))),
        "{e:?}"
    );

    let transport = Scripted::new(vec![Err(TransportError::body_too_large(
        1024,
        "said so by its Content-Length",
    ))]);
    let client = Client::builder()
        .token(TOKEN)
        .build_with(transport)
        .unwrap();
    let e = client.chats(org()).first_page().unwrap_err();
    assert!(matches!(e, Error::BodyTooLarge { limit: 1024 }), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::BadResponse);
    assert_eq!(e.attempts(), 1);
}

#[test]
fn dns_and_refused_connections_are_connect() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for base in [
        format!("http://127.0.0.1:{port}"),
        "http://giosg-facade-test.invalid".to_owned(),
    ] {
        let client = Client::builder()
            .base_url(&base)
            .allow_insecure_http(true)
            .token(TOKEN)
            .retry_policy(RetryPolicy::never())
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let e = client.chats(org()).first_page().unwrap_err();
        // A resolver that does not answer at all is a connect timeout instead.
        let connect = e.kind() == ErrorKind::Connect
            || (e.kind() == ErrorKind::Timeout && e.timeout() == Some(TimeoutKind::Connect));
        assert!(connect, "{base}: {e:?}");
        assert!(!e.display_chain().contains(TOKEN));
    }
}

#[test]
fn a_gzipped_listing_from_the_mock() {
    let mock = giosg_mock::MockServer::builder()
        .generated(9, 60)
        .gzip(true)
        .start()
        .unwrap();
    let client = Client::builder()
        .base_url(mock.base_url())
        .token(mock.token())
        .build()
        .unwrap();
    let mut sync = client
        .chats(mock.org())
        .filter(ChatFilter::new().page_size(25))
        .tail(None);
    let got: Vec<Chat> = sync.by_ref().collect::<Result<_, _>>().unwrap();
    assert_eq!(got.len(), 60);
    assert_eq!(sync.cursor(), got.last().map(|c| c.id));
    assert_eq!(sync.dropped(), 0);
    assert!(mock.requests().iter().all(|r| r
        .headers
        .iter()
        .any(|(n, v)| n == "accept-encoding" && v.contains("gzip"))));
}

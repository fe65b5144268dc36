//! Requests: URLs for a matrix of filters (snapshots), validation, headers, secrets.

use giosg_model::{time, ChatFilter, OrderBy, SortField, Uuid};
use giosg_query::{query, BaseUrl, ConfigError, Credentials, Endpoint, ValidationError};
use proptest::prelude::*;

const ORG: Uuid = Uuid::from_u128(0x7f9e9580_095b_42c7_838c_c04e667b26f7);
const ROOM: Uuid = Uuid::from_u128(0x9926bdfa_56e0_11e5_b98c_6c4008c08dfe);
const TOKEN: &str = "sup3r-s3cret-t0ken";

fn endpoint() -> Endpoint {
    Endpoint::new("https://service.giosg.com", Credentials::token(TOKEN)).unwrap()
}

fn t(s: &str) -> giosg_model::DateTime<giosg_model::Utc> {
    time::parse(s).unwrap()
}

#[test]
fn urls_for_a_matrix_of_filters() {
    let filters: Vec<(&str, ChatFilter)> = vec![
        ("default", ChatFilter::new()),
        (
            "ordering desc",
            ChatFilter::new().ordering(OrderBy::desc(SortField::StartTime)),
        ),
        (
            "ordering several",
            ChatFilter::new()
                .ordering(OrderBy::asc(SortField::EndTime).then_desc(SortField::StartTime)),
        ),
        ("page and size", ChatFilter::new().page(3).page_size(100)),
        ("since_id", ChatFilter::new().since_id(ROOM)),
        (
            "times with offsets",
            ChatFilter::new()
                .start_time(t("2015-02-13T13:31:36.042+02:00"))
                .end_time(t("2015-02-14T00:00:00-05:00")),
        ),
        (
            "sub-millisecond start rounds up",
            ChatFilter::new().start_time(t("2015-02-13T11:31:36.0421Z")),
        ),
        (
            "booleans",
            ChatFilter::new()
                .has_sales(true)
                .is_real_conversation(false),
        ),
        ("room", ChatFilter::new().room_id(ROOM)),
        (
            "tag with specials",
            ChatFilter::new().tag("VIP & friends=1+1 ?#/%"),
        ),
        ("tag injection", ChatFilter::new().tag("x&page_size=1000")),
        ("tag unicode", ChatFilter::new().tag("päivä 🎉")),
        (
            "min_message_count zero",
            ChatFilter::new().min_message_count(0),
        ),
        ("only_ended", ChatFilter::new().only_ended(true)),
        (
            "only_ended false is left out",
            ChatFilter::new().only_ended(false),
        ),
        (
            "everything",
            ChatFilter::new()
                .ordering(OrderBy::desc(SortField::EndTime))
                .page(2)
                .page_size(10)
                .since_id(ROOM)
                .start_time(t("2020-01-01T00:00:00Z"))
                .end_time(t("2020-02-01T00:00:00Z"))
                .has_sales(false)
                .is_real_conversation(true)
                .room_id(ROOM)
                .tag("Premium")
                .min_message_count(3)
                .only_ended(true),
        ),
    ];
    let endpoint = endpoint();
    let urls: Vec<String> = filters
        .iter()
        .map(|(name, f)| {
            let list = endpoint.chats(ORG, f).unwrap();
            format!(
                "{name}: {}",
                list.page_request(f.page.map_or(1, u64::from)).request.uri()
            )
        })
        .collect();
    insta::assert_snapshot!(urls.join("\n"));
}

#[test]
fn base_url_path_prefix_is_kept() {
    let e = Endpoint::new(
        "https://proxy.example.com/giosg/",
        Credentials::bearer(TOKEN),
    )
    .unwrap();
    let req = e
        .chats(ORG, &ChatFilter::new())
        .unwrap()
        .page_request(1)
        .request;
    assert_eq!(
        req.uri(),
        "https://proxy.example.com/giosg/api/v5/orgs/7f9e9580-095b-42c7-838c-c04e667b26f7/chats?page=1"
    );
}

#[test]
fn headers() {
    for (credentials, scheme) in [
        (Credentials::token(TOKEN), "Token"),
        (Credentials::bearer(TOKEN), "Bearer"),
    ] {
        let e = Endpoint::new("https://service.giosg.com", credentials).unwrap();
        let req = e
            .chats(ORG, &ChatFilter::new())
            .unwrap()
            .page_request(1)
            .request;
        assert_eq!(req.method(), http::Method::GET);
        let auth = &req.headers()[http::header::AUTHORIZATION];
        assert_eq!(auth.to_str().unwrap(), format!("{scheme} {TOKEN}"));
        assert!(auth.is_sensitive());
        assert_eq!(req.headers()[http::header::ACCEPT], "application/json");
        assert!(req.headers()[http::header::USER_AGENT]
            .to_str()
            .unwrap()
            .starts_with("giosg-rs/"));
    }
}

#[test]
fn the_token_is_never_printed() {
    let e = endpoint();
    let list = e.chats(ORG, &ChatFilter::new()).unwrap();
    let req = list.page_request(1);
    let printed = format!(
        "{e:?} {list:?} {req:?} {:?} {}",
        Credentials::token(TOKEN),
        Credentials::bearer(TOKEN)
    );
    assert!(!printed.contains(TOKEN), "{printed}");
    assert!(printed.contains("[redacted]"));
}

#[test]
fn every_error_message() {
    let e = endpoint();
    let mut lines = Vec::new();
    let bad_filters = [
        ChatFilter::new().page(0),
        ChatFilter::new().page_size(0),
        ChatFilter::new().page_size(101),
        ChatFilter::new()
            .start_time(t("2020-01-02T00:00:00Z"))
            .end_time(t("2020-01-01T00:00:00Z")),
        ChatFilter::new()
            .start_time(t("2020-01-01T00:00:00Z"))
            .end_time(t("2020-01-01T00:00:00Z")),
        ChatFilter::new().tag(""),
    ];
    for f in &bad_filters {
        lines.push(e.chats(ORG, f).unwrap_err().to_string());
    }
    for extra in ["page_size", "token", ""] {
        let err = e
            .chats_with_extra(
                ORG,
                &ChatFilter::new(),
                vec![(extra.to_owned(), "1".to_owned())],
            )
            .unwrap_err();
        lines.push(err.to_string());
    }
    for q in [
        "page=abc",
        "page_size=-1",
        "since_id=42",
        "start_time=yesterday",
        "has_sales=yes",
        "only_ended=false",
        "ordering=name",
        "ordering=start_time,start_time",
        "ordering=",
        "tag=a&tag=b",
    ] {
        lines.push(format!("{q}: {}", query::decode(q).unwrap_err()));
    }
    for base in [
        "not a url",
        "http://service.giosg.com",
        "ftp://service.giosg.com",
        "https://user:pw@service.giosg.com",
        "https://service.giosg.com/?x=1",
        "https://service.giosg.com/#top",
    ] {
        lines.push(format!("{base}: {}", BaseUrl::parse(base).unwrap_err()));
    }
    lines.push(
        Endpoint::new("https://a.example", Credentials::token(""))
            .unwrap_err()
            .to_string(),
    );
    lines.push(
        Endpoint::new("https://a.example", Credentials::token("a\nb"))
            .unwrap_err()
            .to_string(),
    );
    lines.push(ConfigError::MissingToken.to_string());
    lines.push(
        endpoint()
            .set_user_agent("bad\nagent")
            .unwrap_err()
            .to_string(),
    );
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn a_url_too_long_for_a_request_is_refused_before_sending() {
    let huge = "x".repeat(70_000);
    let err = endpoint()
        .chats(ORG, &ChatFilter::new().tag(huge.clone()))
        .unwrap_err();
    assert_eq!(err, ValidationError::UrlTooLong);
    let err = endpoint()
        .chats_with_extra(ORG, &ChatFilter::new(), vec![("x".into(), huge)])
        .unwrap_err();
    assert_eq!(err, ValidationError::UrlTooLong);
}

#[test]
fn times_at_the_end_of_the_range_do_not_panic_and_are_refused() {
    // The API's time format holds years 1 to 9999: beyond, a typed error before sending
    // (the server answered such a query 400).
    let max = giosg_model::DateTime::<giosg_model::Utc>::MAX_UTC;
    let min = giosg_model::DateTime::<giosg_model::Utc>::MIN_UTC;
    for filter in [
        ChatFilter::new().end_time(max),
        ChatFilter::new().start_time(min).end_time(max),
    ] {
        assert!(matches!(
            endpoint().chats(ORG, &filter),
            Err(ValidationError::Malformed { .. })
        ));
    }
}

#[test]
fn secrets_in_a_base_url_are_not_echoed() {
    for url in [
        "http://user:s3cret@api.example",
        "https://service.giosg.com/?token=s3cret",
        "https://service.giosg.com/#s3cret",
        "ftp://host/?token=s3cret",
        "s3cret",
    ] {
        let err = BaseUrl::parse(url).unwrap_err().to_string();
        assert!(!err.contains("s3cret"), "{url}: {err}");
    }
}

#[test]
fn tokens_must_be_printable_ascii() {
    for bad in ["p\u{e4}ivä", "tab\there", "new\nline", "nul\0"] {
        assert_eq!(
            Endpoint::new("https://a.example", Credentials::token(bad)).unwrap_err(),
            ConfigError::TokenNotHeaderSafe,
            "{bad:?}"
        );
    }
    assert!(Endpoint::new("https://a.example", Credentials::bearer("a.b-c_d~e+/=")).is_ok());
}

#[test]
fn whitespace_around_a_token_is_not_sent() {
    for text in ["t0ken\n", "t0ken\r\n", "  t0ken \n\n", "\tt0ken"] {
        let endpoint = Endpoint::new("https://a.example", Credentials::token(text)).unwrap();
        let request = endpoint
            .chats(ORG, &ChatFilter::new())
            .unwrap()
            .page_request(1)
            .request;
        assert_eq!(
            request.headers()["authorization"],
            "Token t0ken",
            "{text:?}"
        );
    }
    for empty in ["", " \n", "\r\n"] {
        assert_eq!(
            Endpoint::new("https://a.example", Credentials::bearer(empty)).unwrap_err(),
            ConfigError::EmptyToken,
            "{empty:?}"
        );
    }
}

#[test]
fn a_user_agent_a_header_cannot_carry_is_its_own_error() {
    let mut endpoint = endpoint();
    assert_eq!(
        endpoint.set_user_agent("my-app/1.0\r\nX-Injected: 1"),
        Err(ConfigError::UserAgent(
            "my-app/1.0\r\nX-Injected: 1".to_owned()
        ))
    );
    endpoint.set_user_agent("my-app/1.0").unwrap();
    let request = endpoint
        .chats(ORG, &ChatFilter::new())
        .unwrap()
        .page_request(1)
        .request;
    assert_eq!(request.headers()["user-agent"], "my-app/1.0");
}

#[test]
fn plain_http_only_for_loopback_or_opt_in() {
    for ok in [
        "http://127.0.0.1:9000",
        "http://127.3.2.1",
        "http://[::1]:80",
        "http://localhost:1/",
    ] {
        assert!(BaseUrl::parse(ok).is_ok(), "{ok}");
    }
    assert!(matches!(
        BaseUrl::parse("http://10.0.0.1"),
        Err(ConfigError::InsecureBaseUrl(_))
    ));
    assert!(BaseUrl::parse_allowing_http("http://10.0.0.1").is_ok());
}

#[test]
fn extra_parameters_go_after_the_typed_ones() {
    let list = endpoint()
        .chats_with_extra(
            ORG,
            &ChatFilter::new().tag("a"),
            vec![("include".into(), "x y".into())],
        )
        .unwrap();
    assert_eq!(list.page_url(2).query(), Some("page=2&tag=a&include=x+y"));
    assert_eq!(
        endpoint()
            .chats(ORG, &ChatFilter::new().page(0))
            .unwrap_err(),
        ValidationError::Page(0)
    );
}

fn arb_filter() -> impl Strategy<Value = ChatFilter> {
    let ms = || {
        proptest::option::of(
            (0i64..253_402_300_799_999)
                .prop_map(|ms| giosg_model::DateTime::from_timestamp_millis(ms).unwrap()),
        )
    };
    let ordering = proptest::option::of(
        proptest::sample::subsequence(vec![SortField::StartTime, SortField::EndTime], 1..=2)
            .prop_flat_map(|fields| (Just(fields), proptest::collection::vec(any::<bool>(), 2)))
            .prop_map(|(fields, desc)| {
                let key = |i: usize| (fields[i], desc[i]);
                let (f0, d0) = key(0);
                let mut o = if d0 {
                    OrderBy::desc(f0)
                } else {
                    OrderBy::asc(f0)
                };
                if fields.len() > 1 {
                    let (f1, d1) = key(1);
                    o = if d1 { o.then_desc(f1) } else { o.then_asc(f1) };
                }
                o
            }),
    );
    (
        (
            ordering,
            proptest::option::of(1u32..),
            proptest::option::of(1u32..=100),
            proptest::option::of(any::<u128>()),
        ),
        (
            ms(),
            ms(),
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
        ),
        (
            proptest::option::of(any::<u128>()),
            proptest::option::of(".+"),
            proptest::option::of(any::<u32>()),
            any::<bool>(),
        ),
    )
        .prop_filter_map("start before end", |(a, b, c)| {
            let mut f = ChatFilter::new();
            f.ordering = a.0;
            f.page = a.1;
            f.page_size = a.2;
            f.since_id = a.3.map(Uuid::from_u128);
            f.start_time = b.0;
            f.end_time = b.1;
            f.has_sales = b.2;
            f.is_real_conversation = b.3;
            f.room_id = c.0.map(Uuid::from_u128);
            f.tag = c.1;
            f.min_message_count = c.2;
            f.only_ended = c.3;
            query::validate(&f).is_ok().then_some(f)
        })
}

proptest! {
    #[test]
    fn a_built_query_decodes_to_the_same_filter(filter in arb_filter()) {
        let list = endpoint().chats(ORG, &filter).unwrap();
        let page = filter.page.map_or(1, u64::from);
        let url = list.page_url(page);
        let mut back = query::decode(url.query().unwrap()).unwrap();
        if filter.page.is_none() {
            prop_assert_eq!(back.page, Some(1));
            back.page = None;
        }
        prop_assert_eq!(back, filter);
    }

    #[test]
    fn no_tag_can_inject_a_parameter(tag in ".+") {
        let list = endpoint().chats(ORG, &ChatFilter::new().tag(tag.clone())).unwrap();
        let url = list.page_url(1);
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        prop_assert_eq!(pairs, vec![("page".to_owned(), "1".to_owned()), ("tag".to_owned(), tag)]);
    }
}

#[test]
fn times_outside_the_api_format_are_refused_before_sending() {
    use giosg_model::{DateTime, Utc};
    for t in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
        let filter = giosg_model::ChatFilter::new().start_time(t);
        let err = giosg_query::query::validate(&filter).unwrap_err();
        assert!(err.to_string().contains("start_time"), "{err}");
    }
    let ok = giosg_model::time::parse("9999-12-31T23:59:59.999Z").unwrap();
    assert!(giosg_query::query::validate(&giosg_model::ChatFilter::new().end_time(ok)).is_ok());
}

//! Cursor paging, deterministically against scripted answers: a listing to its end, `next`
//! followed as it is, a loop, a repeated `next`, a foreign origin, empty pages with a `next`,
//! and giosg's 404 for a cursor that does not decode.

use giosg_model::{CursorPage, Room, User, Uuid};
use giosg_query::{
    decode_cursor_page, ApiErrorKind, Credentials, CursorPager, Endpoint, Error, PagingError,
    RoomQuery, UserQuery, MAX_EMPTY_PAGES,
};

const BASE: &str = "https://service.giosg.com";

fn endpoint() -> Endpoint {
    Endpoint::new(BASE, Credentials::token("t0ken")).unwrap()
}

fn org() -> Uuid {
    Uuid::from_u128(7)
}

fn rooms(n: u128, next: Option<&str>) -> CursorPage<Room> {
    let mut page = CursorPage::last((0..n).map(|i| Room::new(Uuid::from_u128(i + 1))).collect());
    page.next = next.map(str::to_owned);
    page
}

fn pager() -> CursorPager {
    CursorPager::new(
        &endpoint(),
        endpoint().rooms_url(org(), &RoomQuery::default()),
    )
}

#[test]
fn the_first_urls_carry_the_documented_parameters_and_the_token() {
    let e = endpoint();
    let mut q = RoomQuery::default();
    q.include_deleted = true;
    q.is_shared = Some(false);
    q.newest_first = true;
    assert_eq!(
        e.rooms_url(org(), &q).as_str(),
        format!(
            "{BASE}/api/v5/orgs/{}/rooms?ordering=-created_at&include_deleted=true&is_shared=false",
            org()
        )
    );
    let mut u = UserQuery::default();
    u.include_deleted = true;
    assert_eq!(
        e.users_url(org(), &u).as_str(),
        format!("{BASE}/api/v5/orgs/{}/users?include_deleted=true", org())
    );
    assert_eq!(e.me_url().as_str(), format!("{BASE}/api/v5/users/me"));
    let request = pager().next_request().unwrap();
    assert_eq!(request.headers()["authorization"], "Token t0ken");
    assert!(request.uri().query().is_none(), "no page size is ever sent");
}

#[test]
fn next_is_followed_as_it_is_to_the_end() {
    let mut p = pager();
    // Another path on the same origin is followed (giosg's examples drop a segment).
    let next = format!("{BASE}/api/v5/elsewhere?cursor=cD0yMDE1&ordering=-created_at");
    assert_eq!(p.accept(rooms(3, Some(&next))).unwrap().len(), 3);
    assert_eq!(p.next_request().unwrap().uri().to_string(), next);
    assert_eq!(p.accept(rooms(2, None)).unwrap().len(), 2);
    assert!(p.is_finished() && p.next_request().is_none());
    assert_eq!(p.pages(), 2);
}

#[test]
fn a_repeated_or_looping_next_is_an_error() {
    let a = format!("{BASE}/api/v5/orgs/x/rooms?cursor=YQ%3D%3D");
    let b = format!("{BASE}/api/v5/orgs/x/rooms?cursor=Yg%3D%3D");
    let mut p = pager();
    p.accept(rooms(1, Some(&a))).unwrap();
    assert!(matches!(
        p.accept(rooms(1, Some(&a))),
        Err(PagingError::CursorLoop { .. })
    ));
    assert!(p.is_finished());
    let mut p = pager();
    p.accept(rooms(1, Some(&a))).unwrap();
    p.accept(rooms(1, Some(&b))).unwrap();
    assert!(matches!(
        p.accept(rooms(1, Some(&a))),
        Err(PagingError::CursorLoop { .. })
    ));
    // Back to the first page is a loop too.
    let mut p = pager();
    let first = pager().next_request().unwrap().uri().to_string();
    assert!(matches!(
        p.accept(rooms(1, Some(&first))),
        Err(PagingError::CursorLoop { .. })
    ));
}

#[test]
fn a_next_on_another_origin_is_never_followed() {
    for foreign in [
        "https://evil.example/api/v5/orgs/x/rooms?cursor=YQ",
        "http://service.giosg.com/api/v5/orgs/x/rooms?cursor=YQ",
        "https://service.giosg.com:8443/api/v5/orgs/x/rooms?cursor=YQ",
        "https://user:pw@service.giosg.com/api/v5/orgs/x/rooms?cursor=YQ",
    ] {
        let mut p = pager();
        let err = p.accept(rooms(1, Some(foreign))).unwrap_err();
        assert!(
            matches!(err, PagingError::ForeignCursorUrl { .. }),
            "{foreign}: {err}"
        );
        assert!(!err.to_string().contains("pw"), "{err}");
        assert!(p.next_request().is_none());
    }
    let mut p = pager();
    assert!(matches!(
        p.accept(rooms(1, Some("not a url"))),
        Err(PagingError::BadCursorUrl { .. })
    ));
}

#[test]
fn empty_pages_with_a_next_are_followed_a_bounded_number_of_times() {
    let url = |i: u32| format!("{BASE}/api/v5/orgs/x/rooms?cursor={i}");
    let mut p = pager();
    for i in 0..MAX_EMPTY_PAGES {
        assert!(p.accept(rooms(0, Some(&url(i)))).unwrap().is_empty());
    }
    // A page with resources starts the count again.
    p.accept(rooms(1, Some(&url(100)))).unwrap();
    for i in 0..MAX_EMPTY_PAGES {
        p.accept(rooms(0, Some(&url(200 + i)))).unwrap();
    }
    let err = p.accept(rooms(0, Some(&url(999)))).unwrap_err();
    assert!(matches!(err, PagingError::EmptyCursorPages { .. }), "{err}");
}

#[test]
fn answers_decode_into_pages_or_the_apis_error() {
    let ok = http::Response::new(
        br#"{"next": null, "previous": null, "results": [{"id": "58f5055c-56e0-11e5-9354-6c4008c08dfe", "full_name": "Jane Doe"}]}"#
            .to_vec(),
    );
    let page: CursorPage<User> = decode_cursor_page(&ok, 1 << 20).unwrap();
    assert_eq!(page.results[0].full_name.as_deref(), Some("Jane Doe"));
    let mut invalid = http::Response::new(br#"{"detail": "Invalid cursor"}"#.to_vec());
    *invalid.status_mut() = http::StatusCode::NOT_FOUND;
    match decode_cursor_page::<Room>(&invalid, 1 << 20) {
        Err(Error::Api(api)) => {
            assert_eq!(api.kind, ApiErrorKind::NotFound);
            assert_eq!(api.detail.as_deref(), Some("Invalid cursor"));
        }
        other => panic!("{other:?}"),
    }
    let mut denied = http::Response::new(
        br#"{"detail": "You do not have permission to perform this action."}"#.to_vec(),
    );
    *denied.status_mut() = http::StatusCode::FORBIDDEN;
    assert!(matches!(
        decode_cursor_page::<User>(&denied, 1 << 20),
        Err(Error::Api(api)) if api.kind == ApiErrorKind::Forbidden
    ));
    let bad = http::Response::new(br#"{"results": [{"name": "no id"}]}"#.to_vec());
    let err = decode_cursor_page::<Room>(&bad, 1 << 20).unwrap_err();
    assert!(
        err.to_string().contains("decode") || matches!(err, Error::Decode { .. }),
        "{err}"
    );
}

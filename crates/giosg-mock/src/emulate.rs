//! The Django REST framework emulation: what the giosg Chat API answers to a request, as a pure
//! function from the request's parts, the data and the API's identity to a [`Reply`]. No
//! sockets, no runtime: routing, authentication, parameters (through [`crate::params`]),
//! listing and paging, the error bodies, the page URLs, and the faults that change what is
//! answered (a scripted status or redirect, data changed while a client pages, an envelope that
//! contradicts itself). How the reply then goes out on the wire is [`crate::wire`]'s concern.

use crate::fault::Fault;
use crate::params;
use crate::store::Store;
use bytes::Bytes;
use giosg_model::{Chat, Page, Uuid};
use hyper::header::{self, HeaderName};
use hyper::{Method, StatusCode};
use url::form_urlencoded;

/// Who the API is: the origin its page URLs are on, the org whose chats it serves, and the token
/// it accepts.
#[derive(Clone, Debug)]
pub(crate) struct Api {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub origin: String,
    pub org: Uuid,
    pub token: String,
    /// The token may not read the organisation's users (403 on `/users`).
    pub deny_users: bool,
}

/// A request, as much of it as the API looks at.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ApiRequest<'a> {
    pub method: &'a Method,
    /// The path, still percent-encoded, without the query.
    pub path: &'a str,
    /// The query's pairs, decoded, in the order sent.
    pub query: &'a [(String, String)],
    /// The raw `Authorization` header, if any.
    pub authorization: Option<&'a [u8]>,
}

/// A response before it is put on the wire: always a JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reply {
    pub status: u16,
    /// Headers besides `Content-Type` and `Content-Length`.
    pub headers: Vec<(HeaderName, String)>,
    pub body: Bytes,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Vec<u8>) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Bytes::from(body),
        }
    }

    /// Django REST framework's `{"detail": "..."}`.
    pub(crate) fn detail(status: u16, detail: &str) -> Self {
        Reply::json(
            status,
            serde_json::to_vec(&serde_json::json!({ "detail": detail })).expect("a JSON object"),
        )
    }

    /// Adds a header.
    pub(crate) fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// Whether a path is the chats endpoint's (of any org segment): the requests faults apply to.
pub(crate) fn is_chats_path(path: &str) -> bool {
    matches!(route(path), Route::Chats(_))
}

/// Which resource a path names.
enum Route<'a> {
    /// `/api/v5/orgs/<segment>/chats`, with or without a trailing slash.
    Chats(&'a str),
    /// `/api/v5/orgs/<segment>/rooms`.
    Rooms(&'a str),
    /// `/api/v5/orgs/<segment>/users`.
    Users(&'a str),
    /// `/api/v5/users/me`.
    Me,
    NotFound,
}

fn route(path: &str) -> Route<'_> {
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    if trimmed == "/api/v5/users/me" {
        return Route::Me;
    }
    let Some(rest) = trimmed.strip_prefix("/api/v5/orgs/") else {
        return Route::NotFound;
    };
    let Some((org, collection)) = rest.split_once('/') else {
        return Route::NotFound;
    };
    if org.is_empty() {
        return Route::NotFound;
    }
    match collection {
        "chats" => Route::Chats(org),
        "rooms" => Route::Rooms(org),
        "users" => Route::Users(org),
        _ => Route::NotFound,
    }
}

/// Like Django's `<uuid:...>` path converter: lower-case, hyphenated.
fn org_segment(s: &str) -> Option<Uuid> {
    let b = s.as_bytes();
    let shaped = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        });
    shaped.then(|| Uuid::parse_str(s).ok()).flatten()
}

const NOT_PROVIDED: &str = "Authentication credentials were not provided.";

/// Django REST framework's `TokenAuthentication`, accepting the `Bearer` keyword as well.
fn authenticate(header: Option<&[u8]>, token: &str) -> Result<(), &'static str> {
    let Some(raw) = header else {
        return Err(NOT_PROVIDED);
    };
    let parts: Vec<&[u8]> = raw
        .split(|b| b.is_ascii_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    let scheme_ok = parts
        .first()
        .is_some_and(|s| s.eq_ignore_ascii_case(b"token") || s.eq_ignore_ascii_case(b"bearer"));
    if !scheme_ok {
        return Err(NOT_PROVIDED);
    }
    match parts.len() {
        1 => Err("Invalid token header. No credentials provided."),
        2 => match std::str::from_utf8(parts[1]) {
            Ok(t) if t == token => Ok(()),
            Ok(_) => Err("Invalid token."),
            Err(_) => {
                Err("Invalid token header. Token string should not contain invalid characters.")
            }
        },
        _ => Err("Invalid token header. Token string should not contain spaces."),
    }
}

/// Django REST framework's default `detail` for a status.
fn status_detail(status: u16) -> String {
    match status {
        400 => "Malformed request.".to_owned(),
        401 => "Invalid token.".to_owned(),
        403 => "You do not have permission to perform this action.".to_owned(),
        404 => "Not found.".to_owned(),
        429 => "Request was throttled.".to_owned(),
        500 => "A server error occurred.".to_owned(),
        503 => "Service temporarily unavailable, try again later.".to_owned(),
        _ => StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .map_or_else(|| format!("Error {status}."), |r| format!("{r}.")),
    }
}

/// The URL of a page of the same listing: the request's query with `page` replaced in place
/// (appended if it was absent), or removed for page 1 as Django REST framework does.
fn page_url(origin: &str, path: &str, query: &[(String, String)], page: u64) -> String {
    let page = (page > 1).then(|| page.to_string());
    let mut ser = form_urlencoded::Serializer::new(String::new());
    let mut placed = false;
    for (k, v) in query {
        if k == "page" {
            if !placed {
                if let Some(p) = &page {
                    ser.append_pair("page", p);
                }
                placed = true;
            }
        } else {
            ser.append_pair(k, v);
        }
    }
    if let (false, Some(p)) = (placed, &page) {
        ser.append_pair("page", p);
    }
    let q = ser.finish();
    if q.is_empty() {
        format!("{origin}{path}")
    } else {
        format!("{origin}{path}?{q}")
    }
}

/// Answers a request of any path. `fault` is the request's, if any (only a chats-endpoint
/// request has one); those that change what is answered apply here, the wire-level ones
/// ([`Fault::Latency`], [`Fault::Truncate`], [`Fault::Stall`], [`Fault::Dribble`]) are ignored,
/// and the ones that answer without the API ([`Fault::Drop`], [`Fault::Oversized`],
/// [`Fault::GzipBomb`]) are never passed here.
pub(crate) fn respond(
    api: &Api,
    request: &ApiRequest<'_>,
    store: &mut Store,
    fault: Option<&Fault>,
) -> Reply {
    let segment = match route(request.path) {
        Route::Chats(segment) => segment,
        Route::NotFound => return Reply::detail(404, "Not found."),
        other => return directory(api, request, other),
    };
    // Scripted answers come before anything is checked: a 429 even for a wrong token.
    match fault {
        Some(Fault::Status {
            status,
            retry_after,
        }) => {
            let reply = Reply::detail(*status, &status_detail(*status));
            return match retry_after {
                Some(value) => reply.header(header::RETRY_AFTER, value.clone()),
                None => reply,
            };
        }
        Some(Fault::Redirect { location, status }) => {
            return Reply::detail(*status, &status_detail(*status))
                .header(header::LOCATION, location.clone());
        }
        _ => {}
    }
    let Some(org) = org_segment(segment) else {
        return Reply::detail(404, "Not found.");
    };
    if let Err(detail) = authenticate(request.authorization, &api.token) {
        return Reply::detail(401, detail).header(header::WWW_AUTHENTICATE, "Token");
    }
    if org != api.org {
        return Reply::detail(403, "You do not have permission to perform this action.");
    }
    if request.method != Method::GET {
        return Reply::detail(405, &format!("Method \"{}\" not allowed.", request.method))
            .header(header::ALLOW, "GET");
    }
    let parsed = match params::parse_request(request.query) {
        Ok(r) => r,
        Err(errors) => {
            let mut body = serde_json::Map::new();
            for (name, message) in errors {
                body.insert(name.to_owned(), serde_json::json!([message]));
            }
            let body = serde_json::to_vec(&body).expect("a JSON object");
            return Reply::json(400, body);
        }
    };
    list(api, request, store, parsed, fault)
}

/// Rooms, users and `users/me`: authenticated like the chats, cursor-paged.
fn directory(api: &Api, request: &ApiRequest<'_>, route: Route<'_>) -> Reply {
    if let Err(detail) = authenticate(request.authorization, &api.token) {
        return Reply::detail(401, detail).header(header::WWW_AUTHENTICATE, "Token");
    }
    if request.method != Method::GET {
        return Reply::detail(405, &format!("Method \"{}\" not allowed.", request.method))
            .header(header::ALLOW, "GET");
    }
    let org = match route {
        Route::Rooms(segment) | Route::Users(segment) => match org_segment(segment) {
            Some(org) => Some(org),
            None => return Reply::detail(404, "Not found."),
        },
        _ => None,
    };
    if org.is_some_and(|o| o != api.org) {
        return Reply::detail(403, "You do not have permission to perform this action.");
    }
    let query = request.query;
    match route {
        Route::Me => {
            let me = crate::directory::users(api.org).remove(0);
            Reply::json(200, serde_json::to_vec(&me).expect("a user serialises"))
        }
        Route::Rooms(_) => {
            let shared = crate::directory::flag(query, "is_shared");
            let mut rooms: Vec<_> = crate::directory::rooms(api.org)
                .into_iter()
                .filter(|r| crate::directory::include_deleted(query) || r.is_deleted != Some(true))
                .filter(|r| shared.is_none_or(|s| r.is_shared == Some(s)))
                .collect();
            if crate::directory::newest_first(query) {
                rooms.reverse();
            }
            crate::directory::page(api, request.path, query, &rooms)
        }
        Route::Users(_) if api.deny_users => {
            Reply::detail(403, "You do not have permission to perform this action.")
        }
        Route::Users(_) => {
            let mut users: Vec<_> = crate::directory::users(api.org)
                .into_iter()
                .filter(|u| crate::directory::include_deleted(query) || u.deleted_at.is_none())
                .collect();
            if crate::directory::newest_first(query) {
                users.reverse();
            }
            crate::directory::page(api, request.path, query, &users)
        }
        Route::Chats(_) | Route::NotFound => Reply::detail(404, "Not found."),
    }
}

/// A page of the listing a valid request asks for, and the data changes its fault makes.
fn list(
    api: &Api,
    request: &ApiRequest<'_>,
    store: &mut Store,
    parsed: params::Request,
    fault: Option<&Fault>,
) -> Reply {
    let mut listed = parsed.query;
    match (fault, listed.since_id) {
        (Some(Fault::DeleteCursor), Some(cursor)) => {
            store.remove(&[cursor]);
        }
        (Some(Fault::IgnoreSinceId), Some(_)) => listed.since_id = None,
        _ => {}
    }
    let list = store.listing(&listed);
    let count = list.len() as u64;
    let size = parsed.page_size;
    let num_pages = count.div_ceil(size).max(1);
    let page_no = parsed.page;
    if page_no > num_pages {
        return Reply::detail(404, "Invalid page.");
    }
    let from = ((page_no - 1) * size) as usize;
    let mut to = (page_no * size).min(count) as usize;
    if let Some(Fault::ShortPage) = fault {
        to = from + (to - from) / 2;
    }
    let mut results: Vec<std::borrow::Cow<'_, Chat>> = list[from..to]
        .iter()
        .map(|&i| std::borrow::Cow::Borrowed(store.chat(i)))
        .collect();
    let last = results.last().map(|c| c.id);
    let mut rows = count;
    if let (Some(Fault::Twice { changed }), Some(first)) = (fault, results.first()) {
        let mut again = first.clone();
        if *changed {
            let altered = again.to_mut();
            altered.message_count = Some(altered.message_count.unwrap_or(0) + 1);
        }
        results.insert(0, again);
        rows += 1;
    }
    let mut page = Page::single(results);
    page.count = match fault {
        Some(Fault::CountOffset(by)) => rows.saturating_add_signed(*by),
        _ => rows,
    };
    page.num_pages = num_pages;
    page.per_page = size;
    page.current_page = page_no;
    if page_no < num_pages && fault != Some(&Fault::NoNextPage) {
        page.next_page = Some(page_no + 1);
        let origin = match fault {
            Some(Fault::ForeignNextPageUrl(origin)) => origin.trim_end_matches('/'),
            _ => &api.origin,
        };
        page.next_page_url = Some(page_url(origin, request.path, request.query, page_no + 1));
    }
    if page_no > 1 {
        page.previous_page = Some(page_no - 1);
        page.previous_page_url = Some(page_url(
            &api.origin,
            request.path,
            request.query,
            page_no - 1,
        ));
    }
    let body = serde_json::to_vec(&page).expect("chats serialise");
    drop(page);
    match fault {
        Some(Fault::Drift { new_chats }) => store.drift(*new_chats, listed.ordering[0]),
        Some(Fault::DeleteOldest { chats }) => {
            store.remove_oldest(*chats);
        }
        Some(Fault::DeleteLast) => {
            if let Some(last) = last {
                store.remove(&[last]);
            }
        }
        Some(Fault::Insert { chats }) => store.insert_within(*chats),
        _ => {}
    }
    Reply::json(200, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    const ORG: &str = "7f9e9580-095b-42c7-838c-c04e667b26f7";

    fn api() -> Api {
        Api {
            origin: "http://h:1".to_owned(),
            org: Uuid::parse_str(ORG).unwrap(),
            token: "tok".to_owned(),
            deny_users: false,
        }
    }

    fn path() -> String {
        format!("/api/v5/orgs/{ORG}/chats")
    }

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Answers `method path?query` with this `Authorization` over 10 generated chats.
    fn answer(
        method: Method,
        path: &str,
        auth: Option<&str>,
        query: &[(&str, &str)],
        fault: Option<&Fault>,
    ) -> (Reply, Store) {
        let mut store = Store::new(crate::generate(5, 10));
        let query = pairs(query);
        let request = ApiRequest {
            method: &method,
            path,
            query: &query,
            authorization: auth.map(str::as_bytes),
        };
        (respond(&api(), &request, &mut store, fault), store)
    }

    fn get(query: &[(&str, &str)]) -> Reply {
        answer(Method::GET, &path(), Some("Token tok"), query, None).0
    }

    fn body(reply: &Reply) -> Value {
        serde_json::from_slice(&reply.body).unwrap()
    }

    fn header<'a>(reply: &'a Reply, name: &HeaderName) -> Option<&'a str> {
        reply
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn routes() {
        assert!(matches!(route("/api/v5/orgs/x/chats"), Route::Chats("x")));
        assert!(matches!(route("/api/v5/orgs/x/chats/"), Route::Chats("x")));
        assert!(matches!(route("/api/v5/orgs//chats"), Route::NotFound));
        assert!(matches!(route("/api/v5/orgs/a/b/chats"), Route::NotFound));
        assert!(org_segment("7f9e9580-095b-42c7-838c-c04e667b26f7").is_some());
        assert!(org_segment("7F9E9580-095B-42C7-838C-C04E667B26F7").is_none());
        assert!(org_segment("7f9e9580095b42c7838cc04e667b26f7").is_none());
    }

    #[test]
    fn page_urls_keep_the_query() {
        let q = pairs(&[("tag", "a&b"), ("page", "2"), ("page_size", "10")]);
        assert_eq!(
            page_url("http://h", "/p", &q, 3),
            "http://h/p?tag=a%26b&page=3&page_size=10"
        );
        assert_eq!(
            page_url("http://h", "/p", &q, 1),
            "http://h/p?tag=a%26b&page_size=10"
        );
        assert_eq!(page_url("http://h", "/p", &[], 2), "http://h/p?page=2");
        assert_eq!(page_url("http://h", "/p", &[], 1), "http://h/p");
    }

    #[test]
    fn auth_messages() {
        let t = "tok";
        assert_eq!(authenticate(None, t), Err(NOT_PROVIDED));
        assert_eq!(authenticate(Some(b"Basic abc"), t), Err(NOT_PROVIDED));
        assert_eq!(authenticate(Some(b"Token tok"), t), Ok(()));
        assert_eq!(authenticate(Some(b"bearer tok"), t), Ok(()));
        assert_eq!(authenticate(Some(b"Token nope"), t), Err("Invalid token."));
        assert!(authenticate(Some(b"Token"), t).is_err());
        assert!(authenticate(Some(b"Token a b"), t).is_err());
    }

    #[test]
    fn a_request_without_a_token_is_401_with_a_challenge() {
        let (reply, _) = answer(Method::GET, &path(), None, &[], None);
        assert_eq!(reply.status, 401);
        assert_eq!(body(&reply), json!({"detail": NOT_PROVIDED}));
        assert_eq!(header(&reply, &header::WWW_AUTHENTICATE), Some("Token"));
        let (wrong, _) = answer(Method::GET, &path(), Some("Bearer nope"), &[], None);
        assert_eq!(
            (wrong.status, body(&wrong)),
            (401, json!({"detail": "Invalid token."}))
        );
    }

    #[test]
    fn a_malformed_org_or_another_path_is_404_and_another_org_403() {
        let not_found = json!({"detail": "Not found."});
        for path in [
            "/api/v5/orgs/7F9E9580-095B-42C7-838C-C04E667B26F7/chats".to_owned(),
            "/api/v5/orgs/not-an-org/chats".to_owned(),
            "/api/v5/chats".to_owned(),
            format!("{}/x", path()),
        ] {
            // Without a token too: a path that names nothing is not found before auth.
            let (reply, _) = answer(Method::GET, &path, None, &[], None);
            assert_eq!(
                (reply.status, body(&reply)),
                (404, not_found.clone()),
                "{path}"
            );
        }
        let other = "/api/v5/orgs/00000000-0000-4000-8000-000000000000/chats";
        let (reply, _) = answer(Method::GET, other, Some("Token tok"), &[], None);
        assert_eq!(reply.status, 403);
        assert_eq!(
            body(&reply),
            json!({"detail": "You do not have permission to perform this action."})
        );
    }

    #[test]
    fn another_method_is_405_allowing_get() {
        let (reply, _) = answer(Method::POST, &path(), Some("Token tok"), &[], None);
        assert_eq!(reply.status, 405);
        assert_eq!(
            body(&reply),
            json!({"detail": "Method \"POST\" not allowed."})
        );
        assert_eq!(header(&reply, &header::ALLOW), Some("GET"));
    }

    #[test]
    fn bad_parameters_are_400_with_a_message_list_per_parameter() {
        let reply = get(&[
            ("page_size", "0"),
            ("has_sales", "yes"),
            ("since_id", "x"),
            ("tag", "anything"),
        ]);
        assert_eq!(reply.status, 400);
        assert_eq!(
            body(&reply),
            json!({
                "page_size": ["Ensure this value is greater than or equal to 1."],
                "since_id": ["Must be a valid UUID."],
                "has_sales": ["Must be a valid boolean."],
            })
        );
        assert!(reply.headers.is_empty());
    }

    #[test]
    fn a_page_past_the_last_is_404_invalid_page() {
        let reply = get(&[("page_size", "5"), ("page", "3")]);
        assert_eq!(
            (reply.status, body(&reply)),
            (404, json!({"detail": "Invalid page."}))
        );
    }

    #[test]
    fn pages_link_to_their_neighbours_on_the_origin_keeping_the_query() {
        let first = body(&get(&[("page_size", "4")]));
        assert_eq!(
            (&first["count"], &first["num_pages"], &first["current_page"]),
            (&json!(10), &json!(3), &json!(1))
        );
        assert_eq!(
            (&first["previous_page"], &first["previous_page_url"]),
            (&Value::Null, &Value::Null)
        );

        // An unknown parameter is ignored, and kept in the URLs like any other.
        let middle = body(&get(&[("page", "2"), ("page_size", "4"), ("x", "a b&c")]));
        let base = format!("http://h:1{}", path());
        assert_eq!(
            (&middle["next_page"], &middle["previous_page"]),
            (&json!(3), &json!(1))
        );
        assert_eq!(
            middle["next_page_url"],
            json!(format!("{base}?page=3&page_size=4&x=a+b%26c"))
        );
        assert_eq!(
            middle["previous_page_url"],
            json!(format!("{base}?page_size=4&x=a+b%26c"))
        );

        let last = body(&get(&[("page_size", "4"), ("page", "3")]));
        assert_eq!(last["results"].as_array().unwrap().len(), 2);
        assert_eq!(
            (&last["next_page"], &last["next_page_url"]),
            (&Value::Null, &Value::Null)
        );
        assert_eq!(
            last["previous_page_url"],
            json!(format!("{base}?page_size=4&page=2"))
        );
    }

    #[test]
    fn a_scripted_status_comes_before_authentication() {
        let fault = Fault::too_many_requests(Some("1"));
        let (reply, _) = answer(Method::GET, &path(), None, &[], Some(&fault));
        assert_eq!(reply.status, 429);
        assert_eq!(body(&reply), json!({"detail": "Request was throttled."}));
        assert_eq!(header(&reply, &header::RETRY_AFTER), Some("1"));
        let redirect = Fault::Redirect {
            location: "http://elsewhere/".to_owned(),
            status: 308,
        };
        let (reply, _) = answer(Method::GET, &path(), None, &[], Some(&redirect));
        assert_eq!(reply.status, 308);
        assert_eq!(body(&reply), json!({"detail": "Permanent Redirect."}));
        assert_eq!(header(&reply, &header::LOCATION), Some("http://elsewhere/"));
    }

    #[test]
    fn data_faults_change_the_page_or_the_data_after_it() {
        let auth = Some("Token tok");
        let short = answer(Method::GET, &path(), auth, &[], Some(&Fault::ShortPage)).0;
        assert_eq!(body(&short)["results"].as_array().unwrap().len(), 5);
        assert_eq!(body(&short)["count"], json!(10));

        let (page, store) = answer(
            Method::GET,
            &path(),
            auth,
            &[("page_size", "3")],
            Some(&Fault::DeleteLast),
        );
        let third = &body(&page)["results"][2]["id"];
        assert_eq!(store.chats().len(), 9);
        assert!(store.chats().iter().all(|c| json!(c.id) != *third));

        // An answer that is not a page changes nothing.
        let (refused, store) = answer(Method::GET, &path(), None, &[], Some(&Fault::DeleteLast));
        assert_eq!(refused.status, 401);
        assert_eq!(store.chats().len(), 10);
    }
}

//! Django REST framework style errors: 400, 401, 403, 404, 405, and response headers.

mod common;

use common::{get, get_url, Reply};
use giosg_mock::MockServer;
use serde_json::json;

fn server() -> MockServer {
    MockServer::builder().generated(3, 30).start().unwrap()
}

fn assert_json_response(r: &Reply) {
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("content-length"),
        Some(r.body.len().to_string().as_str()),
        "{}",
        r.body
    );
}

#[test]
fn bad_parameters_give_400_with_one_key_each() {
    let s = server();
    let r = get(&s, &[("page_size", "0")]);
    assert_eq!(r.status, 400);
    assert_json_response(&r);
    assert_eq!(
        r.json(),
        json!({"page_size": ["Ensure this value is greater than or equal to 1."]})
    );
    let r = get(&s, &[("page_size", "101")]);
    assert_eq!(
        r.json(),
        json!({"page_size": ["Ensure this value is less than or equal to 100."]})
    );
    assert_eq!(get(&s, &[("page_size", "100")]).status, 200);

    let r = get(
        &s,
        &[
            ("ordering", "id"),
            ("page", "two"),
            ("since_id", "42"),
            ("start_time", "yesterday"),
            ("end_time", "2015-02-30T00:00:00Z"),
            ("has_sales", "True"),
            ("is_real_conversation", "1"),
            ("room_id", "lobby"),
            ("min_message_count", "-1"),
            ("only_ended", "yes"),
            ("tag", "anything goes"),
            ("unknown", "ignored"),
        ],
    );
    assert_eq!(r.status, 400);
    let body = r.json();
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "end_time",
            "has_sales",
            "is_real_conversation",
            "min_message_count",
            "only_ended",
            "ordering",
            "page",
            "room_id",
            "since_id",
            "start_time",
        ]
    );
    for (_, messages) in body.as_object().unwrap() {
        let messages = messages.as_array().unwrap();
        assert_eq!(messages.len(), 1);
        assert!(messages[0].is_string());
    }
    assert_eq!(body["since_id"], json!(["Must be a valid UUID."]));
    assert_eq!(body["has_sales"], json!(["Must be a valid boolean."]));
    assert_eq!(body["page"], json!(["A valid integer is required."]));
    assert_eq!(get(&s, &[("page", "0")]).status, 400);
    assert_eq!(
        get(&s, &[("ordering", "start_time,-start_time")]).status,
        400
    );
    assert_eq!(get(&s, &[("ordering", "-")]).status, 400);
}

#[test]
fn unknown_and_empty_parameters_are_ignored() {
    let s = server();
    let plain = get(&s, &[]).body;
    assert_eq!(get(&s, &[("token", "x"), ("format", "xml")]).status, 200);
    let r = get(&s, &[("tag", ""), ("page_size", ""), ("has_sales", "")]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.page().results,
        giosg_model::Page::<giosg_model::Chat>::from_slice(plain.as_bytes())
            .unwrap()
            .results
    );
}

#[test]
fn a_page_past_the_last_is_404() {
    let s = server();
    assert_eq!(get(&s, &[("page", "2")]).status, 200);
    let r = get(&s, &[("page", "3")]);
    assert_eq!(r.status, 404);
    assert_json_response(&r);
    assert_eq!(r.json(), json!({"detail": "Invalid page."}));
    // An empty listing has one (empty) page.
    assert_eq!(get(&s, &[("tag", "nobody"), ("page", "1")]).status, 200);
    assert_eq!(get(&s, &[("tag", "nobody"), ("page", "2")]).status, 404);
}

#[test]
fn authentication() {
    let s = MockServer::builder()
        .token("s3cret")
        .generated(3, 5)
        .start()
        .unwrap();
    let url = s.chats_url();
    let r = get_url(&url, None);
    assert_eq!(r.status, 401);
    assert_json_response(&r);
    assert_eq!(
        r.json(),
        json!({"detail": "Authentication credentials were not provided."})
    );
    assert_eq!(r.header("www-authenticate"), Some("Token"));
    let r = get_url(&url, Some("Token wrong"));
    assert_eq!(
        (r.status, r.json()),
        (401, json!({"detail": "Invalid token."}))
    );
    let r = get_url(&url, Some("Basic czNjcmV0"));
    assert_eq!(r.status, 401);
    assert_eq!(get_url(&url, Some("Token s3cret")).status, 200);
    assert_eq!(get_url(&url, Some("Bearer s3cret")).status, 200);
    assert_eq!(get_url(&url, Some("Token")).status, 401);
    assert_eq!(get_url(&url, Some("Token s3cret extra")).status, 401);
    // The token is only accepted in the header.
    assert_eq!(get_url(&format!("{url}?token=s3cret"), None).status, 401);
}

#[test]
fn another_org_is_403_and_other_paths_404() {
    let s = server();
    let auth = format!("Token {}", s.token());
    let other = format!(
        "{}/api/v5/orgs/{}/chats",
        s.base_url(),
        uuid::Uuid::from_u128(1)
    );
    let r = get_url(&other, Some(&auth));
    assert_eq!(r.status, 403);
    assert_json_response(&r);
    assert_eq!(
        r.json(),
        json!({"detail": "You do not have permission to perform this action."})
    );
    let not_found = json!({"detail": "Not found."});
    for path in [
        "/api/v5/orgs/not-a-uuid/chats".to_owned(),
        format!("/api/v5/orgs/{}/chats", s.org().to_string().to_uppercase()),
        format!("/api/v5/orgs/{}/things", s.org()),
        format!("/api/v4/orgs/{}/chats", s.org()),
        "/".to_owned(),
    ] {
        let r = get_url(&format!("{}{path}", s.base_url()), Some(&auth));
        assert_eq!((r.status, r.json()), (404, not_found.clone()), "{path}");
        assert_json_response(&r);
        // Routing comes before authentication, as in Django.
        assert_eq!(
            get_url(&format!("{}{path}", s.base_url()), None).status,
            404
        );
    }
    // A trailing slash is accepted.
    assert_eq!(
        get_url(&format!("{}/", s.chats_url()), Some(&auth)).status,
        200
    );
}

#[test]
fn other_methods_are_405() {
    let s = server();
    let resp = common::agent()
        .post(&s.chats_url())
        .header("Authorization", &format!("Token {}", s.token()))
        .send("{}")
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(resp.headers().get("allow").unwrap(), "GET");
    let body = resp.into_body().read_to_string().unwrap();
    assert_eq!(body, r#"{"detail":"Method \"POST\" not allowed."}"#);
    let resp = common::agent()
        .delete(&s.chats_url())
        .header("Authorization", &format!("Bearer {}", s.token()))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
}

#[test]
fn successful_responses_are_json_with_a_length() {
    let s = server();
    let r = get(&s, &[("page_size", "7")]);
    assert_eq!(r.status, 200);
    assert_json_response(&r);
}

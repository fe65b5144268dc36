//! Rooms, users and users/me as giosg serves them: Django REST framework's cursor paging, over
//! loopback.

mod common;

use giosg_mock::MockServer;
use serde_json::Value;

fn get(url: &str, token: &str) -> (u16, Value) {
    let r = common::get_url(url, Some(&format!("Token {token}")));
    (r.status, r.json())
}

/// Every page of a collection, following `next`; the requests made.
fn all(first: &str, token: &str) -> (Vec<Value>, usize) {
    let (mut out, mut url, mut requests) = (Vec::new(), Some(first.to_owned()), 0);
    while let Some(u) = url {
        let (status, page) = get(&u, token);
        assert_eq!(status, 200, "{u}: {page}");
        requests += 1;
        out.extend(page["results"].as_array().unwrap().iter().cloned());
        url = page["next"].as_str().map(str::to_owned);
    }
    (out, requests)
}

#[test]
fn rooms_page_by_cursor_with_deleted_ones_hidden_unless_asked() {
    let s = MockServer::start();
    let base = format!("{}/api/v5/orgs/{}/rooms", s.base_url(), s.org());
    let (rooms, requests) = all(&base, s.token());
    assert_eq!(rooms.len(), 3);
    assert_eq!(requests, 2, "pages of two");
    let (with_deleted, _) = all(&format!("{base}?include_deleted=true"), s.token());
    assert_eq!(with_deleted.len(), 4);
    // Every chat names one of the rooms (one of them deleted).
    let ids: Vec<&str> = with_deleted
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for chat in s.chats() {
        assert!(ids.contains(&chat.room_id.unwrap().to_string().as_str()));
    }
    let shared: Vec<&Value> = rooms.iter().filter(|r| r["is_shared"] == true).collect();
    assert_eq!(shared.len(), 1);
    assert_ne!(shared[0]["display_name"], shared[0]["name"]);
    let (only_shared, _) = all(&format!("{base}?is_shared=true"), s.token());
    assert_eq!(only_shared.len(), 1);
    // `next` is the request's own URL with only the cursor replaced.
    let (_, page) = get(&format!("{base}?include_deleted=true"), s.token());
    let next = page["next"].as_str().unwrap();
    assert!(
        next.starts_with(&format!("{base}?include_deleted=true&cursor=")),
        "{next}"
    );
    let (status, body) = get(&format!("{base}?cursor=%21%21"), s.token());
    assert_eq!(
        (status, body),
        (404, serde_json::json!({"detail": "Invalid cursor"}))
    );
}

#[test]
fn users_me_and_a_token_denied_users() {
    let s = MockServer::start();
    let base = format!("{}/api/v5/orgs/{}/users", s.base_url(), s.org());
    let (users, _) = all(&base, s.token());
    let (everyone, _) = all(&format!("{base}?include_deleted=true"), s.token());
    assert_eq!((users.len(), everyone.len()), (3, 4));
    // Operators' messages name users by sender_id.
    let ids: Vec<&str> = everyone.iter().map(|u| u["id"].as_str().unwrap()).collect();
    for chat in s.chats() {
        for log in &chat.logs {
            if log.sender_type == Some(giosg_model::SenderType::Operator) {
                assert!(ids.contains(&log.sender_id.as_deref().unwrap()));
            }
        }
    }
    let (status, me) = get(&format!("{}/api/v5/users/me", s.base_url()), s.token());
    assert_eq!(status, 200);
    assert_eq!(me["organization_id"], s.org().to_string());
    assert_eq!(
        get(&format!("{}/api/v5/users/me", s.base_url()), "wrong").0,
        401
    );
    let denied = MockServer::builder().deny_users(true).start().unwrap();
    let base = format!("{}/api/v5/orgs/{}/users", denied.base_url(), denied.org());
    assert_eq!(get(&base, denied.token()).0, 403);
    let rooms = format!("{}/api/v5/orgs/{}/rooms", denied.base_url(), denied.org());
    assert_eq!(get(&rooms, denied.token()).0, 200);
}

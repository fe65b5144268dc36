//! Rooms, users and the token's own user from giosg-blocking alone, against giosg-mock over
//! loopback.

use giosg_blocking::{ApiErrorKind, Client, Room, User};
use giosg_mock::MockServer;

fn client(mock: &MockServer) -> Client {
    Client::builder()
        .base_url(mock.base_url())
        .token(mock.token())
        .build()
        .unwrap()
}

#[test]
fn rooms_users_and_me() {
    let mock = MockServer::start();
    let client = client(&mock);
    let rooms: Vec<Room> = client
        .rooms(mock.org())
        .iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rooms.len(), 3);
    let all: Vec<Room> = client
        .rooms(mock.org())
        .include_deleted(true)
        .newest_first()
        .iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[0].is_deleted, Some(true), "newest first");
    let shared: Vec<Room> = client
        .rooms(mock.org())
        .shared(Some(true))
        .iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(shared[0].shown_name(), Some("Support (shared by Partner)"));
    let users: Vec<User> = client
        .users(mock.org())
        .include_deleted(true)
        .iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(users.len(), 4);
    let me = client.me().unwrap();
    assert_eq!(me.organization_id, Some(mock.org()));

    let denied = MockServer::builder().deny_users(true).start().unwrap();
    let client = self::client(&denied);
    let mut users = client.users(denied.org()).iter();
    let err = users.next().unwrap().unwrap_err();
    assert_eq!(err.kind(), giosg_blocking::ErrorKind::Forbidden);
    assert_eq!(err.api().map(|a| a.kind), Some(ApiErrorKind::Forbidden));
    assert!(users.next().is_none(), "the error ends the listing");
    // Chats are listed all the same.
    assert_eq!(client.chats(denied.org()).iter().count(), 250);
}

//! Rooms, users and the token's own user from giosg-async alone, against giosg-mock over
//! loopback.

use futures_util::TryStreamExt;
use giosg_async::{Client, Room, User};
use giosg_mock::MockServer;

#[tokio::test(flavor = "current_thread")]
async fn rooms_users_and_me() {
    let mock = MockServer::start();
    let client = Client::builder()
        .base_url(mock.base_url())
        .token(mock.token())
        .build()
        .unwrap();
    let rooms: Vec<Room> = client
        .rooms(mock.org())
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rooms.len(), 3);
    let all: Vec<Room> = client
        .rooms(mock.org())
        .include_deleted(true)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
    let users: Vec<User> = client
        .users(mock.org())
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(users.len(), 3);
    assert_eq!(client.me().await.unwrap().organization_id, Some(mock.org()));
}

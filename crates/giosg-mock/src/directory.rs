//! The organisation's rooms and users, and `users/me`, as giosg serves them: Django REST
//! framework's `CursorPagination` (an opaque base64 cursor, `next` the request's own URL with
//! only `cursor` replaced, `404 Invalid cursor` for a cursor that does not decode, a page size
//! the server chooses), deleted rooms and users hidden unless `include_deleted=true`, a shared
//! room whose `display_name` differs from its `name`.
//!
//! The data agrees with the generated chats: every chat's `room_id` is one of these rooms (one
//! of them deleted, so the default listing does not return it), and every operator's
//! `sender_id` is one of these users. Its own rules, on purpose: the mock is an independent
//! oracle for the client's.

use crate::emulate::{Api, Reply};
use base64::Engine as _;
use giosg_model::{Organization, Room, User, Uuid};
use url::form_urlencoded;

/// Resources a page: small, so that listings page.
pub(crate) const PAGE_SIZE: usize = 2;

/// The rooms every mock serves for `org`: the generated chats' rooms, the last of them deleted,
/// one shared to the organisation under a name of its own.
pub fn rooms(org: Uuid) -> Vec<Room> {
    let own = Some(Organization::new(org, "Example Shop"));
    let partner = Uuid::from_u128(0x0c6e3e1a_0000_4000_8000_000000000001);
    let room = |id: u128, name: &str, domain: Option<&str>| {
        let mut r = Room::new(Uuid::from_u128(id));
        r.name = Some(name.to_owned());
        r.display_name = Some(name.to_owned());
        r.domain = domain.map(str::to_owned);
        r.organization_id = Some(org);
        r.organization = own.clone();
        r.is_shared = Some(false);
        r.is_deleted = Some(false);
        r.language_code = Some("en".to_owned());
        r
    };
    let [a, b, c, d] = crate::data::ROOMS;
    let mut shared = room(c, "Partner support", None);
    shared.display_name = Some("Support (shared by Partner)".to_owned());
    shared.is_shared = Some(true);
    shared.organization_id = Some(partner);
    shared.organization = Some(Organization::new(partner, "Partner"));
    shared.language_code = None;
    let mut gone = room(d, "Old campaign", Some("campaign.customerpage.com"));
    gone.is_deleted = Some(true);
    vec![
        room(a, "Customer page", Some("www.customerpage.com")),
        room(b, "Shop", Some("shop.customerpage.com")),
        shared,
        gone,
    ]
}

/// The users every mock serves for `org`: the generated chats' operators, one of whom has left
/// (deleted), and a bot.
pub fn users(org: Uuid) -> Vec<User> {
    let mut out: Vec<User> = crate::data::OPERATORS
        .iter()
        .enumerate()
        .map(|(i, (id, name))| {
            let mut u = User::new(Uuid::parse_str(id).expect("a UUID"));
            let (first, last) = name.split_once(' ').unwrap_or((name, ""));
            u.first_name = Some(first.to_owned());
            u.last_name = Some(last.to_owned());
            u.full_name = Some((*name).to_owned());
            u.alias = Some(first.to_owned());
            u.email = Some(format!("{}@example.com", first.to_lowercase()));
            u.organization_id = Some(org);
            u.is_bot = Some(false);
            if i == 2 {
                u.deleted_at = giosg_model::time::parse("2025-06-01T00:00:00.000Z").ok();
            }
            u
        })
        .collect();
    let mut bot = User::new(Uuid::from_u128(0x0b9c5d1e_4f2a_4b3c_9d8e_7f6a5b4c3d2e));
    bot.first_name = Some("Shop".to_owned());
    bot.last_name = Some("Bot".to_owned());
    bot.full_name = Some("Shop Bot".to_owned());
    bot.is_bot = Some(true);
    bot.organization_id = Some(org);
    out.push(bot);
    out
}

/// A cursor-paged answer of `items` (already filtered) for a request of `path` with `query`.
pub(crate) fn page<T: serde::Serialize>(
    api: &Api,
    path: &str,
    query: &[(String, String)],
    items: &[T],
) -> Reply {
    let offset = match query.iter().find(|(k, _)| k == "cursor") {
        None => 0,
        Some((_, cursor)) => match decode_cursor(cursor) {
            Some(o) => o,
            None => return Reply::detail(404, "Invalid cursor"),
        },
    };
    let end = (offset + PAGE_SIZE).min(items.len());
    let results = items.get(offset.min(items.len())..end).unwrap_or(&[]);
    let next = (end < items.len()).then(|| url_with_cursor(api, path, query, Some(end)));
    let previous = (offset > 0).then(|| {
        let back = offset.saturating_sub(PAGE_SIZE);
        url_with_cursor(api, path, query, (back > 0).then_some(back))
    });
    let body = serde_json::json!({ "next": next, "previous": previous, "results": results });
    Reply::json(200, serde_json::to_vec(&body).expect("resources serialise"))
}

/// DRF's cursor: standard base64 of `o=<offset>`.
fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("o={offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    form_urlencoded::parse(text.as_bytes())
        .find(|(k, _)| k == "o")
        .and_then(|(_, v)| v.parse().ok())
}

/// The request's own URL with only `cursor` replaced (or removed).
fn url_with_cursor(
    api: &Api,
    path: &str,
    query: &[(String, String)],
    offset: Option<usize>,
) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in query.iter().filter(|(k, _)| k != "cursor") {
        ser.append_pair(k, v);
    }
    if let Some(o) = offset {
        ser.append_pair("cursor", &encode_cursor(o));
    }
    let q = ser.finish();
    if q.is_empty() {
        format!("{}{path}", api.origin)
    } else {
        format!("{}{path}?{q}", api.origin)
    }
}

/// Whether `include_deleted=true` was asked.
pub(crate) fn include_deleted(query: &[(String, String)]) -> bool {
    query
        .iter()
        .any(|(k, v)| k == "include_deleted" && v == "true")
}

/// The value of a boolean parameter, if given as `true` or `false`.
pub(crate) fn flag(query: &[(String, String)], name: &str) -> Option<bool> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| match v.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })
}

/// Whether the request asks for the newest first (`ordering=-created_at`).
pub(crate) fn newest_first(query: &[(String, String)]) -> bool {
    query
        .iter()
        .any(|(k, v)| k == "ordering" && v == "-created_at")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_invalid() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("not base64!"), None);
        assert_eq!(decode_cursor("aGVsbG8="), None, "base64 of something else");
    }
}

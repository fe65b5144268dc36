//! The organisation's directory next to the chats: rooms and users (operators), and the
//! envelope of their cursor-paged listings.
//!
//! Decoded tolerantly, as the sources disagree (see the giosg-rs notes on the rooms and users
//! endpoints): every field but `id` may be missing or `null`, and members this version does
//! not know are kept in `extra` and written back.

use crate::time;
use crate::Extra;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

/// A page of a cursor-paged collection (rooms, users): the next page's absolute URL (`null` on
/// the last page), the previous one's, and the page's resources. No count, no page number.
///
/// ```
/// use giosg_model::{CursorPage, Room};
/// let page: CursorPage<Room> = serde_json::from_str(
///     r#"{"next": null, "previous": null, "results": [{"id": "9926bdfa-56e0-11e5-b98c-6c4008c08dfe", "name": "Shop"}]}"#,
/// )?;
/// assert_eq!(page.results[0].name.as_deref(), Some("Shop"));
/// assert!(page.next.is_none());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>", serialize = "T: Serialize"))]
#[non_exhaustive]
pub struct CursorPage<T> {
    /// The next page's absolute URL, to follow as it is; `None` on the last page.
    #[serde(default)]
    pub next: Option<String>,
    /// The previous page's absolute URL.
    #[serde(default)]
    pub previous: Option<String>,
    /// The page's resources.
    #[serde(default = "Vec::new", deserialize_with = "nullable_vec")]
    pub results: Vec<T>,
}

impl<T: serde::de::DeserializeOwned> CursorPage<T> {
    /// Decodes a page, saying where it failed (the same located errors, and the same memory
    /// budget per body byte, as [`Page::from_slice`](crate::Page::from_slice)).
    pub fn from_slice(body: &[u8]) -> Result<Self, crate::DecodeError> {
        crate::decode::from_slice(body)
    }
}

impl<T> CursorPage<T> {
    /// A last page holding `results`.
    pub fn last(results: Vec<T>) -> Self {
        CursorPage {
            next: None,
            previous: None,
            results,
        }
    }
}

fn nullable_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// An organisation, as rooms and users carry it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Organization {
    /// Its id.
    #[serde(default)]
    pub id: Option<Uuid>,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// Members this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Organization {
    /// An organisation with this id and name.
    pub fn new(id: Uuid, name: impl Into<String>) -> Self {
        Organization {
            id: Some(id),
            name: Some(name.into()),
            extra: Extra::default(),
        }
    }
}

/// A room: where chats happen (a domain, or a custom room), the organisation's own or shared
/// to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Room {
    /// Its id: chats name it as `room_id`.
    pub id: Uuid,
    /// Its public signed token.
    #[serde(default)]
    pub token: Option<String>,
    /// The organisation that owns it.
    #[serde(default)]
    pub organization_id: Option<Uuid>,
    /// That organisation.
    #[serde(default)]
    pub organization: Option<Organization>,
    /// Its hostname for a domain room, `None` for a custom room.
    #[serde(default)]
    pub domain: Option<String>,
    /// Its name, as its owner set it.
    #[serde(default)]
    pub name: Option<String>,
    /// The name to show: `name`, unless the room is shared to this organisation under a name
    /// of its own.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Whether it is shared to this organisation (not its own).
    #[serde(default)]
    pub is_shared: Option<bool>,
    /// Its language (the sources disagree on whether it can be `null`).
    #[serde(default)]
    pub language_code: Option<String>,
    /// When it was created (only for the organisation's own rooms).
    #[serde(default, with = "time::option")]
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed (only for the organisation's own rooms).
    #[serde(default, with = "time::option")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Whether it was deleted (listed only with `include_deleted`).
    #[serde(default)]
    pub is_deleted: Option<bool>,
    /// Members this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Room {
    /// A room with this id and nothing else.
    pub fn new(id: Uuid) -> Self {
        Room {
            id,
            token: None,
            organization_id: None,
            organization: None,
            domain: None,
            name: None,
            display_name: None,
            is_shared: None,
            language_code: None,
            created_at: None,
            updated_at: None,
            is_deleted: None,
            extra: Extra::default(),
        }
    }

    /// The name to show: `display_name`, else `name`, else `None`.
    pub fn shown_name(&self) -> Option<&str> {
        self.display_name
            .as_deref()
            .filter(|n| !n.is_empty())
            .or(self.name.as_deref())
    }
}

/// A user's picture.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Avatar {
    /// Its id.
    #[serde(default)]
    pub id: Option<Uuid>,
    /// Where it is served.
    #[serde(default)]
    pub url: Option<String>,
    /// Members this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A user of the organisation: an operator (or a bot). Chat messages name them by
/// `sender_id`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// Its id.
    pub id: Uuid,
    /// Its email address (`None` for bots).
    #[serde(default)]
    pub email: Option<String>,
    /// Its organisation.
    #[serde(default)]
    pub organization_id: Option<Uuid>,
    /// That organisation.
    #[serde(default)]
    pub organization: Option<Organization>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Full name.
    #[serde(default)]
    pub full_name: Option<String>,
    /// The name visitors see when it chats.
    #[serde(default)]
    pub alias: Option<String>,
    /// Whether it is a bot.
    #[serde(default)]
    pub is_bot: Option<bool>,
    /// Gender: the docs say an integer and list `"male"`, `"female"` and `null`; either is
    /// taken, an integer as its decimal text.
    #[serde(default, deserialize_with = "text_or_number")]
    pub gender: Option<String>,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// When it was created.
    #[serde(default, with = "time::option")]
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed.
    #[serde(default, with = "time::option")]
    pub updated_at: Option<DateTime<Utc>>,
    /// When it was deleted (listed only with `include_deleted`).
    #[serde(default, with = "time::option")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Its picture's id.
    #[serde(default)]
    pub avatar_id: Option<Uuid>,
    /// Its picture.
    #[serde(default)]
    pub avatar: Option<Avatar>,
    /// Members this version does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl User {
    /// A user with this id and nothing else.
    pub fn new(id: Uuid) -> Self {
        User {
            id,
            email: None,
            organization_id: None,
            organization: None,
            first_name: None,
            last_name: None,
            full_name: None,
            alias: None,
            is_bot: None,
            gender: None,
            title: None,
            created_at: None,
            updated_at: None,
            deleted_at: None,
            avatar_id: None,
            avatar: None,
            extra: Extra::default(),
        }
    }
}

fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(serde::de::Error::custom(format!(
                "gender must be text or a number, not {other}"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_cases_decode() {
        // A shared room under a name of its own, a custom room without a domain, a null
        // language, a member this version does not know.
        let room: Room = serde_json::from_str(
            r#"{"id": "9926bdfa-56e0-11e5-b98c-6c4008c08dfe", "name": "Shop", "display_name": "Partner shop",
                "domain": null, "language_code": null, "is_shared": true, "organization": {"id": null, "name": "P"},
                "created_at": "2015-02-13T11:31:36.042", "is_online": true}"#,
        )
        .unwrap();
        assert_eq!(room.shown_name(), Some("Partner shop"));
        assert_eq!(room.domain, None);
        assert_eq!(room.extra.get("is_online"), Some(&serde_json::json!(true)));
        let back: Room = serde_json::from_str(&serde_json::to_string(&room).unwrap()).unwrap();
        assert_eq!(back, room);
        // A bot without email; gender as text, as a number, or null.
        for (gender, want) in [
            (r#""female""#, Some("female")),
            ("1", Some("1")),
            ("null", None),
        ] {
            let user: User = serde_json::from_str(&format!(
                r#"{{"id": "58f5055c-56e0-11e5-9354-6c4008c08dfe", "email": null, "is_bot": true, "gender": {gender}}}"#
            ))
            .unwrap();
            assert_eq!(user.gender.as_deref(), want);
            assert_eq!(user.email, None);
        }
        let page: CursorPage<User> =
            serde_json::from_str(r#"{"next": "https://x/?cursor=cD0x", "results": null}"#).unwrap();
        assert!(page.results.is_empty());
        assert!(serde_json::from_str::<Room>(r#"{"name": "no id"}"#).is_err());
    }
}

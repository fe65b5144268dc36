//! The chats endpoint's 12 query parameters: parsing and validation as Django REST framework
//! does it (the last of a repeated parameter wins, an empty value is absent, unknown ones are
//! ignored), with one error message per bad parameter for the 400 body.

use crate::store::{Query, DEFAULT_ORDER};
use chrono::{DateTime, Utc};
use giosg_model::{OrderBy, SortKey, Uuid};

/// Default page size (`page_size` left out).
pub(crate) const DEFAULT_PAGE_SIZE: u64 = 25;
/// Largest accepted `page_size`. Deliberately the mock's own copy of the API's cap, not
/// `giosg_query::MAX_PAGE_SIZE`: the mock is an independent oracle of the server (it depends on
/// the model only), so a client that got the cap wrong is refused here as the API would.
pub(crate) const MAX_PAGE_SIZE: u64 = 100;

/// A parsed request: the listing and which page of it.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub query: Query,
    pub page: u64,
    pub page_size: u64,
}

/// Django REST framework style validation errors: one entry per bad parameter.
pub(crate) type FieldErrors = Vec<(&'static str, String)>;

const INVALID_INTEGER: &str = "A valid integer is required.";
const INVALID_BOOLEAN: &str = "Must be a valid boolean.";
const INVALID_UUID: &str = "Must be a valid UUID.";
const INVALID_DATETIME: &str = "Datetime has wrong format. Use one of these formats instead: \
                                YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].";

fn integer(v: &str, min: i64, max: Option<i64>) -> Result<u64, String> {
    let n: i64 = v.parse().map_err(|_| INVALID_INTEGER.to_owned())?;
    if n < min {
        return Err(format!(
            "Ensure this value is greater than or equal to {min}."
        ));
    }
    if let Some(max) = max {
        if n > max {
            return Err(format!("Ensure this value is less than or equal to {max}."));
        }
    }
    Ok(n as u64)
}

fn boolean(v: &str) -> Result<bool, String> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(INVALID_BOOLEAN.to_owned()),
    }
}

fn uuid(v: &str) -> Result<Uuid, String> {
    Uuid::parse_str(v).map_err(|_| INVALID_UUID.to_owned())
}

fn time(v: &str) -> Result<DateTime<Utc>, String> {
    giosg_model::time::parse(v).map_err(|_| INVALID_DATETIME.to_owned())
}

fn ordering(v: &str) -> Result<Vec<SortKey>, String> {
    v.parse::<OrderBy>()
        .map(|o| o.keys().to_vec())
        .map_err(|_| format!("Select a valid choice. {v} is not one of the available choices."))
}

/// Parses the endpoint's 12 parameters from decoded query pairs.
///
/// As in Django, the last occurrence of a repeated parameter wins and an empty value counts as
/// absent; unknown parameters are ignored.
pub(crate) fn parse_request(pairs: &[(String, String)]) -> Result<Request, FieldErrors> {
    let get = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let mut errors: FieldErrors = Vec::new();
    let param = |name: &'static str| Param {
        value: get(name),
        name,
    };
    let ordering = param("ordering").parse(&mut errors, ordering);
    let page = param("page").parse(&mut errors, |v| integer(v, 1, None));
    let page_size =
        param("page_size").parse(&mut errors, |v| integer(v, 1, Some(MAX_PAGE_SIZE as i64)));
    let since_id = param("since_id").parse(&mut errors, uuid);
    let start_time = param("start_time").parse(&mut errors, time);
    let end_time = param("end_time").parse(&mut errors, time);
    let has_sales = param("has_sales").parse(&mut errors, boolean);
    let is_real_conversation = param("is_real_conversation").parse(&mut errors, boolean);
    let room_id = param("room_id").parse(&mut errors, uuid);
    let tag = param("tag").value.map(str::to_owned);
    let min_message_count = param("min_message_count").parse(&mut errors, |v| integer(v, 0, None));
    let only_ended = param("only_ended").parse(&mut errors, boolean);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Request {
        query: Query {
            ordering: ordering.unwrap_or_else(|| DEFAULT_ORDER.to_vec()),
            since_id,
            start_time,
            end_time,
            has_sales,
            is_real_conversation,
            room_id,
            tag,
            min_message_count,
            only_ended: only_ended.unwrap_or(false),
        },
        page: page.unwrap_or(1),
        page_size: page_size.unwrap_or(DEFAULT_PAGE_SIZE),
    })
}

/// One query parameter's value, if present and not empty.
struct Param<'a> {
    name: &'static str,
    value: Option<&'a str>,
}

impl Param<'_> {
    fn parse<T>(
        self,
        errors: &mut FieldErrors,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match parse(self.value?) {
            Ok(v) => Some(v),
            Err(e) => {
                errors.push((self.name, e));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn collects_one_error_per_parameter() {
        let err = parse_request(&pairs(&[
            ("page_size", "101"),
            ("page", "x"),
            ("has_sales", "True"),
            ("ordering", "id"),
            ("tag", ""),
            ("unknown", "whatever"),
        ]))
        .unwrap_err();
        let names: Vec<_> = err.iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["ordering", "page", "page_size", "has_sales"]);
        assert_eq!(err[2].1, "Ensure this value is less than or equal to 100.");
    }

    #[test]
    fn empty_values_and_repeats() {
        let r = parse_request(&pairs(&[("page", "3"), ("page", "2"), ("tag", "")])).unwrap();
        assert_eq!(r.page, 2);
        assert_eq!(r.query.tag, None);
        assert_eq!(r.page_size, DEFAULT_PAGE_SIZE);
    }
}

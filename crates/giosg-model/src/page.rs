//! The pagination envelope.

use crate::decode::{nullable, DecodeError};
use crate::object::Extra;
use serde::{de, de::DeserializeOwned, Deserialize, Deserializer, Serialize};
use std::{fmt, marker::PhantomData};

/// One page of a paginated collection, as the API sends it.
///
/// The envelope's numbers decode as `0` when `null` or missing, so that a sloppy envelope
/// never hides the results it carries; the client's paging logic checks them.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Page<T> {
    /// How many items match the query, across all pages.
    #[serde(default, deserialize_with = "nullable")]
    pub count: u64,
    /// How many pages there are.
    #[serde(default, deserialize_with = "nullable")]
    pub num_pages: u64,
    /// The page size.
    #[serde(default, deserialize_with = "nullable")]
    pub per_page: u64,
    /// This page's number, from 1.
    #[serde(default, deserialize_with = "nullable")]
    pub current_page: u64,
    /// The next page's number, `None` on the last page.
    #[serde(default)]
    pub next_page: Option<u64>,
    /// The previous page's number, `None` on the first page.
    #[serde(default)]
    pub previous_page: Option<u64>,
    /// The next page's absolute URL: a hint, which a client follows only on its own origin.
    #[serde(default)]
    pub next_page_url: Option<String>,
    /// The previous page's absolute URL.
    #[serde(default)]
    pub previous_page_url: Option<String>,
    /// The items on this page.
    #[serde(default = "Vec::new", deserialize_with = "nullable")]
    pub results: Vec<T>,
    /// The envelope's members the model does not know, kept as sent and written back.
    #[serde(flatten)]
    pub extra: Extra,
}

impl<T> Page<T> {
    /// A page with these results and an envelope describing it as the only page.
    pub fn single(results: Vec<T>) -> Self {
        let n = results.len() as u64;
        Page {
            count: n,
            num_pages: 1,
            per_page: n.max(1),
            current_page: 1,
            next_page: None,
            previous_page: None,
            next_page_url: None,
            previous_page_url: None,
            results,
            extra: Extra::new(),
        }
    }

    /// Splits the page into its envelope (with no results) and its results.
    pub fn into_parts(self) -> (Page<()>, Vec<T>) {
        self.replace_results(Vec::new())
    }

    /// The same envelope with other results, and the results it had.
    fn replace_results<U>(self, results: Vec<U>) -> (Page<U>, Vec<T>) {
        let page = Page {
            count: self.count,
            num_pages: self.num_pages,
            per_page: self.per_page,
            current_page: self.current_page,
            next_page: self.next_page,
            previous_page: self.previous_page,
            next_page_url: self.next_page_url,
            previous_page_url: self.previous_page_url,
            results,
            extra: self.extra,
        };
        (page, self.results)
    }
}

impl Page<()> {
    /// An envelope (from [`Page::into_parts`]) with these results.
    pub fn with_results<T>(self, results: Vec<T>) -> Page<T> {
        self.replace_results(results).0
    }
}

impl<T: DeserializeOwned> Page<T> {
    /// Decodes a page from a JSON body, naming the path, line, column and byte offset of any
    /// value of the wrong kind.
    ///
    /// ```
    /// use giosg_model::{Chat, Page};
    /// let err = Page::<Chat>::from_slice(br#"{"results": [{"id": "x"}]}"#).unwrap_err();
    /// assert_eq!(err.path(), "results[0].id");
    /// ```
    pub fn from_slice(body: &[u8]) -> Result<Self, DecodeError> {
        crate::decode::from_slice(body)
    }
}

/// The envelope's members, by name.
enum Field {
    Count,
    NumPages,
    PerPage,
    CurrentPage,
    NextPage,
    PreviousPage,
    NextPageUrl,
    PreviousPageUrl,
    Results,
    Other(String),
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Names;
        impl de::Visitor<'_> for Names {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("field identifier")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
                Ok(match v {
                    "count" => Field::Count,
                    "num_pages" => Field::NumPages,
                    "per_page" => Field::PerPage,
                    "current_page" => Field::CurrentPage,
                    "next_page" => Field::NextPage,
                    "previous_page" => Field::PreviousPage,
                    "next_page_url" => Field::NextPageUrl,
                    "previous_page_url" => Field::PreviousPageUrl,
                    "results" => Field::Results,
                    other => Field::Other(other.to_owned()),
                })
            }
        }
        d.deserialize_identifier(Names)
    }
}

/// A member decoded with [`nullable`] (`null` is the default).
struct Nullable<T>(PhantomData<T>);

impl<T> Clone for Nullable<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Nullable<T> {}

impl<'de, T: Default + Deserialize<'de>> de::DeserializeSeed<'de> for Nullable<T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        nullable(d)
    }
}

/// The `results` member: a list whose capacity is charged to the page's memory budget
/// ([`crate::decode`]), or `null` as an empty one.
struct Results<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> de::DeserializeSeed<'de> for Results<T> {
    type Value = Vec<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        crate::decode::nullable_vec(d)
    }
}

/// Stores a member once; a repeated one is an error, as with `#[derive(Deserialize)]`.
fn once<T, E: de::Error>(slot: &mut Option<T>, name: &'static str, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Page<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> de::Visitor<'de> for Members<T> {
            type Value = Page<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct Page")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Page<T>, A::Error> {
                let (mut count, mut num_pages, mut per_page, mut current_page) =
                    (None, None, None, None);
                let (mut next_page, mut previous_page) = (None, None);
                let (mut next_page_url, mut previous_page_url) = (None, None);
                let mut results: Option<Vec<T>> = None;
                let mut extra = Extra::new();
                let number = Nullable::<u64>(PhantomData);
                while let Some(key) = map.next_key::<Field>()? {
                    match key {
                        Field::Count => once(&mut count, "count", map.next_value_seed(number)?)?,
                        Field::NumPages => {
                            once(&mut num_pages, "num_pages", map.next_value_seed(number)?)?
                        }
                        Field::PerPage => {
                            once(&mut per_page, "per_page", map.next_value_seed(number)?)?
                        }
                        Field::CurrentPage => {
                            let v = map.next_value_seed(number)?;
                            once(&mut current_page, "current_page", v)?
                        }
                        Field::NextPage => once(&mut next_page, "next_page", map.next_value()?)?,
                        Field::PreviousPage => {
                            once(&mut previous_page, "previous_page", map.next_value()?)?
                        }
                        Field::NextPageUrl => {
                            once(&mut next_page_url, "next_page_url", map.next_value()?)?
                        }
                        Field::PreviousPageUrl => {
                            let v = map.next_value()?;
                            once(&mut previous_page_url, "previous_page_url", v)?
                        }
                        Field::Results => {
                            let v = map.next_value_seed(Results::<T>(PhantomData))?;
                            once(&mut results, "results", v)?
                        }
                        Field::Other(name) => {
                            crate::decode::charge::<A::Error>(
                                crate::object::MEMBER_SIZE + name.len(),
                            )?;
                            let value = map.next_value_seed(crate::object::UnknownValue)?;
                            extra.insert(name, value);
                        }
                    }
                }
                Ok(Page {
                    count: count.unwrap_or_default(),
                    num_pages: num_pages.unwrap_or_default(),
                    per_page: per_page.unwrap_or_default(),
                    current_page: current_page.unwrap_or_default(),
                    next_page: next_page.unwrap_or_default(),
                    previous_page: previous_page.unwrap_or_default(),
                    next_page_url: next_page_url.unwrap_or_default(),
                    previous_page_url: previous_page_url.unwrap_or_default(),
                    results: results.unwrap_or_default(),
                    extra,
                })
            }
        }
        deserializer.deserialize_map(Members(PhantomData))
    }
}

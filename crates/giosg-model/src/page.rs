//! The pagination envelope.

use crate::decode::{nullable, DecodeError};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// One page of a paginated collection, as the API sends it.
///
/// The envelope's numbers decode as `0` when `null` or missing, so that a sloppy envelope
/// never hides the results it carries; the client's paging logic checks them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
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
        };
        (page, self.results)
    }

    /// Whether this is the last page (`next_page` is `None` or the page number reached
    /// `num_pages`).
    pub fn is_last(&self) -> bool {
        self.next_page.is_none() || self.current_page >= self.num_pages
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

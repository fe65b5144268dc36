//! Where requests go and what they carry: base URL, credentials, limits, and the validated
//! listing that builds a request for any page.

use crate::{query, secret::Credentials, ConfigError, PagingError, ValidationError};
use giosg_model::{ChatFilter, Uuid};
use std::{fmt, sync::Arc};
use url::Url;

/// giosg's production API.
pub const DEFAULT_BASE_URL: &str = "https://service.giosg.com";

/// The default cap on a response body: 32 MiB, far above a 100-chat page.
pub const DEFAULT_MAX_BODY: usize = 32 * 1024 * 1024;

const USER_AGENT: &str = concat!("giosg-rs/", env!("CARGO_PKG_VERSION"));

/// A validated base URL: https (plain http only for loopback hosts or when opted in), with no
/// user name, password, query or fragment. A path prefix (behind a proxy, say) is kept.
#[derive(Clone, PartialEq, Eq)]
pub struct BaseUrl(Url);

impl BaseUrl {
    /// Parses and checks a base URL; plain http is accepted only for loopback hosts.
    ///
    /// ```
    /// use giosg_query::BaseUrl;
    /// assert!(BaseUrl::parse("https://service.giosg.com").is_ok());
    /// assert!(BaseUrl::parse("http://127.0.0.1:8080").is_ok());
    /// assert!(BaseUrl::parse("http://service.giosg.com").is_err());
    /// assert!(BaseUrl::parse("https://user:pw@service.giosg.com").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        Self::parse_with(s, false)
    }

    /// Like [`BaseUrl::parse`], but accepts plain http to any host. The token then crosses the
    /// network in clear text: only for trusted networks.
    pub fn parse_allowing_http(s: &str) -> Result<Self, ConfigError> {
        Self::parse_with(s, true)
    }

    fn parse_with(s: &str, allow_http: bool) -> Result<Self, ConfigError> {
        let url = Url::parse(s).map_err(|e| ConfigError::BaseUrl(e.to_string()))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ConfigError::BaseUrlUserInfo);
        }
        let shown = redact_url(s);
        match url.scheme() {
            "https" => {}
            "http" if allow_http || is_loopback(&url) => {}
            "http" => return Err(ConfigError::InsecureBaseUrl(shown)),
            other => {
                return Err(ConfigError::BaseUrl(format!(
                    "{shown}: scheme {other:?} is not http or https"
                )))
            }
        }
        if url.cannot_be_a_base() || url.host().is_none() {
            return Err(ConfigError::BaseUrl(format!("{shown}: no host")));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ConfigError::BaseUrlQuery(shown));
        }
        Ok(BaseUrl(url))
    }

    /// The URL.
    pub fn as_url(&self) -> &Url {
        &self.0
    }

    /// Whether the host is loopback (`127.0.0.0/8`, `::1`, `localhost`): then the transports
    /// use no proxy from the environment, which would see a plain-http request, token
    /// included.
    ///
    /// ```
    /// use giosg_query::BaseUrl;
    /// assert!(BaseUrl::parse("http://127.0.0.1:8080").unwrap().is_loopback());
    /// assert!(!BaseUrl::parse("https://service.giosg.com").unwrap().is_loopback());
    /// ```
    pub fn is_loopback(&self) -> bool {
        is_loopback(&self.0)
    }

    /// The chats collection of an organisation under this base.
    fn chats_url(&self, org: Uuid) -> Url {
        self.api_url(&format!("orgs/{org}/chats"))
    }

    /// `<base>/api/v5/<path>`.
    pub(crate) fn api_url(&self, path: &str) -> Url {
        let mut url = self.0.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}/api/v5/{path}"));
        url
    }
}

/// A URL as it may be shown in errors and logs: without user name, password, query or
/// fragment (any of which can hold a secret, such as a discouraged `token=` parameter), each
/// replaced by `…`. A string that is not a URL is not shown at all.
///
/// ```
/// use giosg_query::redact_url;
/// assert_eq!(redact_url("http://u:pw@example.com/a?token=s3cret#x"), "http://…@example.com/a?…#…");
/// assert_eq!(redact_url("https://service.giosg.com"), "https://service.giosg.com/");
/// assert_eq!(redact_url("not a url with s3cret"), "(not a URL)");
/// ```
pub fn redact_url(s: &str) -> String {
    let Ok(mut url) = Url::parse(s) else {
        return "(not a URL)".to_owned();
    };
    let userinfo = !url.username().is_empty() || url.password().is_some();
    let (query, fragment) = (url.query().is_some(), url.fragment().is_some());
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    let mut shown = url.to_string();
    if userinfo {
        if let Some(i) = shown.find("://") {
            shown.insert_str(i + 3, "…@");
        }
    }
    if query {
        shown.push_str("?…");
    }
    if fragment {
        shown.push_str("#…");
    }
    shown
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({})", self.0)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An API endpoint as a client sees it: base URL, credentials, user agent and body cap.
#[derive(Clone, Debug)]
pub struct Endpoint {
    base: BaseUrl,
    authorization: AuthHeader,
    user_agent: http::HeaderValue,
    max_body: usize,
}

/// The `Authorization` header, built once; its `Debug` never shows it.
#[derive(Clone)]
struct AuthHeader(http::HeaderValue);

impl fmt::Debug for AuthHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Endpoint {
    /// An endpoint at this base URL (see [`BaseUrl::parse`]) with these credentials.
    pub fn new(base_url: &str, credentials: Credentials) -> Result<Self, ConfigError> {
        Self::with_base(BaseUrl::parse(base_url)?, credentials)
    }

    /// An endpoint at an already validated base URL.
    pub fn with_base(base: BaseUrl, credentials: Credentials) -> Result<Self, ConfigError> {
        let authorization = credentials.header_value()?;
        Ok(Endpoint {
            base,
            authorization: AuthHeader(authorization),
            user_agent: http::HeaderValue::from_static(USER_AGENT),
            max_body: DEFAULT_MAX_BODY,
        })
    }

    /// Replaces the `User-Agent` (default `giosg-rs/<version>`). Characters a header cannot
    /// carry are refused ([`ConfigError::UserAgent`]).
    pub fn set_user_agent(&mut self, user_agent: &str) -> Result<(), ConfigError> {
        self.user_agent = http::HeaderValue::from_str(user_agent)
            .map_err(|_| ConfigError::UserAgent(user_agent.to_owned()))?;
        Ok(())
    }

    /// Sets the cap on a response body, in bytes (default [`DEFAULT_MAX_BODY`]).
    pub fn set_max_body(&mut self, bytes: usize) {
        self.max_body = bytes;
    }

    /// The cap on a response body, in bytes. Transports stop reading past it.
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// The base URL.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base
    }

    /// A validated listing of an organisation's chats.
    pub fn chats(&self, org: Uuid, filter: &ChatFilter) -> Result<ChatList, ValidationError> {
        self.chats_with_extra(org, filter, Vec::new())
    }

    /// Like [`Endpoint::chats`], with extra raw query parameters for parameters giosg adds
    /// later. They cannot override the typed ones (nor be `token`).
    pub fn chats_with_extra(
        &self,
        org: Uuid,
        filter: &ChatFilter,
        extra: Vec<(String, String)>,
    ) -> Result<ChatList, ValidationError> {
        query::validate(filter)?;
        for (name, _) in &extra {
            if name.is_empty() {
                return Err(ValidationError::EmptyParameterName);
            }
            if query::PARAMETERS.contains(&name.as_str()) || name == "token" {
                return Err(ValidationError::ReservedParameter(name.clone()));
            }
        }
        let list = ChatList(Arc::new(ListInner {
            endpoint: self.clone(),
            url: self.base.chats_url(org),
            org,
            filter: filter.clone(),
            extra,
        }));
        // The longest page URL of the listing must fit in a request (http caps URIs at 64 KiB).
        if self.request(&list.page_url(u64::MAX)).is_none() {
            return Err(ValidationError::UrlTooLong);
        }
        Ok(list)
    }

    /// The request for a URL; `None` if `http` cannot carry it (longer than 64 KiB).
    /// `<base>/api/v5/<path>` of this endpoint's base URL.
    pub(crate) fn api_url(&self, path: &str) -> Url {
        self.base.api_url(path)
    }

    /// A `GET` of a URL of this API, with the credentials; `None` if `http` cannot carry it
    /// (longer than 64 KiB). Only for URLs on the base URL's origin: [`CursorPager`] checks.
    ///
    /// [`CursorPager`]: crate::CursorPager
    pub(crate) fn get(&self, url: &Url) -> Option<http::Request<Vec<u8>>> {
        self.request(url)
    }

    /// A `GET` of one of this endpoint's own URLs ([`Endpoint::me_url`], say), with the
    /// credentials; `None` if `http` cannot carry it.
    pub fn get_url(&self, url: &Url) -> Option<http::Request<Vec<u8>>> {
        (url.origin() == self.base.as_url().origin())
            .then(|| self.request(url))
            .flatten()
    }

    fn request(&self, url: &Url) -> Option<http::Request<Vec<u8>>> {
        let mut request = http::Request::new(Vec::new());
        *request.uri_mut() = url.as_str().parse().ok()?;
        let headers = request.headers_mut();
        headers.insert(http::header::AUTHORIZATION, self.authorization.0.clone());
        headers.insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/json"),
        );
        headers.insert(http::header::USER_AGENT, self.user_agent.clone());
        Some(request)
    }
}

/// A validated listing: endpoint, organisation, filter and extra parameters. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ChatList(Arc<ListInner>);

#[derive(Debug)]
struct ListInner {
    endpoint: Endpoint,
    url: Url,
    org: Uuid,
    filter: ChatFilter,
    extra: Vec<(String, String)>,
}

/// A request for one page, with the page number it asks for.
#[derive(Debug)]
#[non_exhaustive]
pub struct PageRequest {
    /// The page asked for (from 1).
    pub page: u64,
    /// The request to send: `GET`, with `Authorization` (marked sensitive), `Accept` and
    /// `User-Agent`.
    pub request: http::Request<Vec<u8>>,
}

impl ChatList {
    /// The organisation.
    pub fn org(&self) -> Uuid {
        self.0.org
    }

    /// The filter.
    pub fn filter(&self) -> &ChatFilter {
        &self.0.filter
    }

    /// The extra raw query parameters.
    pub fn extra(&self) -> &[(String, String)] {
        &self.0.extra
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.0.endpoint
    }

    /// The listing with another filter, validated again (keyset paging moves `since_id`).
    pub fn with_filter(&self, filter: ChatFilter) -> Result<ChatList, ValidationError> {
        let inner = &self.0;
        inner
            .endpoint
            .chats_with_extra(inner.org, &filter, inner.extra.clone())
    }

    /// The URL of a page: the filter's parameters with `page` set to `page`.
    pub fn page_url(&self, page: u64) -> Url {
        let inner = &self.0;
        let mut url = inner.url.clone();
        query::write(&mut url, &inner.filter, Some(page), &inner.extra);
        url
    }

    /// The request for a page.
    pub fn page_request(&self, page: u64) -> PageRequest {
        let request = self.0.endpoint.request(&self.page_url(page));
        PageRequest {
            page,
            request: request.expect("validated: every page URL of the listing fits a request"),
        }
    }

    /// The request for page `page` at a URL the API suggested (`next_page_url`), if that URL
    /// asks for exactly what this listing's own URL for the page does: the base URL's origin,
    /// this listing's path, and the same parameters (in any order), `page` included. `None`
    /// otherwise, so that the token never goes to another origin and the server cannot change
    /// the filters; [`ChatList::check_suggested`] says which of those is an error.
    pub fn suggested_request(&self, page: u64, suggested: &str) -> Option<PageRequest> {
        let Suggested::Ours(url) = self.judge_suggested(page, suggested) else {
            return None;
        };
        let request = self.0.endpoint.request(&url)?;
        Some(PageRequest { page, request })
    }

    /// Refuses a URL the API suggested for page `page` that is on this listing's origin and
    /// path but asks for other parameters than the listing's URL for that page (an injected
    /// filter, another page size or page): [`PagingError::NextPageUrlChanged`]. A URL
    /// elsewhere (another origin, say) is not an error: it is not followed, and the listing
    /// builds the page's URL itself.
    pub fn check_suggested(&self, page: u64, suggested: &str) -> Result<(), PagingError> {
        match self.judge_suggested(page, suggested) {
            Suggested::Changed(parameters) => Err(PagingError::NextPageUrlChanged { parameters }),
            Suggested::Ours(_) | Suggested::Elsewhere => Ok(()),
        }
    }

    /// What a suggested URL for page `page` is to this listing.
    fn judge_suggested(&self, page: u64, suggested: &str) -> Suggested {
        let Ok(url) = Url::parse(suggested) else {
            return Suggested::Elsewhere;
        };
        let ours = self.page_url(page);
        let same_place = url.origin() == ours.origin()
            && url.path() == ours.path()
            && url.username().is_empty()
            && url.password().is_none()
            && url.fragment().is_none();
        if !same_place {
            return Suggested::Elsewhere;
        }
        let pairs = |u: &Url| {
            let mut pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
            pairs.sort();
            pairs
        };
        let (theirs, mine) = (pairs(&url), pairs(&ours));
        if theirs == mine {
            return Suggested::Ours(url);
        }
        // The names of the parameters that differ, each once, a few of them, each short.
        let mut names: Vec<String> = theirs
            .iter()
            .filter(|p| !mine.contains(p))
            .chain(mine.iter().filter(|p| !theirs.contains(p)))
            .map(|(name, _)| name.chars().take(SUGGESTED_NAME_KEPT).collect())
            .collect();
        names.sort();
        names.dedup();
        names.truncate(SUGGESTED_NAMES_KEPT);
        Suggested::Changed(names)
    }
}

/// How many names of differing parameters a [`PagingError::NextPageUrlChanged`] keeps, and
/// how many characters of each: the URL is the server's, of any length.
const SUGGESTED_NAMES_KEPT: usize = 8;
const SUGGESTED_NAME_KEPT: usize = 64;

/// What a URL the API suggested for a page is to the listing.
enum Suggested {
    /// Exactly the listing's own URL for the page, parameters in any order: followed.
    Ours(Url),
    /// Another origin or path, or not a URL: not followed, not an error.
    Elsewhere,
    /// The listing's origin and path with other parameters (these names): refused.
    Changed(Vec<String>),
}

//! Query decoding: `query::decode` on any string. A filter it accepts has one wire form:
//! encoding it, decoding that and encoding again gives the same query; the request built from
//! it goes to the base URL's host and carries exactly that query.
#![no_main]

use giosg_model::Uuid;
use giosg_query::{query, Credentials, Endpoint};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(filter) = query::decode(text) else {
        return;
    };
    let encoded = query::encode(&filter);
    let again = query::decode(&encoded).expect("an encoded filter decodes");
    assert_eq!(query::encode(&again), encoded, "wire form of {text:?}");
    // Times are sent in milliseconds; everything else survives exactly.
    let mut exact = filter.clone();
    exact.start_time = again.start_time;
    exact.end_time = again.end_time;
    assert_eq!(again, exact, "round trip of {text:?} via {encoded:?}");

    let endpoint = Endpoint::new("https://service.giosg.com", Credentials::token("t")).unwrap();
    let list = endpoint
        .chats(Uuid::nil(), &filter)
        .expect("a decoded filter is valid");
    let page = filter.page.map_or(1, u64::from);
    let request = list.page_request(page);
    assert_eq!(request.request.uri().host(), Some("service.giosg.com"));
    let sent =
        query::decode(request.request.uri().query().unwrap_or("")).expect("sent query decodes");
    let mut want = again.clone();
    want.page = Some(u32::try_from(page).unwrap());
    assert_eq!(sent, want);
});

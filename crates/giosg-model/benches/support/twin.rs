//! The all-`String` twin of `Page<Chat>`: every string-valued field stays a `String`, so ids,
//! times and prices go unparsed. The baseline that typed decoding is measured against, shared
//! by `benches/decode.rs` and `cargo xtask bench` (`#[path]`-included by both).

use serde::Deserialize;

#[allow(dead_code)]
#[derive(Deserialize)]
pub(crate) struct TwinPage {
    count: u64,
    num_pages: u64,
    per_page: u64,
    current_page: u64,
    next_page: Option<u64>,
    previous_page: Option<u64>,
    next_page_url: Option<String>,
    previous_page_url: Option<String>,
    pub results: Vec<TwinChat>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
pub(crate) struct TwinChat {
    id: String,
    token: Option<String>,
    start_time: Option<String>,
    end_time: Option<String>,
    updated_at: Option<String>,
    is_private: Option<bool>,
    is_real_conversation: Option<bool>,
    is_autosuggested: Option<bool>,
    room_id: Option<String>,
    api_data: Vec<TwinApiData>,
    operator_message_count: Option<u64>,
    visitor_message_count: Option<u64>,
    message_count: Option<u64>,
    start_url: Option<String>,
    start_url_title: Option<String>,
    autosuggest_url: Option<String>,
    autosuggest_url_title: Option<String>,
    logs: Vec<TwinLog>,
    tags: Vec<TwinTag>,
    shopping_carts: Vec<TwinCart>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
pub(crate) struct TwinApiData {
    name: Option<String>,
    value: Option<String>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
pub(crate) struct TwinTag {
    name: Option<String>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
pub(crate) struct TwinLog {
    created_at: Option<String>,
    #[serde(rename = "type")]
    kind: Option<i64>,
    sender_type: Option<i64>,
    sender_id: Option<String>,
    message: Option<String>,
    display_name: Option<String>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
pub(crate) struct TwinCart {
    id: Option<String>,
    opened_at: Option<String>,
    total_price: Option<String>,
    monthly_total_price: Option<String>,
    currency: Option<String>,
    locked_at: Option<String>,
    products: Vec<TwinProduct>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
pub(crate) struct TwinProduct {
    id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    category: Option<String>,
    product_number: Option<String>,
    price: Option<String>,
    quantity: Option<i64>,
    monthly_price: Option<String>,
    monthly_quantity: Option<i64>,
    stock_balance: Option<i64>,
    added_at: Option<String>,
    deleted_at: Option<String>,
}

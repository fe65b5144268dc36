//! A chat and everything nested in it.

use crate::decode::nullable_vec;
use crate::object::{deserialize_keeping_unknown, Extra};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One chat conversation, with its messages, tags, API data and shopping carts.
///
/// Only `id` is required when decoding. Any other field may be `null` or missing in real
/// payloads: scalars become `None`, collections become empty.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Chat {
    /// Unique identifier for this chat.
    pub id: Uuid,
    /// Encoded giosg token for the chat itself (not an API credential).
    #[serde(default)]
    pub token: Option<String>,
    /// When the conversation started.
    #[serde(default, with = "crate::time::option")]
    pub start_time: Option<DateTime<Utc>>,
    /// When the conversation ended, `None` while it goes on.
    #[serde(default, with = "crate::time::option")]
    pub end_time: Option<DateTime<Utc>>,
    /// When the conversation was last updated.
    #[serde(default, with = "crate::time::option")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Whether the chat is marked private for its operators.
    #[serde(default)]
    pub is_private: Option<bool>,
    /// Whether the chat is an actual conversation.
    #[serde(default)]
    pub is_real_conversation: Option<bool>,
    /// Whether the chat started with an autosuggestion.
    #[serde(default)]
    pub is_autosuggested: Option<bool>,
    /// The room in which the chat occurred.
    #[serde(default)]
    pub room_id: Option<Uuid>,
    /// Data submitted for the visitor through APIs.
    #[serde(default, deserialize_with = "nullable")]
    pub api_data: Vec<ApiData>,
    /// How many messages the operators sent.
    #[serde(default)]
    pub operator_message_count: Option<u64>,
    /// How many messages the visitor sent.
    #[serde(default)]
    pub visitor_message_count: Option<u64>,
    /// How many messages there were in total.
    #[serde(default)]
    pub message_count: Option<u64>,
    /// URL of the page the visitor was on when they sent their first message.
    #[serde(default)]
    pub start_url: Option<String>,
    /// Title of that page.
    #[serde(default)]
    pub start_url_title: Option<String>,
    /// URL of the page the visitor was on when they received an autosuggest.
    #[serde(default)]
    pub autosuggest_url: Option<String>,
    /// Title of that page.
    #[serde(default)]
    pub autosuggest_url_title: Option<String>,
    /// Every message of the chat.
    #[serde(default, deserialize_with = "nullable")]
    pub logs: Vec<ChatLog>,
    /// The tags operators added to the chat.
    #[serde(default, deserialize_with = "nullable")]
    pub tags: Vec<Tag>,
    /// The visitor's shopping carts related to this chat.
    #[serde(default, deserialize_with = "nullable")]
    pub shopping_carts: Vec<ShoppingCart>,
    /// The members the model does not know (fields giosg added, say), kept as sent and
    /// written back when the value is encoded.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A text member the model keeps as sent: `None` when it is missing, `null`, `""` or not text.
fn kept_text<'a>(extra: &'a Extra, name: &str) -> Option<&'a str> {
    extra
        .get(name)
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
}

impl Chat {
    /// The chat's `encrypted_symmetric_key` (an encrypted room's chat: its AES key, encrypted
    /// with the organisation's public key): `None` when missing, `null` or `""`.
    ///
    /// The encrypted members (`is_encrypted`, `encrypted_symmetric_key`, and each log's
    /// `encrypted_message`) are read from the members the model keeps as sent, so that an
    /// archive stays byte-faithful (`null` stays `null`, a missing member stays missing); the
    /// chats listing is assumed to carry them as giosg's newer chat endpoints do.
    ///
    /// ```
    /// let mut chat = giosg_model::Chat::new(giosg_model::Uuid::from_u128(1));
    /// assert_eq!(chat.encrypted_symmetric_key(), None);
    /// chat.extra.insert("encrypted_symmetric_key".into(), "".into());
    /// assert_eq!(chat.encrypted_symmetric_key(), None);
    /// chat.extra.insert("encrypted_symmetric_key".into(), "MyBY7C...".into());
    /// assert_eq!(chat.encrypted_symmetric_key(), Some("MyBY7C..."));
    /// ```
    pub fn encrypted_symmetric_key(&self) -> Option<&str> {
        kept_text(&self.extra, "encrypted_symmetric_key")
    }

    /// Whether the chat is encrypted: `is_encrypted` is true, or it carries a symmetric key or
    /// an encrypted message.
    pub fn is_encrypted(&self) -> bool {
        self.extra.get("is_encrypted").and_then(|v| v.as_bool()) == Some(true)
            || self.encrypted_symmetric_key().is_some()
            || self.logs.iter().any(|l| l.encrypted_message().is_some())
    }

    /// A chat with this id and every other field empty; fill it in field by field (the type
    /// is `#[non_exhaustive]`: outside this crate there is no struct literal).
    pub fn new(id: Uuid) -> Self {
        Chat {
            id,
            token: None,
            start_time: None,
            end_time: None,
            updated_at: None,
            is_private: None,
            is_real_conversation: None,
            is_autosuggested: None,
            room_id: None,
            api_data: Vec::new(),
            operator_message_count: None,
            visitor_message_count: None,
            message_count: None,
            start_url: None,
            start_url_title: None,
            autosuggest_url: None,
            autosuggest_url_title: None,
            logs: Vec::new(),
            tags: Vec::new(),
            shopping_carts: Vec::new(),
            extra: Extra::new(),
        }
    }

    /// Whether the chat has ended (`end_time` is set).
    pub fn is_ended(&self) -> bool {
        self.end_time.is_some()
    }

    /// Whether the chat has sales: one of its carts was purchased (giosg's `has_sales`).
    pub fn has_sales(&self) -> bool {
        self.shopping_carts.iter().any(ShoppingCart::is_purchased)
    }

    /// Whether an operator tagged the chat with exactly this text.
    pub fn has_tag(&self, name: &str) -> bool {
        self.tags.iter().any(|t| t.name.as_deref() == Some(name))
    }

    /// The value of the API data entry with this name, if any.
    pub fn api_value(&self, name: &str) -> Option<&str> {
        self.api_data
            .iter()
            .find(|d| d.name.as_deref() == Some(name))
            .and_then(|d| d.value.as_deref())
    }
}

/// One message of a chat.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ChatLog {
    /// When the message was sent.
    #[serde(default, with = "crate::time::option")]
    pub created_at: Option<DateTime<Utc>>,
    /// Who sent it: an operator or the visitor.
    #[serde(default)]
    pub sender_type: Option<SenderType>,
    /// The operator's user id (a UUID string) or an opaque visitor string.
    #[serde(default)]
    pub sender_id: Option<String>,
    /// An actual message or an autosuggest (JSON key `type`).
    #[serde(default, rename = "type")]
    pub message_type: Option<MessageType>,
    /// The text of the message.
    #[serde(default)]
    pub message: Option<String>,
    /// The sender's display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The members the model does not know (fields giosg added, say), kept as sent and
    /// written back when the value is encoded.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ChatLog {
    /// The message's `encrypted_message` (its text sealed with the chat's key): `None` when
    /// missing, `null` or `""` (join and leave logs have none). See
    /// [`Chat::encrypted_symmetric_key`].
    pub fn encrypted_message(&self) -> Option<&str> {
        kept_text(&self.extra, "encrypted_message")
    }

    /// Whether the message was encrypted and its text is here: `None` when it was not
    /// encrypted, `Some(false)` while its text is only in `encrypted_message`.
    pub fn decrypted(&self) -> Option<bool> {
        self.encrypted_message().map(|_| self.message.is_some())
    }

    /// A log entry with every field empty.
    pub fn new() -> Self {
        ChatLog {
            created_at: None,
            sender_type: None,
            sender_id: None,
            message_type: None,
            message: None,
            display_name: None,
            extra: Extra::new(),
        }
    }
}

impl Default for ChatLog {
    fn default() -> Self {
        Self::new()
    }
}

/// Who sent a message: `1` operator, `2` visitor. Any other integer is kept as `Unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "i64", into = "i64")]
#[non_exhaustive]
pub enum SenderType {
    /// An operator (`1`).
    Operator,
    /// The visitor (`2`).
    Visitor,
    /// An integer this version does not know; written back unchanged.
    Unknown(i64),
}

impl From<i64> for SenderType {
    fn from(v: i64) -> Self {
        match v {
            1 => SenderType::Operator,
            2 => SenderType::Visitor,
            n => SenderType::Unknown(n),
        }
    }
}

impl SenderType {
    /// How the kind is written for people: `operator`, `visitor`, or an unknown code as its
    /// number (the CSV export and the store's `chat_logs.sender` use this).
    ///
    /// ```
    /// use giosg_model::SenderType;
    /// assert_eq!(SenderType::from(1).label(), "operator");
    /// assert_eq!(SenderType::from(7).label(), "7");
    /// ```
    pub fn label(self) -> String {
        match self {
            SenderType::Operator => "operator".to_owned(),
            SenderType::Visitor => "visitor".to_owned(),
            SenderType::Unknown(n) => n.to_string(),
        }
    }
}

impl From<SenderType> for i64 {
    fn from(v: SenderType) -> Self {
        match v {
            SenderType::Operator => 1,
            SenderType::Visitor => 2,
            SenderType::Unknown(n) => n,
        }
    }
}

/// What kind of message a log entry is: `1` a message, `2` an autosuggest. Any other integer is
/// kept as `Unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "i64", into = "i64")]
#[non_exhaustive]
pub enum MessageType {
    /// An actual message (`1`).
    Message,
    /// An autosuggest (`2`).
    Autosuggest,
    /// An integer this version does not know; written back unchanged.
    Unknown(i64),
}

impl From<i64> for MessageType {
    fn from(v: i64) -> Self {
        match v {
            1 => MessageType::Message,
            2 => MessageType::Autosuggest,
            n => MessageType::Unknown(n),
        }
    }
}

impl MessageType {
    /// How the kind is written for people: `message`, `autosuggest`, or an unknown code as its
    /// number (the CSV export and the store's `chat_logs.kind` use this).
    ///
    /// ```
    /// use giosg_model::MessageType;
    /// assert_eq!(MessageType::from(2).label(), "autosuggest");
    /// ```
    pub fn label(self) -> String {
        match self {
            MessageType::Message => "message".to_owned(),
            MessageType::Autosuggest => "autosuggest".to_owned(),
            MessageType::Unknown(n) => n.to_string(),
        }
    }
}

impl From<MessageType> for i64 {
    fn from(v: MessageType) -> Self {
        match v {
            MessageType::Message => 1,
            MessageType::Autosuggest => 2,
            MessageType::Unknown(n) => n,
        }
    }
}

/// A piece of data submitted for the visitor through giosg's APIs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ApiData {
    /// The entry's name, e.g. `customer_number`.
    #[serde(default)]
    pub name: Option<String>,
    /// The entry's value.
    #[serde(default)]
    pub value: Option<String>,
    /// The members the model does not know (fields giosg added, say), kept as sent and
    /// written back when the value is encoded.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ApiData {
    /// An entry with this name and value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        ApiData {
            name: Some(name.into()),
            value: Some(value.into()),
            extra: Extra::new(),
        }
    }
}

/// A tag an operator added to a chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Tag {
    /// The tag's text.
    #[serde(default)]
    pub name: Option<String>,
    /// The members the model does not know (fields giosg added, say), kept as sent and
    /// written back when the value is encoded.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Tag {
    /// A tag with this text.
    pub fn new(name: impl Into<String>) -> Self {
        Tag {
            name: Some(name.into()),
            extra: Extra::new(),
        }
    }
}

/// A visitor's shopping cart related to a chat.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ShoppingCart {
    /// Unique identifier for the cart.
    #[serde(default)]
    pub id: Option<Uuid>,
    /// When the first item was added.
    #[serde(default, with = "crate::time::option")]
    pub opened_at: Option<DateTime<Utc>>,
    /// The cart's total, exact (`"83.00"` keeps its two decimals).
    #[serde(default)]
    pub total_price: Option<Decimal>,
    /// The cart's monthly subscription total.
    #[serde(default)]
    pub monthly_total_price: Option<Decimal>,
    /// The currency of the prices, e.g. `EUR`.
    #[serde(default)]
    pub currency: Option<String>,
    /// When the cart was purchased ("locked"), `None` if it has not been.
    #[serde(default, with = "crate::time::option")]
    pub locked_at: Option<DateTime<Utc>>,
    /// Every product ever added, removed ones included (see [`ShoppingCart::live_products`]).
    #[serde(default, deserialize_with = "nullable")]
    pub products: Vec<CartProduct>,
    /// The members the model does not know (fields giosg added, say), kept as sent and
    /// written back when the value is encoded.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ShoppingCart {
    /// An empty, open cart.
    pub fn new() -> Self {
        ShoppingCart {
            id: None,
            opened_at: None,
            total_price: None,
            monthly_total_price: None,
            currency: None,
            locked_at: None,
            products: Vec::new(),
            extra: Extra::new(),
        }
    }

    /// Whether the visitor purchased the cart (`locked_at` is set).
    pub fn is_purchased(&self) -> bool {
        self.locked_at.is_some()
    }

    /// The products still in the cart: those never removed (`deleted_at` is `None`).
    pub fn live_products(&self) -> impl Iterator<Item = &CartProduct> {
        self.products.iter().filter(|p| p.is_live())
    }
}

impl Default for ShoppingCart {
    fn default() -> Self {
        Self::new()
    }
}

/// A product in a shopping cart.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CartProduct {
    /// Unique identifier for this item.
    #[serde(default)]
    pub id: Option<Uuid>,
    /// Name of the product.
    #[serde(default)]
    pub name: Option<String>,
    /// Description of the product.
    #[serde(default)]
    pub description: Option<String>,
    /// Name of the product's category.
    #[serde(default)]
    pub category: Option<String>,
    /// The product number or id in the shop.
    #[serde(default)]
    pub product_number: Option<String>,
    /// Price of a single product, exact.
    #[serde(default)]
    pub price: Option<Decimal>,
    /// How many pieces are in the cart.
    #[serde(default)]
    pub quantity: Option<i64>,
    /// Monthly subscription price of a single product, exact.
    #[serde(default)]
    pub monthly_price: Option<Decimal>,
    /// How many monthly subscriptions are in the cart.
    #[serde(default)]
    pub monthly_quantity: Option<i64>,
    /// How many pieces are available in stock.
    #[serde(default)]
    pub stock_balance: Option<i64>,
    /// When the product was added to the cart.
    #[serde(default, with = "crate::time::option")]
    pub added_at: Option<DateTime<Utc>>,
    /// When the product was removed from the cart, `None` while it is in it.
    #[serde(default, with = "crate::time::option")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// The members the model does not know (fields giosg added, say), kept as sent and
    /// written back when the value is encoded.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CartProduct {
    /// A product with every field empty.
    pub fn new() -> Self {
        CartProduct {
            id: None,
            name: None,
            description: None,
            category: None,
            product_number: None,
            price: None,
            quantity: None,
            monthly_price: None,
            monthly_quantity: None,
            stock_balance: None,
            added_at: None,
            deleted_at: None,
            extra: Extra::new(),
        }
    }

    /// Whether the product is still in the cart (`deleted_at` is `None`).
    pub fn is_live(&self) -> bool {
        self.deleted_at.is_none()
    }
}

impl Default for CartProduct {
    fn default() -> Self {
        Self::new()
    }
}

/// `Option<T>` through `Deserialize`, for the members without a special format.
fn plain<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    T::deserialize(d)
}

use crate::time::option::deserialize as time;

deserialize_keeping_unknown!(Chat, "struct Chat",
    required { "id" => id: Uuid = plain }
    optional {
        "token" => token: Option<String> = plain,
        "start_time" => start_time: Option<DateTime<Utc>> = time,
        "end_time" => end_time: Option<DateTime<Utc>> = time,
        "updated_at" => updated_at: Option<DateTime<Utc>> = time,
        "is_private" => is_private: Option<bool> = plain,
        "is_real_conversation" => is_real_conversation: Option<bool> = plain,
        "is_autosuggested" => is_autosuggested: Option<bool> = plain,
        "room_id" => room_id: Option<Uuid> = plain,
        "api_data" => api_data: Vec<ApiData> = nullable_vec,
        "operator_message_count" => operator_message_count: Option<u64> = plain,
        "visitor_message_count" => visitor_message_count: Option<u64> = plain,
        "message_count" => message_count: Option<u64> = plain,
        "start_url" => start_url: Option<String> = plain,
        "start_url_title" => start_url_title: Option<String> = plain,
        "autosuggest_url" => autosuggest_url: Option<String> = plain,
        "autosuggest_url_title" => autosuggest_url_title: Option<String> = plain,
        "logs" => logs: Vec<ChatLog> = nullable_vec,
        "tags" => tags: Vec<Tag> = nullable_vec,
        "shopping_carts" => shopping_carts: Vec<ShoppingCart> = nullable_vec,
    }
);

deserialize_keeping_unknown!(ChatLog, "struct ChatLog",
    required {}
    optional {
        "created_at" => created_at: Option<DateTime<Utc>> = time,
        "sender_type" => sender_type: Option<SenderType> = plain,
        "sender_id" => sender_id: Option<String> = plain,
        "type" => message_type: Option<MessageType> = plain,
        "message" => message: Option<String> = plain,
        "display_name" => display_name: Option<String> = plain,
    }
);

deserialize_keeping_unknown!(ApiData, "struct ApiData",
    required {}
    optional {
        "name" => name: Option<String> = plain,
        "value" => value: Option<String> = plain,
    }
);

deserialize_keeping_unknown!(Tag, "struct Tag",
    required {}
    optional {
        "name" => name: Option<String> = plain,
    }
);

deserialize_keeping_unknown!(ShoppingCart, "struct ShoppingCart",
    required {}
    optional {
        "id" => id: Option<Uuid> = plain,
        "opened_at" => opened_at: Option<DateTime<Utc>> = time,
        "total_price" => total_price: Option<Decimal> = plain,
        "monthly_total_price" => monthly_total_price: Option<Decimal> = plain,
        "currency" => currency: Option<String> = plain,
        "locked_at" => locked_at: Option<DateTime<Utc>> = time,
        "products" => products: Vec<CartProduct> = nullable_vec,
    }
);

deserialize_keeping_unknown!(CartProduct, "struct CartProduct",
    required {}
    optional {
        "id" => id: Option<Uuid> = plain,
        "name" => name: Option<String> = plain,
        "description" => description: Option<String> = plain,
        "category" => category: Option<String> = plain,
        "product_number" => product_number: Option<String> = plain,
        "price" => price: Option<Decimal> = plain,
        "quantity" => quantity: Option<i64> = plain,
        "monthly_price" => monthly_price: Option<Decimal> = plain,
        "monthly_quantity" => monthly_quantity: Option<i64> = plain,
        "stock_balance" => stock_balance: Option<i64> = plain,
        "added_at" => added_at: Option<DateTime<Utc>> = time,
        "deleted_at" => deleted_at: Option<DateTime<Utc>> = time,
    }
);

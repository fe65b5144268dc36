//! Seeded, realistic chats: the same seed gives the same chats on every machine.
//!
//! Used by the mock server, by `cargo xtask fixtures` for the generated fixtures, and by the
//! benchmarks. Chats come out in the API's canonical order (`start_time`, then `id`).

use chrono::{DateTime, TimeDelta, Utc};
use giosg_model::{
    ApiData, CartProduct, Chat, ChatLog, Decimal, MessageType, SenderType, ShoppingCart, Tag, Uuid,
};

/// The organisation the demo data belongs to.
pub const DEMO_ORG: Uuid = Uuid::from_u128(0x7f9e9580_095b_42c7_838c_c04e667b26f7);

/// The tags the generator uses, special characters included, so that filters get exercised.
pub const TAGS: [&str; 6] = [
    "Premium",
    "Support",
    "Sales lead",
    "Complaint",
    "VIP & friends",
    "päivä+1",
];

/// The rooms of the generated chats (see [`crate::directory::rooms`]).
pub(crate) const ROOMS: [u128; 4] = [
    0x9926bdfa_56e0_11e5_b98c_6c4008c08dfe,
    0x3b7d2a10_7c4e_4b1a_9e55_0d2f6c1a8b90,
    0x5c0e8f21_1a2b_4c3d_8e4f_5a6b7c8d9e0f,
    0xa1b2c3d4_e5f6_4a7b_8c9d_0e1f2a3b4c5d,
];

/// The operators of the generated chats: id and name (see [`crate::directory::users`]).
pub(crate) const OPERATORS: [(&str, &str); 3] = [
    ("c8a5f7e2-3b1d-4e6f-9a0b-1c2d3e4f5a6b", "John Doe"),
    ("d9b6a8f3-4c2e-4f70-8b1c-2d3e4f5a6b7c", "Aino Virtanen"),
    ("eac7b9a4-5d3f-4081-9c2d-3e4f5a6b7c8d", "Mateo García"),
];

const VISITORS: [&str; 5] = [
    "Milan Indrajit",
    "Sofia Laine",
    "Chen Wei",
    "Olivia Smith",
    "Visitor",
];

const OPERATOR_LINES: [&str; 5] = [
    "How may I help you?",
    "Let me check that for you.",
    "It is in stock and ships tomorrow.",
    "Is there anything else I can do?",
    "Thanks for chatting with us!",
];

const VISITOR_LINES: [&str; 5] = [
    "Could you tell me about whether this product is in stock?",
    "Does it come in blue?",
    "Great, thanks!",
    "Onko tämä saatavilla Suomessa? 🇫🇮",
    "I'd like to return an order.",
];

const PRODUCTS: [(&str, &str, i64); 5] = [
    ("Apple iPad Air 2", "Tablets", 49990),
    ("USB-C cable 2 m", "Accessories", 1290),
    ("Noise-cancelling headphones", "Audio", 24900),
    ("Streaming subscription", "Services", 999),
    ("Extended warranty", "Services", 4900),
];

const CURRENCIES: [&str; 3] = ["EUR", "EUR", "SEK"];

const PAGES: [(&str, &str); 4] = [
    ("http://www.customerpage.com/settings", "Settings page"),
    ("http://www.customerpage.com/", "Frontpage of our site"),
    ("http://www.customerpage.com/shop/tablets", "Tablets"),
    (
        "http://www.customerpage.com/support?q=returns&lang=fi",
        "Support – returns",
    ),
];

/// The moment the first generated chat starts; later ones follow minutes apart.
pub fn epoch() -> DateTime<Utc> {
    DateTime::from_timestamp(1_735_689_600, 0).expect("2025-01-01T00:00:00Z is in range")
}

/// Generates `count` chats from `seed`, in canonical order, starting at [`epoch`].
///
/// ```
/// let a = giosg_mock::generate(7, 3);
/// assert_eq!(a, giosg_mock::generate(7, 3));
/// assert!(a.windows(2).all(|w| w[0].start_time <= w[1].start_time));
/// ```
pub fn generate(seed: u64, count: usize) -> Vec<Chat> {
    let mut g = Generator::new(seed, epoch());
    (0..count).map(|_| g.chat()).collect()
}

/// A stream of generated chats, for data sets too large to hold (benchmarks) or for chats
/// "arriving" while a listing runs (drift).
#[derive(Clone, Debug)]
pub struct Generator {
    rng: fastrand::Rng,
    clock: DateTime<Utc>,
}

impl Generator {
    /// A generator from `seed` whose first chat starts at `start`.
    pub fn new(seed: u64, start: DateTime<Utc>) -> Self {
        Generator {
            rng: fastrand::Rng::with_seed(seed),
            clock: start,
        }
    }

    fn uuid(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.rng.u128(..).to_le_bytes()).into_uuid()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.usize(..items.len())]
    }

    fn millis(&mut self, max: i64) -> TimeDelta {
        TimeDelta::milliseconds(self.rng.i64(0..max))
    }

    /// The next chat, starting a little after the previous one.
    pub fn chat(&mut self) -> Chat {
        // 0 to 30 minutes apart: a few dozen chats a day in a busy shop.
        let gap = self.millis(30 * 60 * 1000);
        self.clock += gap;
        let start = self.clock;
        let id = self.uuid();
        let ended = self.rng.u8(..100) >= 6;
        let duration = TimeDelta::seconds(self.rng.i64(20..3600));
        let end = ended.then_some(start + duration);
        let visitor = *self.pick(&VISITORS);
        let (operator_id, operator) = *self.pick(&OPERATORS);
        let visitor_id = format!("{:032x}", self.rng.u128(..));

        let mut logs = Vec::new();
        let autosuggested = self.rng.u8(..100) < 25;
        if autosuggested {
            let mut log = ChatLog::new();
            log.created_at = Some(start);
            log.message_type = Some(MessageType::Autosuggest);
            log.sender_type = Some(SenderType::Operator);
            log.sender_id = Some(operator_id.to_owned());
            log.message = Some("Hi! Can I help you find something?".to_owned());
            log.display_name = Some(operator.to_owned());
            logs.push(log);
        }
        let exchanges = if self.rng.u8(..100) < 15 {
            0
        } else {
            self.rng.usize(1..7)
        };
        let mut t = start;
        let (mut operator_count, mut visitor_count) = (0u64, 0u64);
        for i in 0..exchanges * 2 {
            t += self.millis(90_000);
            let by_visitor = i % 2 == 0;
            let mut log = ChatLog::new();
            log.created_at = Some(t);
            log.message_type = Some(MessageType::Message);
            if by_visitor {
                visitor_count += 1;
                log.sender_type = Some(SenderType::Visitor);
                log.sender_id = Some(visitor_id.clone());
                log.message = Some((*self.pick(&VISITOR_LINES)).to_owned());
                log.display_name = Some(visitor.to_owned());
            } else {
                operator_count += 1;
                log.sender_type = Some(SenderType::Operator);
                log.sender_id = Some(operator_id.to_owned());
                log.message = Some((*self.pick(&OPERATOR_LINES)).to_owned());
                log.display_name = Some(operator.to_owned());
            }
            logs.push(log);
        }
        if autosuggested {
            operator_count += 1;
        }

        let tag_count = self.rng.usize(..3);
        let mut tags: Vec<Tag> = Vec::new();
        for _ in 0..tag_count {
            let tag = *self.pick(&TAGS);
            if !tags.iter().any(|t| t.name.as_deref() == Some(tag)) {
                tags.push(Tag::new(tag));
            }
        }

        let mut shopping_carts = Vec::new();
        if self.rng.u8(..100) < 30 {
            shopping_carts.push(self.cart(start, end));
        }

        let (url, title) = *self.pick(&PAGES);
        let (auto_url, auto_title) = *self.pick(&PAGES);
        let mut chat = Chat::new(id);
        chat.token = Some(format!(
            "{:032x}{:016x}",
            self.rng.u128(..),
            self.rng.u64(..)
        ));
        chat.start_time = Some(start);
        chat.end_time = end;
        chat.updated_at = Some(end.unwrap_or(t));
        chat.is_private = Some(self.rng.u8(..100) < 5);
        chat.is_real_conversation = Some(visitor_count > 0 && operator_count > 0);
        chat.is_autosuggested = Some(autosuggested);
        chat.room_id = Some(Uuid::from_u128(*self.pick(&ROOMS)));
        chat.api_data = vec![
            ApiData::new("name", visitor),
            ApiData::new(
                "customer_number",
                format!("{}", self.rng.u32(10_000_000..99_999_999)),
            ),
        ];
        chat.operator_message_count = Some(operator_count);
        chat.visitor_message_count = Some(visitor_count);
        chat.message_count = Some(operator_count + visitor_count);
        chat.start_url = Some(url.to_owned());
        chat.start_url_title = Some(title.to_owned());
        if autosuggested {
            chat.autosuggest_url = Some(auto_url.to_owned());
            chat.autosuggest_url_title = Some(auto_title.to_owned());
        }
        chat.logs = logs;
        chat.tags = tags;
        chat.shopping_carts = shopping_carts;
        chat
    }

    fn cart(&mut self, start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> ShoppingCart {
        let opened = start - self.millis(3_600_000);
        let mut cart = ShoppingCart::new();
        cart.id = Some(self.uuid());
        cart.opened_at = Some(opened);
        cart.currency = Some((*self.pick(&CURRENCIES)).to_owned());
        let mut total = Decimal::new(0, 2);
        let mut monthly_total = Decimal::new(0, 2);
        for _ in 0..self.rng.usize(1..4) {
            let (name, category, cents) = *self.pick(&PRODUCTS);
            let quantity = self.rng.i64(1..4);
            let monthly = category == "Services";
            let mut product = CartProduct::new();
            product.id = Some(self.uuid());
            product.name = Some(name.to_owned());
            product.description = Some(format!("{name}, in the {category} category."));
            product.category = Some(category.to_owned());
            product.product_number = Some(format!("{}", self.rng.u32(10_000..99_999)));
            product.added_at = Some(opened + self.millis(600_000));
            product.stock_balance = Some(self.rng.i64(0..500));
            let price = Decimal::new(cents, 2);
            if monthly {
                product.price = Some(Decimal::new(0, 2));
                product.quantity = Some(0);
                product.monthly_price = Some(price);
                product.monthly_quantity = Some(quantity);
            } else {
                product.price = Some(price);
                product.quantity = Some(quantity);
            }
            let removed = self.rng.u8(..100) < 15;
            if removed {
                product.deleted_at = Some(opened + TimeDelta::minutes(20));
            } else if monthly {
                monthly_total += price * Decimal::from(quantity);
            } else {
                total += price * Decimal::from(quantity);
            }
            cart.products.push(product);
        }
        cart.total_price = Some(total);
        cart.monthly_total_price = Some(monthly_total);
        if self.rng.u8(..100) < 60 {
            cart.locked_at = Some(end.unwrap_or(start) - TimeDelta::seconds(5));
        }
        cart
    }
}

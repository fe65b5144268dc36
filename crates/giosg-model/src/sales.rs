//! A chat's sales: the purchased carts' totals per currency, summed exactly or not at all.

use crate::Chat;
use rust_decimal::Decimal;
use std::fmt;
use uuid::Uuid;

impl Chat {
    /// The purchased carts' totals, one entry per currency, in first-seen order.
    ///
    /// A purchased cart without a currency or total is left out. Sums are exact: a currency
    /// whose carts total more than a [`Decimal`] holds (beyond ±[`Decimal::MAX`],
    /// 79,228,162,514,264,337,593,543,950,335) is a [`SalesOverflow`] naming the chat, never a
    /// wrong figure or a panic.
    ///
    /// ```
    /// use giosg_model::{Chat, ShoppingCart, Uuid};
    /// let mut chat = Chat::new(Uuid::from_u128(1));
    /// let mut cart = ShoppingCart::new();
    /// cart.total_price = Some("83.00".parse()?);
    /// cart.currency = Some("EUR".to_owned());
    /// cart.locked_at = Some(giosg_model::time::parse("2025-01-01T10:00:00Z")?);
    /// chat.shopping_carts = vec![cart.clone(), cart];
    /// assert_eq!(chat.sales_totals()?, vec![("EUR".to_owned(), "166.00".parse()?)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sales_totals(&self) -> Result<Vec<(String, Decimal)>, SalesOverflow> {
        let mut totals: Vec<(String, Decimal)> = Vec::new();
        for cart in self.shopping_carts.iter().filter(|c| c.is_purchased()) {
            let (Some(currency), Some(total)) = (&cart.currency, cart.total_price) else {
                continue;
            };
            match totals.iter_mut().find(|(c, _)| c == currency) {
                Some((_, sum)) => {
                    *sum = sum.checked_add(total).ok_or_else(|| SalesOverflow {
                        chat: self.id,
                        currency: currency.clone(),
                    })?;
                }
                None => totals.push((currency.clone(), total)),
            }
        }
        Ok(totals)
    }
}

/// A chat whose purchased carts total more than a [`Decimal`] holds in one currency (beyond
/// ±[`Decimal::MAX`]): no figure is given rather than a wrong one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SalesOverflow {
    /// The chat.
    pub chat: Uuid,
    /// The currency whose carts overflow, as the API sent it.
    pub currency: String,
}

impl fmt::Display for SalesOverflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the purchased carts of chat {} total more than a decimal holds (±{}) in {:?}",
            self.chat,
            Decimal::MAX,
            self.currency
        )
    }
}

impl std::error::Error for SalesOverflow {}

#[cfg(test)]
mod tests {
    use crate::{Chat, ShoppingCart, Uuid};
    use rust_decimal::Decimal;

    fn cart(total: Decimal, currency: &str) -> ShoppingCart {
        let mut cart = ShoppingCart::new();
        cart.total_price = Some(total);
        cart.currency = Some(currency.to_owned());
        cart.locked_at = Some(chrono::DateTime::UNIX_EPOCH);
        cart
    }

    #[test]
    fn a_sum_past_the_largest_decimal_is_an_error_naming_the_chat() {
        let mut chat = Chat::new(Uuid::from_u128(7));
        chat.shopping_carts = vec![
            cart(Decimal::MAX, "EUR"),
            cart(Decimal::MAX, "SEK"),
            cart(Decimal::MAX, "EUR"),
        ];
        let e = chat.sales_totals().unwrap_err();
        assert_eq!((e.chat, e.currency.as_str()), (chat.id, "EUR"));
        assert!(e
            .to_string()
            .contains("00000000-0000-0000-0000-000000000007"));
        // At the edge, and with a negative total on the way, the sums are exact.
        chat.shopping_carts = vec![
            cart(Decimal::MAX, "EUR"),
            cart(Decimal::MIN, "EUR"),
            cart(Decimal::MAX, "EUR"),
        ];
        assert_eq!(
            chat.sales_totals().unwrap(),
            vec![("EUR".into(), Decimal::MAX)]
        );
    }
}

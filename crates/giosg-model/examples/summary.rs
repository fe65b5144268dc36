//! Decodes a page of chats and prints a short summary of it.
//!
//! `cargo run -p giosg-model --example summary [PATH]` (default: the generated 100-chat page).

use giosg_model::{Chat, Page};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/generated/page-100.json"
        )
        .to_owned()
    });
    let page = Page::<Chat>::from_slice(&std::fs::read(&path)?)?;
    let chats = &page.results;
    let ended = chats.iter().filter(|c| c.is_ended()).count();
    let real = chats
        .iter()
        .filter(|c| c.is_real_conversation == Some(true))
        .count();
    let with_sales = chats.iter().filter(|c| c.has_sales()).count();
    let messages: u64 = chats.iter().filter_map(|c| c.message_count).sum();
    println!("{path}");
    println!(
        "page {} of {} ({} chats in all), {} on this page",
        page.current_page,
        page.num_pages,
        page.count,
        chats.len()
    );
    println!(
        "ended {ended}, real conversations {real}, with sales {with_sales}, messages {messages}"
    );
    let mut totals: Vec<(String, giosg_model::Decimal)> = Vec::new();
    for chat in chats {
        // Sums are checked: carts past what a decimal holds are an error, not a wrong figure.
        for (currency, sum) in chat.sales_totals()? {
            match totals.iter_mut().find(|(c, _)| *c == currency) {
                Some((_, total)) => {
                    *total = total
                        .checked_add(sum)
                        .ok_or(format!("the sales in {currency:?} overflow"))?
                }
                None => totals.push((currency, sum)),
            }
        }
    }
    for (currency, total) in totals {
        println!("sales {total} {currency}");
    }
    Ok(())
}

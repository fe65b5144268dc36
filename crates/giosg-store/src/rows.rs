//! Writing a chat as rows: the statements an upsert runs.

use crate::{ts, Error};
use giosg_model::{Chat, MessageType, SenderType};
use rusqlite::{params, Transaction};

/// The statements an upsert runs, prepared once per transaction.
pub(crate) struct Statements<'c> {
    pub(crate) select: rusqlite::Statement<'c>,
    pub(crate) delete: rusqlite::Statement<'c>,
    chat: rusqlite::Statement<'c>,
    log: rusqlite::Statement<'c>,
    tag: rusqlite::Statement<'c>,
    api_data: rusqlite::Statement<'c>,
    cart: rusqlite::Statement<'c>,
    product: rusqlite::Statement<'c>,
}

impl<'c> Statements<'c> {
    pub(crate) fn prepare(tx: &'c Transaction<'_>) -> Result<Self, Error> {
        Ok(Statements {
            select: tx.prepare("SELECT json, missing_since FROM chats WHERE id = ?1").map_err(crate::sqlite)?,
            delete: tx.prepare("DELETE FROM chats WHERE id = ?1").map_err(crate::sqlite)?,
            chat: tx.prepare(
                "INSERT INTO chats (id, token, start_time, end_time, updated_at, is_private,
                     is_real_conversation, is_autosuggested, room_id, operator_message_count,
                     visitor_message_count, message_count, start_url, start_url_title,
                     autosuggest_url, autosuggest_url_title, json, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18)",
            ).map_err(crate::sqlite)?,
            log: tx.prepare(
                "INSERT INTO chat_logs (chat_seq, chat_id, position, created_at, sender_type,
                     sender_id, type, message, display_name, sender, kind, decrypted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            ).map_err(crate::sqlite)?,
            tag: tx.prepare(
                "INSERT INTO chat_tags (chat_seq, chat_id, position, name) VALUES (?1, ?2, ?3, ?4)",
            ).map_err(crate::sqlite)?,
            api_data: tx.prepare(
                "INSERT INTO chat_api_data (chat_seq, chat_id, position, name, value)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            ).map_err(crate::sqlite)?,
            cart: tx.prepare(
                "INSERT INTO shopping_carts (chat_seq, chat_id, position, id, opened_at,
                     total_price, monthly_total_price, currency, locked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            ).map_err(crate::sqlite)?,
            product: tx.prepare(
                "INSERT INTO cart_products (chat_seq, chat_id, cart_position, position, id, name,
                     description, category, product_number, price, quantity, monthly_price,
                     monthly_quantity, stock_balance, added_at, deleted_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            ).map_err(crate::sqlite)?,
        })
    }

    /// Writes a chat and its children (none may be stored for it).
    pub(crate) fn insert(&mut self, chat: &Chat, json: &str, now: &str) -> Result<(), Error> {
        let id = chat.id.to_string();
        let seq = self
            .chat
            .insert(params![
                id,
                chat.token,
                ts(chat.start_time),
                ts(chat.end_time),
                ts(chat.updated_at),
                chat.is_private,
                chat.is_real_conversation,
                chat.is_autosuggested,
                chat.room_id.map(|r| r.to_string()),
                chat.operator_message_count.map(|n| n as i64),
                chat.visitor_message_count.map(|n| n as i64),
                chat.message_count.map(|n| n as i64),
                chat.start_url,
                chat.start_url_title,
                chat.autosuggest_url,
                chat.autosuggest_url_title,
                json,
                now,
            ])
            .map_err(crate::sqlite)?;
        for (i, log) in chat.logs.iter().enumerate() {
            self.log
                .execute(params![
                    seq,
                    id,
                    i as i64,
                    ts(log.created_at),
                    log.sender_type.map(i64::from),
                    log.sender_id,
                    log.message_type.map(i64::from),
                    log.message,
                    log.display_name,
                    log.sender_type.map(SenderType::label),
                    log.message_type.map(MessageType::label),
                    log.decrypted(),
                ])
                .map_err(crate::sqlite)?;
        }
        for (i, tag) in chat.tags.iter().enumerate() {
            self.tag
                .execute(params![seq, id, i as i64, tag.name])
                .map_err(crate::sqlite)?;
        }
        for (i, data) in chat.api_data.iter().enumerate() {
            self.api_data
                .execute(params![seq, id, i as i64, data.name, data.value])
                .map_err(crate::sqlite)?;
        }
        for (c, cart) in chat.shopping_carts.iter().enumerate() {
            self.cart
                .execute(params![
                    seq,
                    id,
                    c as i64,
                    cart.id.map(|u| u.to_string()),
                    ts(cart.opened_at),
                    cart.total_price.map(|d| d.to_string()),
                    cart.monthly_total_price.map(|d| d.to_string()),
                    cart.currency,
                    ts(cart.locked_at),
                ])
                .map_err(crate::sqlite)?;
            for (p, product) in cart.products.iter().enumerate() {
                self.product
                    .execute(params![
                        seq,
                        id,
                        c as i64,
                        p as i64,
                        product.id.map(|u| u.to_string()),
                        product.name,
                        product.description,
                        product.category,
                        product.product_number,
                        product.price.map(|d| d.to_string()),
                        product.quantity,
                        product.monthly_price.map(|d| d.to_string()),
                        product.monthly_quantity,
                        product.stock_balance,
                        ts(product.added_at),
                        ts(product.deleted_at),
                    ])
                    .map_err(crate::sqlite)?;
            }
        }
        Ok(())
    }
}

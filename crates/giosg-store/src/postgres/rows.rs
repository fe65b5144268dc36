//! Writing chats, rooms and users as rows: one multi-row statement per table (the columns
//! sent as arrays and unnested), not one statement per row.

use super::pg;
use crate::Error;
use crate::Upserted;
use giosg_model::{Chat, DateTime, MessageType, SenderType, Utc, Uuid};
use postgres::Transaction;
use std::collections::{HashMap, HashSet};

type Time = Option<DateTime<Utc>>;

/// A count as PostgreSQL's `bigint` (a count beyond it is kept as the largest).
fn big(n: Option<u64>) -> Option<i64> {
    n.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

/// A position as PostgreSQL's `integer`.
fn pos(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// A page of chats to store, each once (as given last), with its JSON and the JSON's SHA-256
/// (what tells whether a stored chat changed, without sending its JSON to compare).
pub(crate) struct Page {
    chats: Vec<Chat>,
    json: Vec<String>,
    sha256: Vec<Vec<u8>>,
}

impl Page {
    pub(crate) fn new(chats: &[Chat]) -> Page {
        let mut last: HashMap<Uuid, usize> = HashMap::with_capacity(chats.len());
        for (i, chat) in chats.iter().enumerate() {
            last.insert(chat.id, i);
        }
        let chats: Vec<Chat> = chats
            .iter()
            .enumerate()
            .filter(|(i, c)| last[&c.id] == *i)
            .map(|(_, c)| c.clone())
            .collect();
        let json: Vec<String> = chats
            .iter()
            .map(|c| serde_json::to_string(c).expect("a chat serialises"))
            .collect();
        let sha256 = json
            .iter()
            .map(|j| {
                use sha2::Digest;
                sha2::Sha256::digest(j.as_bytes()).to_vec()
            })
            .collect();
        Page {
            chats,
            json,
            sha256,
        }
    }

    /// Stores the page in `tx`: new chats inserted, changed ones replaced with their children,
    /// unchanged ones left; with `seen` (a full run's id), every chat marked as listed by it.
    pub(crate) fn store(
        &self,
        tx: &mut Transaction<'_>,
        seen: Option<i64>,
    ) -> Result<Upserted, Error> {
        let ids: Vec<Uuid> = self.chats.iter().map(|c| c.id).collect();
        // Which are stored already, and whether as they are now.
        let stored = tx
            .query(
                "SELECT c.id, c.json_sha256 = n.sha256 AND c.missing_since IS NULL
                 FROM unnest($1::uuid[], $2::bytea[]) AS n (id, sha256)
                     JOIN chats c ON c.id = n.id",
                &[&ids, &self.sha256],
            )
            .map_err(pg)?;
        let stored: HashMap<Uuid, bool> = stored.iter().map(|r| (r.get(0), r.get(1))).collect();
        let mut counts = Upserted::default();
        let mut replaced = Vec::new();
        let mut write = Vec::new();
        for (i, chat) in self.chats.iter().enumerate() {
            match stored.get(&chat.id) {
                Some(true) => counts.unchanged += 1,
                Some(false) => {
                    replaced.push(chat.id);
                    write.push(i);
                    counts.updated += 1;
                }
                None => {
                    write.push(i);
                    counts.new += 1;
                }
            }
        }
        if !replaced.is_empty() {
            // The children go with the old row.
            self.delete(tx, &replaced)?;
        }
        if !write.is_empty() {
            self.insert(tx, &write)?;
        }
        if let Some(run) = seen {
            tx.execute(
                "UPDATE chats SET seen_run = $1 WHERE id = ANY($2)",
                &[&run, &ids],
            )
            .map_err(pg)?;
        }
        Ok(counts)
    }

    /// Replaces the rows of the chats already stored (those not stored are left out), keeping
    /// when each went missing and which run listed it; returns how many were replaced.
    pub(crate) fn replace(&self, tx: &mut Transaction<'_>) -> Result<u64, Error> {
        let ids: Vec<Uuid> = self.chats.iter().map(|c| c.id).collect();
        let kept = tx
            .query(
                "SELECT id, missing_since, seen_run FROM chats WHERE id = ANY($1)",
                &[&ids],
            )
            .map_err(pg)?;
        let kept: HashMap<Uuid, (Time, Option<i64>)> = kept
            .iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2))))
            .collect();
        let which: Vec<usize> = (0..self.chats.len())
            .filter(|&i| kept.contains_key(&self.chats[i].id))
            .collect();
        let replaced: Vec<Uuid> = which.iter().map(|&i| self.chats[i].id).collect();
        if replaced.is_empty() {
            return Ok(0);
        }
        self.delete(tx, &replaced)?;
        self.insert(tx, &which)?;
        let missing: Vec<Time> = replaced.iter().map(|id| kept[id].0).collect();
        let seen: Vec<Option<i64>> = replaced.iter().map(|id| kept[id].1).collect();
        tx.execute(
            "UPDATE chats c SET missing_since = k.missing_since, seen_run = k.seen_run
             FROM unnest($1::uuid[], $2::timestamptz[], $3::bigint[])
                 AS k (id, missing_since, seen_run)
             WHERE c.id = k.id",
            &[&replaced, &missing, &seen],
        )
        .map_err(pg)?;
        Ok(replaced.len() as u64)
    }

    /// Deletes these chats and their children, in one statement.
    fn delete(&self, tx: &mut Transaction<'_>, ids: &[Uuid]) -> Result<(), Error> {
        tx.execute(
            "WITH gone AS (DELETE FROM chats WHERE id = ANY($1) RETURNING seq),
                 logs AS (DELETE FROM chat_logs WHERE chat_seq IN (SELECT seq FROM gone)),
                 tags AS (DELETE FROM chat_tags WHERE chat_seq IN (SELECT seq FROM gone)),
                 data AS (DELETE FROM chat_api_data WHERE chat_seq IN (SELECT seq FROM gone)),
                 carts AS (DELETE FROM shopping_carts WHERE chat_seq IN (SELECT seq FROM gone))
             DELETE FROM cart_products WHERE chat_seq IN (SELECT seq FROM gone)",
            &[&ids],
        )
        .map_err(pg)?;
        Ok(())
    }

    /// Inserts the chats at `which` and their children.
    fn insert(&self, tx: &mut Transaction<'_>, which: &[usize]) -> Result<(), Error> {
        let chats: Vec<&Chat> = which.iter().map(|&i| &self.chats[i]).collect();
        let col =
            |f: &dyn Fn(&Chat) -> Option<String>| chats.iter().map(|c| f(c)).collect::<Vec<_>>();
        let time = |f: &dyn Fn(&Chat) -> Time| chats.iter().map(|c| f(c)).collect::<Vec<_>>();
        let flag =
            |f: &dyn Fn(&Chat) -> Option<bool>| chats.iter().map(|c| f(c)).collect::<Vec<_>>();
        let count =
            |f: &dyn Fn(&Chat) -> Option<u64>| chats.iter().map(|c| big(f(c))).collect::<Vec<_>>();
        let ids: Vec<Uuid> = chats.iter().map(|c| c.id).collect();
        let rooms: Vec<Option<Uuid>> = chats.iter().map(|c| c.room_id).collect();
        let json: Vec<&str> = which.iter().map(|&i| self.json[i].as_str()).collect();
        let sha256: Vec<&[u8]> = which.iter().map(|&i| self.sha256[i].as_slice()).collect();
        let rows = tx
            .query(
                "INSERT INTO chats (id, token, start_time, end_time, updated_at, is_private,
                     is_real_conversation, is_autosuggested, room_id, operator_message_count,
                     visitor_message_count, message_count, start_url, start_url_title,
                     autosuggest_url, autosuggest_url_title, json, json_sha256, fetched_at)
                 SELECT id, token, start_time, end_time, updated_at, is_private,
                     is_real_conversation, is_autosuggested, room_id, operator_message_count,
                     visitor_message_count, message_count, start_url, start_url_title,
                     autosuggest_url, autosuggest_url_title, json::jsonb, sha256, now()
                 FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[],
                     $5::timestamptz[], $6::boolean[], $7::boolean[], $8::boolean[], $9::uuid[],
                     $10::bigint[], $11::bigint[], $12::bigint[], $13::text[], $14::text[],
                     $15::text[], $16::text[], $17::text[], $18::bytea[])
                     AS n (id, token, start_time, end_time, updated_at, is_private,
                     is_real_conversation, is_autosuggested, room_id, operator_message_count,
                     visitor_message_count, message_count, start_url, start_url_title,
                     autosuggest_url, autosuggest_url_title, json, sha256)
                 RETURNING id, seq",
                &[
                    &ids,
                    &col(&|c| c.token.clone()),
                    &time(&|c| c.start_time),
                    &time(&|c| c.end_time),
                    &time(&|c| c.updated_at),
                    &flag(&|c| c.is_private),
                    &flag(&|c| c.is_real_conversation),
                    &flag(&|c| c.is_autosuggested),
                    &rooms,
                    &count(&|c| c.operator_message_count),
                    &count(&|c| c.visitor_message_count),
                    &count(&|c| c.message_count),
                    &col(&|c| c.start_url.clone()),
                    &col(&|c| c.start_url_title.clone()),
                    &col(&|c| c.autosuggest_url.clone()),
                    &col(&|c| c.autosuggest_url_title.clone()),
                    &json,
                    &sha256,
                ],
            )
            .map_err(pg)?;
        let seq: HashMap<Uuid, i64> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let children = Children::of(&chats, &seq);
        children.insert(tx)
    }
}

/// The children of the chats inserted, column by column.
#[derive(Default)]
struct Children {
    log_seq: Vec<i64>,
    log_chat: Vec<Uuid>,
    log_pos: Vec<i32>,
    log_created: Vec<Time>,
    log_sender_type: Vec<Option<i32>>,
    log_sender_id: Vec<Option<String>>,
    log_type: Vec<Option<i32>>,
    log_message: Vec<Option<String>>,
    log_display_name: Vec<Option<String>>,
    log_sender: Vec<Option<String>>,
    log_kind: Vec<Option<String>>,
    log_decrypted: Vec<Option<bool>>,
    tag_seq: Vec<i64>,
    tag_chat: Vec<Uuid>,
    tag_pos: Vec<i32>,
    tag_name: Vec<Option<String>>,
    data_seq: Vec<i64>,
    data_chat: Vec<Uuid>,
    data_pos: Vec<i32>,
    data_name: Vec<Option<String>>,
    data_value: Vec<Option<String>>,
    cart_seq: Vec<i64>,
    cart_chat: Vec<Uuid>,
    cart_pos: Vec<i32>,
    cart_id: Vec<Option<Uuid>>,
    cart_opened: Vec<Time>,
    cart_total: Vec<Option<String>>,
    cart_monthly: Vec<Option<String>>,
    cart_currency: Vec<Option<String>>,
    cart_locked: Vec<Time>,
    product_seq: Vec<i64>,
    product_chat: Vec<Uuid>,
    product_cart: Vec<i32>,
    product_pos: Vec<i32>,
    product_id: Vec<Option<Uuid>>,
    product_name: Vec<Option<String>>,
    product_description: Vec<Option<String>>,
    product_category: Vec<Option<String>>,
    product_number: Vec<Option<String>>,
    product_price: Vec<Option<String>>,
    product_quantity: Vec<Option<i64>>,
    product_monthly_price: Vec<Option<String>>,
    product_monthly_quantity: Vec<Option<i64>>,
    product_stock: Vec<Option<i64>>,
    product_added: Vec<Time>,
    product_deleted: Vec<Time>,
}

/// A code as PostgreSQL's `integer`.
fn code(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl Children {
    fn of(chats: &[&Chat], seqs: &HashMap<Uuid, i64>) -> Children {
        let mut c = Children::default();
        for chat in chats {
            let (seq, id) = (seqs[&chat.id], chat.id);
            for (i, log) in chat.logs.iter().enumerate() {
                c.log_seq.push(seq);
                c.log_chat.push(id);
                c.log_pos.push(pos(i));
                c.log_created.push(log.created_at);
                c.log_sender_type
                    .push(log.sender_type.map(|t| code(i64::from(t))));
                c.log_sender_id.push(log.sender_id.clone());
                c.log_type
                    .push(log.message_type.map(|t| code(i64::from(t))));
                c.log_message.push(log.message.clone());
                c.log_display_name.push(log.display_name.clone());
                c.log_sender.push(log.sender_type.map(SenderType::label));
                c.log_kind.push(log.message_type.map(MessageType::label));
                c.log_decrypted.push(log.decrypted());
            }
            for (i, tag) in chat.tags.iter().enumerate() {
                c.tag_seq.push(seq);
                c.tag_chat.push(id);
                c.tag_pos.push(pos(i));
                c.tag_name.push(tag.name.clone());
            }
            for (i, data) in chat.api_data.iter().enumerate() {
                c.data_seq.push(seq);
                c.data_chat.push(id);
                c.data_pos.push(pos(i));
                c.data_name.push(data.name.clone());
                c.data_value.push(data.value.clone());
            }
            for (ci, cart) in chat.shopping_carts.iter().enumerate() {
                c.cart_seq.push(seq);
                c.cart_chat.push(id);
                c.cart_pos.push(pos(ci));
                c.cart_id.push(cart.id);
                c.cart_opened.push(cart.opened_at);
                c.cart_total.push(cart.total_price.map(|d| d.to_string()));
                c.cart_monthly
                    .push(cart.monthly_total_price.map(|d| d.to_string()));
                c.cart_currency.push(cart.currency.clone());
                c.cart_locked.push(cart.locked_at);
                for (pi, p) in cart.products.iter().enumerate() {
                    c.product_seq.push(seq);
                    c.product_chat.push(id);
                    c.product_cart.push(pos(ci));
                    c.product_pos.push(pos(pi));
                    c.product_id.push(p.id);
                    c.product_name.push(p.name.clone());
                    c.product_description.push(p.description.clone());
                    c.product_category.push(p.category.clone());
                    c.product_number.push(p.product_number.clone());
                    c.product_price.push(p.price.map(|d| d.to_string()));
                    c.product_quantity.push(p.quantity);
                    c.product_monthly_price
                        .push(p.monthly_price.map(|d| d.to_string()));
                    c.product_monthly_quantity.push(p.monthly_quantity);
                    c.product_stock.push(p.stock_balance);
                    c.product_added.push(p.added_at);
                    c.product_deleted.push(p.deleted_at);
                }
            }
        }
        c
    }

    fn insert(&self, tx: &mut Transaction<'_>) -> Result<(), Error> {
        if !self.log_seq.is_empty() {
            tx.execute(
                "INSERT INTO chat_logs (chat_seq, chat_id, position, created_at, sender_type,
                     sender_id, type, message, display_name, sender, kind, decrypted)
                 SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::integer[],
                     $4::timestamptz[], $5::integer[], $6::text[], $7::integer[], $8::text[],
                     $9::text[], $10::text[], $11::text[], $12::boolean[])",
                &[
                    &self.log_seq,
                    &self.log_chat,
                    &self.log_pos,
                    &self.log_created,
                    &self.log_sender_type,
                    &self.log_sender_id,
                    &self.log_type,
                    &self.log_message,
                    &self.log_display_name,
                    &self.log_sender,
                    &self.log_kind,
                    &self.log_decrypted,
                ],
            )
            .map_err(pg)?;
        }
        if !self.tag_seq.is_empty() {
            tx.execute(
                "INSERT INTO chat_tags (chat_seq, chat_id, position, name)
                 SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::integer[], $4::text[])",
                &[&self.tag_seq, &self.tag_chat, &self.tag_pos, &self.tag_name],
            )
            .map_err(pg)?;
        }
        if !self.data_seq.is_empty() {
            tx.execute(
                "INSERT INTO chat_api_data (chat_seq, chat_id, position, name, value)
                 SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::integer[], $4::text[],
                     $5::text[])",
                &[
                    &self.data_seq,
                    &self.data_chat,
                    &self.data_pos,
                    &self.data_name,
                    &self.data_value,
                ],
            )
            .map_err(pg)?;
        }
        if !self.cart_seq.is_empty() {
            tx.execute(
                "INSERT INTO shopping_carts (chat_seq, chat_id, position, id, opened_at,
                     total_price, monthly_total_price, currency, locked_at)
                 SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::integer[], $4::uuid[],
                     $5::timestamptz[], $6::text[]::numeric[], $7::text[]::numeric[],
                     $8::text[], $9::timestamptz[])",
                &[
                    &self.cart_seq,
                    &self.cart_chat,
                    &self.cart_pos,
                    &self.cart_id,
                    &self.cart_opened,
                    &self.cart_total,
                    &self.cart_monthly,
                    &self.cart_currency,
                    &self.cart_locked,
                ],
            )
            .map_err(pg)?;
        }
        if !self.product_seq.is_empty() {
            tx.execute(
                "INSERT INTO cart_products (chat_seq, chat_id, cart_position, position, id,
                     name, description, category, product_number, price, quantity,
                     monthly_price, monthly_quantity, stock_balance, added_at, deleted_at)
                 SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::integer[], $4::integer[],
                     $5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[],
                     $10::text[]::numeric[], $11::bigint[], $12::text[]::numeric[],
                     $13::bigint[], $14::bigint[], $15::timestamptz[], $16::timestamptz[])",
                &[
                    &self.product_seq,
                    &self.product_chat,
                    &self.product_cart,
                    &self.product_pos,
                    &self.product_id,
                    &self.product_name,
                    &self.product_description,
                    &self.product_category,
                    &self.product_number,
                    &self.product_price,
                    &self.product_quantity,
                    &self.product_monthly_price,
                    &self.product_monthly_quantity,
                    &self.product_stock,
                    &self.product_added,
                    &self.product_deleted,
                ],
            )
            .map_err(pg)?;
        }
        Ok(())
    }
}

/// Marks the live rows of `table` whose id is not in `listed` missing since now; returns how
/// many.
fn mark_missing(tx: &mut Transaction<'_>, table: &str, listed: &[Uuid]) -> Result<u64, Error> {
    tx.execute(
        &format!(
            "UPDATE {table} SET missing_since = now()
             WHERE missing_since IS NULL AND NOT (id = ANY($1))"
        ),
        &[&listed],
    )
    .map_err(pg)
}

/// The organisation's rooms as the rooms listing returned them.
pub(crate) struct Rooms {
    id: Vec<Uuid>,
    name: Vec<Option<String>>,
    display_name: Vec<Option<String>>,
    domain: Vec<Option<String>>,
    organization_id: Vec<Option<Uuid>>,
    is_shared: Vec<Option<bool>>,
    is_deleted: Vec<Option<bool>>,
    json: Vec<String>,
}

impl Rooms {
    pub(crate) fn new(rooms: &[giosg_model::Room]) -> Rooms {
        let rooms = once_each(rooms, |r| r.id);
        Rooms {
            id: rooms.iter().map(|r| r.id).collect(),
            name: rooms.iter().map(|r| r.name.clone()).collect(),
            display_name: rooms.iter().map(|r| r.display_name.clone()).collect(),
            domain: rooms.iter().map(|r| r.domain.clone()).collect(),
            organization_id: rooms.iter().map(|r| r.organization_id).collect(),
            is_shared: rooms.iter().map(|r| r.is_shared).collect(),
            is_deleted: rooms.iter().map(|r| r.is_deleted).collect(),
            json: rooms
                .iter()
                .map(|r| serde_json::to_string(r).expect("a room serialises"))
                .collect(),
        }
    }

    /// Replaces each room's row and marks the ones no longer listed; returns how many were
    /// newly marked.
    pub(crate) fn store(&self, tx: &mut Transaction<'_>) -> Result<u64, Error> {
        tx.execute(
            "INSERT INTO rooms (id, name, display_name, domain, organization_id, is_shared,
                 is_deleted, json, fetched_at, missing_since)
             SELECT id, name, display_name, domain, organization_id, is_shared, is_deleted,
                 json::jsonb, now(), NULL
             FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[],
                 $6::boolean[], $7::boolean[], $8::text[])
                 AS n (id, name, display_name, domain, organization_id, is_shared, is_deleted,
                 json)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                 display_name = excluded.display_name, domain = excluded.domain,
                 organization_id = excluded.organization_id, is_shared = excluded.is_shared,
                 is_deleted = excluded.is_deleted, json = excluded.json,
                 fetched_at = excluded.fetched_at, missing_since = NULL",
            &[
                &self.id,
                &self.name,
                &self.display_name,
                &self.domain,
                &self.organization_id,
                &self.is_shared,
                &self.is_deleted,
                &self.json,
            ],
        )
        .map_err(pg)?;
        mark_missing(tx, "rooms", &self.id)
    }
}

/// The organisation's users as the users listing returned them.
pub(crate) struct Users {
    id: Vec<Uuid>,
    full_name: Vec<Option<String>>,
    first_name: Vec<Option<String>>,
    last_name: Vec<Option<String>>,
    alias: Vec<Option<String>>,
    email: Vec<Option<String>>,
    is_bot: Vec<Option<bool>>,
    deleted_at: Vec<Time>,
    json: Vec<String>,
}

impl Users {
    pub(crate) fn new(users: &[giosg_model::User]) -> Users {
        let users = once_each(users, |u| u.id);
        Users {
            id: users.iter().map(|u| u.id).collect(),
            full_name: users.iter().map(|u| u.full_name.clone()).collect(),
            first_name: users.iter().map(|u| u.first_name.clone()).collect(),
            last_name: users.iter().map(|u| u.last_name.clone()).collect(),
            alias: users.iter().map(|u| u.alias.clone()).collect(),
            email: users.iter().map(|u| u.email.clone()).collect(),
            is_bot: users.iter().map(|u| u.is_bot).collect(),
            deleted_at: users.iter().map(|u| u.deleted_at).collect(),
            json: users
                .iter()
                .map(|u| serde_json::to_string(u).expect("a user serialises"))
                .collect(),
        }
    }

    /// Replaces each user's row and marks the ones no longer listed; returns how many were
    /// newly marked.
    pub(crate) fn store(&self, tx: &mut Transaction<'_>) -> Result<u64, Error> {
        tx.execute(
            "INSERT INTO users (id, full_name, first_name, last_name, alias, email, is_bot,
                 deleted_at, json, fetched_at, missing_since)
             SELECT id, full_name, first_name, last_name, alias, email, is_bot, deleted_at,
                 json::jsonb, now(), NULL
             FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                 $6::text[], $7::boolean[], $8::timestamptz[], $9::text[])
                 AS n (id, full_name, first_name, last_name, alias, email, is_bot, deleted_at,
                 json)
             ON CONFLICT (id) DO UPDATE SET full_name = excluded.full_name,
                 first_name = excluded.first_name, last_name = excluded.last_name,
                 alias = excluded.alias, email = excluded.email, is_bot = excluded.is_bot,
                 deleted_at = excluded.deleted_at, json = excluded.json,
                 fetched_at = excluded.fetched_at, missing_since = NULL",
            &[
                &self.id,
                &self.full_name,
                &self.first_name,
                &self.last_name,
                &self.alias,
                &self.email,
                &self.is_bot,
                &self.deleted_at,
                &self.json,
            ],
        )
        .map_err(pg)?;
        mark_missing(tx, "users", &self.id)
    }
}

/// Each item once, as it comes last (ON CONFLICT may not touch a row twice in one statement).
fn once_each<T>(items: &[T], id: impl Fn(&T) -> Uuid) -> Vec<&T> {
    let mut seen = HashSet::new();
    let mut out: Vec<&T> = items.iter().rev().filter(|x| seen.insert(id(x))).collect();
    out.reverse();
    out
}

-- giosg-store schema version 1, as 0.1.0 wrote it: the migration test starts from it.
CREATE TABLE sync_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    org TEXT NOT NULL,           -- the organisation the file was made for
    filter TEXT NOT NULL,        -- its filters, as the API's query string (page size aside)
    listed_until TEXT,           -- start time of the last chat of the last complete listing
    last_sync_at TEXT,
    last_full_sync_at TEXT
);
CREATE TABLE chats (
    id TEXT PRIMARY KEY,
    token TEXT,
    start_time TEXT,
    end_time TEXT,
    updated_at TEXT,
    is_private INTEGER,
    is_real_conversation INTEGER,
    is_autosuggested INTEGER,
    room_id TEXT,
    operator_message_count INTEGER,
    visitor_message_count INTEGER,
    message_count INTEGER,
    start_url TEXT,
    start_url_title TEXT,
    autosuggest_url TEXT,
    autosuggest_url_title TEXT,
    json TEXT NOT NULL,          -- the whole chat as the API sent it (unknown members included)
    fetched_at TEXT NOT NULL,    -- when this version was stored
    missing_since TEXT           -- when a full sync found the server no longer serves it
);
CREATE INDEX chats_by_start_time ON chats (start_time);
CREATE INDEX chats_by_room ON chats (room_id, start_time);
CREATE INDEX chats_open ON chats (start_time) WHERE end_time IS NULL;
CREATE TABLE chat_logs (
    chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    created_at TEXT,
    sender_type INTEGER,
    sender_id TEXT,
    type INTEGER,
    message TEXT,
    display_name TEXT,
    PRIMARY KEY (chat_id, position)
);
CREATE TABLE chat_tags (
    chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT,
    PRIMARY KEY (chat_id, position)
);
CREATE INDEX chat_tags_by_name ON chat_tags (name);
CREATE TABLE chat_api_data (
    chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT,
    value TEXT,
    PRIMARY KEY (chat_id, position)
);
CREATE TABLE shopping_carts (
    chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    id TEXT,
    opened_at TEXT,
    total_price TEXT,
    monthly_total_price TEXT,
    currency TEXT,
    locked_at TEXT,
    PRIMARY KEY (chat_id, position)
);
CREATE TABLE cart_products (
    chat_id TEXT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    cart_position INTEGER NOT NULL,
    position INTEGER NOT NULL,
    id TEXT,
    name TEXT,
    description TEXT,
    category TEXT,
    product_number TEXT,
    price TEXT,
    quantity INTEGER,
    monthly_price TEXT,
    monthly_quantity INTEGER,
    stock_balance INTEGER,
    added_at TEXT,
    deleted_at TEXT,
    PRIMARY KEY (chat_id, cart_position, position)
);

-- Cases, their full-process record (hash-chained per county), idempotency keys, attachments.
-- Append-only: never edit a shipped migration.

CREATE TABLE cases (
    id              TEXT PRIMARY KEY,          -- UUIDv7
    number          TEXT NOT NULL UNIQUE,
    county_code     TEXT NOT NULL,             -- the shard key
    township_code   TEXT,
    village_code    TEXT,
    grid_code       TEXT,
    state           TEXT NOT NULL,
    tier            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    category        TEXT,
    urgency         TEXT NOT NULL,
    unit            TEXT,
    overdue         INTEGER NOT NULL DEFAULT 0,
    stage_overdue   INTEGER NOT NULL DEFAULT 0,
    is_open         INTEGER NOT NULL,
    stage_deadline  TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    version         INTEGER NOT NULL,
    body            TEXT NOT NULL              -- the whole case, as the domain serialises it
);
CREATE INDEX cases_county_id ON cases (county_code, id);
CREATE INDEX cases_township_id ON cases (township_code, id);
CREATE INDEX cases_village_id ON cases (village_code, id);
CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX cases_grid_id ON cases (grid_code, id);
CREATE INDEX cases_state_id ON cases (state, id);
CREATE INDEX cases_deadline ON cases (stage_deadline) WHERE is_open = 1 AND stage_overdue = 0;

-- The full-process record (全过程记录). Never updated, never deleted: each row carries the hash
-- of the previous row of its county's chain and its own hash over its fields.
CREATE TABLE records (
    county_code  TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    id           TEXT NOT NULL UNIQUE,
    case_id      TEXT,
    act          TEXT NOT NULL,
    actor        TEXT NOT NULL,
    role         TEXT NOT NULL,
    from_state   TEXT,
    to_state     TEXT,
    at           TEXT NOT NULL,
    note         TEXT NOT NULL,
    attachments  TEXT NOT NULL,
    details      TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    PRIMARY KEY (county_code, seq)
) WITHOUT ROWID; -- stored in chain order, so that verifying reads it front to back
CREATE INDEX records_case ON records (case_id, county_code, seq);

-- The head of each county's chain: appends read and move it in the same transaction.
CREATE TABLE chain_heads (
    county_code  TEXT PRIMARY KEY,
    seq          INTEGER NOT NULL,
    hash         TEXT NOT NULL
);

-- Every so often the heads of all chains are chained into one log, so the whole store
-- verifies as one and a truncated county chain is noticed.
CREATE TABLE checkpoints (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    heads      TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);

CREATE TABLE idempotency_keys (
    key           TEXT PRIMARY KEY,
    request_hash  TEXT NOT NULL,
    case_id       TEXT NOT NULL,
    response      TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX idempotency_created ON idempotency_keys (created_at);

CREATE TABLE case_counters (
    county_code  TEXT NOT NULL,
    day          TEXT NOT NULL,
    last         INTEGER NOT NULL,
    PRIMARY KEY (county_code, day)
);

-- Photos and other evidence, stored once by the SHA-256 of their content.
CREATE TABLE attachments (
    hash          TEXT PRIMARY KEY,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    bytes         BLOB NOT NULL,
    created_at    TEXT NOT NULL
);

-- Cases, their full-process record (hash-chained per county), idempotency keys, attachments.
-- Append-only: never edit a shipped migration.
--
-- county_code leads the primary keys of cases, records and chain heads so that the same
-- schema can be distributed by county (Citus). Every value that is hashed is kept as the very
-- text that was hashed (TEXT, never JSONB, which would re-serialise it).

CREATE TABLE cases (
    county_code     TEXT COLLATE "C" NOT NULL,  -- the shard key
    id              TEXT COLLATE "C" NOT NULL,  -- UUIDv7: byte order is time order
    number          TEXT COLLATE "C" NOT NULL,
    township_code   TEXT COLLATE "C",
    village_code    TEXT COLLATE "C",
    grid_code       TEXT COLLATE "C",
    state           TEXT NOT NULL,
    tier            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    category        TEXT COLLATE "C",
    urgency         TEXT NOT NULL,
    unit            TEXT,
    overdue         BOOLEAN NOT NULL DEFAULT FALSE,
    stage_overdue   BOOLEAN NOT NULL DEFAULT FALSE,
    is_open         BOOLEAN NOT NULL,
    stage_deadline  TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    version         BIGINT NOT NULL,
    body            JSONB NOT NULL,             -- the whole case, as the domain serialises it
    PRIMARY KEY (county_code, id)
);
-- Lookups by id and by number know no county. On plain PostgreSQL these stay unique, as on
-- SQLite; distributed by county they would become plain indexes (ids are UUIDv7 and numbers
-- start with the county code, so neither can collide across counties anyway).
CREATE UNIQUE INDEX cases_id ON cases (id);
CREATE UNIQUE INDEX cases_number ON cases (number);
CREATE INDEX cases_county_id ON cases (county_code, id DESC);
CREATE INDEX cases_township_id ON cases (township_code, id DESC);
CREATE INDEX cases_village_id ON cases (village_code, id DESC);
CREATE INDEX cases_grid_id ON cases (grid_code, id DESC);
CREATE INDEX cases_state_id ON cases (state, id DESC);
CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX cases_deadline ON cases (stage_deadline) WHERE is_open AND NOT stage_overdue;

-- The full-process record (全过程记录). Never updated, never deleted: each row carries the hash
-- of the previous row of its county's chain and its own hash over its fields.
CREATE TABLE records (
    county_code  TEXT COLLATE "C" NOT NULL,
    seq          BIGINT NOT NULL,
    id           TEXT COLLATE "C" NOT NULL,
    case_id      TEXT COLLATE "C",
    act          TEXT NOT NULL,
    actor        TEXT NOT NULL,
    role         TEXT NOT NULL,
    from_state   TEXT,
    to_state     TEXT,
    at           TEXT NOT NULL,      -- RFC 3339, microseconds, UTC: exactly as hashed
    note         TEXT NOT NULL,
    attachments  TEXT NOT NULL,      -- JSON array text, exactly as hashed
    details      TEXT NOT NULL,      -- JSON object text, exactly as hashed
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    PRIMARY KEY (county_code, seq),
    UNIQUE (county_code, id)
);
CREATE INDEX records_case ON records (case_id, county_code, seq);

-- The head of each county's chain: an append locks its county's row (SELECT … FOR UPDATE) in
-- the transaction of the case change, so appends to one county serialise and appends to
-- different counties never wait on each other.
CREATE TABLE chain_heads (
    county_code  TEXT COLLATE "C" PRIMARY KEY,
    seq          BIGINT NOT NULL,
    hash         TEXT NOT NULL
);

-- Every so often the heads of all chains are chained into one log, so the whole store
-- verifies as one and a truncated county chain is noticed.
CREATE TABLE checkpoints (
    seq        BIGINT PRIMARY KEY,
    at         TEXT NOT NULL,        -- as hashed
    heads      TEXT NOT NULL,        -- JSON text, as hashed
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);

CREATE TABLE idempotency_keys (
    key           TEXT COLLATE "C" PRIMARY KEY,
    request_hash  TEXT NOT NULL,
    case_id       TEXT COLLATE "C" NOT NULL,
    response      JSONB NOT NULL,    -- the case as first answered
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX idempotency_created ON idempotency_keys (created_at);

CREATE TABLE case_counters (
    county_code  TEXT COLLATE "C" NOT NULL,
    day          DATE NOT NULL,      -- the day in Asia/Shanghai
    last         BIGINT NOT NULL,
    PRIMARY KEY (county_code, day)
);

-- Photos and other evidence, stored once by the SHA-256 of their content.
CREATE TABLE attachments (
    hash          TEXT COLLATE "C" PRIMARY KEY,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    bytes         BYTEA NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

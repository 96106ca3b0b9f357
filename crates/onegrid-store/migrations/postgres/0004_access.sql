-- Accounts, the roles they hold in scopes, sessions, API tokens, and what ties a case to the
-- resident who reported it (an account, a tracking code, the keyed hash of a phone number).
-- Append-only: never edit a shipped migration.

ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT false;

-- One row per role held in one scope (一人通全岗: a person may hold many).
CREATE TABLE assignments (
    user_id     TEXT NOT NULL REFERENCES users (id),
    role        TEXT NOT NULL,
    scope       TEXT NOT NULL,
    granted_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, role, scope)
);
-- The accounts made before assignments existed held their roles in their one scope.
INSERT INTO assignments (user_id, role, scope, granted_at)
    SELECT id, unnest(roles), scope_code, created_at FROM users;

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    csrf          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    ended_at      TIMESTAMPTZ
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    name          TEXT NOT NULL,
    hash          TEXT NOT NULL UNIQUE,
    scope         TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Keyed by case and county (the distribution column) like the cases themselves.
CREATE TABLE case_access (
    case_id           TEXT NOT NULL,
    county_code       TEXT NOT NULL,
    reporter_account  TEXT,
    tracking_hash     TEXT,
    phone_hash        TEXT,
    PRIMARY KEY (county_code, case_id)
);
CREATE UNIQUE INDEX case_access_tracking ON case_access (tracking_hash, county_code)
    WHERE tracking_hash IS NOT NULL;
CREATE INDEX case_access_case ON case_access (case_id);
CREATE INDEX case_access_account ON case_access (reporter_account) WHERE reporter_account IS NOT NULL;
CREATE INDEX case_access_phone ON case_access (phone_hash) WHERE phone_hash IS NOT NULL;

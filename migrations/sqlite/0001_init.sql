-- The schema of the auth API (SQLite). Times are Unix seconds.

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    username            TEXT    NOT NULL,
    -- lower-cased in Rust (Unicode-aware), so uniqueness and look-ups are
    -- case-insensitive the same way on every backend
    username_key        TEXT    NOT NULL UNIQUE,
    email               TEXT    NOT NULL,
    email_key           TEXT    NOT NULL UNIQUE,
    full_name           TEXT    NOT NULL,
    password_hash       TEXT    NOT NULL,
    role                TEXT    NOT NULL DEFAULT 'User' CHECK (role IN ('User', 'Admin')),
    -- 0 or 1: sqlx's Any driver reads no SQLite BOOLEAN
    is_active           INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);

-- One family per login; rotation adds tokens to it. It ends at expires_at,
-- however often it is refreshed.
CREATE TABLE refresh_families (
    id                  TEXT    PRIMARY KEY,
    user_id             BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at          BIGINT  NOT NULL,
    last_used_at        BIGINT  NOT NULL,
    expires_at          BIGINT  NOT NULL,
    revoked_at          BIGINT,
    revoked_reason      TEXT,
    ip                  TEXT,
    user_agent          TEXT
);
CREATE INDEX refresh_families_user ON refresh_families (user_id);
CREATE INDEX refresh_families_expires ON refresh_families (expires_at);

-- Only the SHA-256 of a refresh token is stored. After rotation, the successor
-- is kept sealed under a key derived from this token for the grace window.
CREATE TABLE refresh_tokens (
    token_hash          TEXT    PRIMARY KEY,
    family_id           TEXT    NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    parent_hash         TEXT,
    created_at          BIGINT  NOT NULL,
    used_at             BIGINT,
    successor_hash      TEXT,
    successor_sealed    TEXT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Revoked access tokens by jti, until they would have expired anyway.
CREATE TABLE revoked_tokens (
    jti                 TEXT    PRIMARY KEY,
    expires_at          BIGINT  NOT NULL
);
CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_at);

-- Failed-login counters for lockout: one row per username key or client IP.
CREATE TABLE login_failures (
    subject             TEXT    PRIMARY KEY,
    failures            BIGINT  NOT NULL,
    window_start        BIGINT  NOT NULL
);

CREATE TABLE audit_events (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at         BIGINT  NOT NULL,
    kind                TEXT    NOT NULL,
    user_id             BIGINT,
    username            TEXT,
    ip                  TEXT,
    user_agent          TEXT,
    detail              TEXT
);
CREATE INDEX audit_events_time ON audit_events (occurred_at);
CREATE INDEX audit_events_user ON audit_events (user_id);
CREATE INDEX audit_events_kind ON audit_events (kind);

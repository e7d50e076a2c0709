-- The account lifecycle: verified addresses, the account's language, the
-- tokens of mailed links, and the outbox that delivers the mails.

-- When the current address was verified; NULL until then (accounts made
-- before this migration included: nobody verified them).
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'zh-CN', 'zh-TW'));

-- The token of a mailed link, stored only as its SHA-256. `email` is the
-- address the link was mailed to: the one it verifies (an email change's
-- new address), or the account's address when a reset was asked for.
CREATE TABLE mail_tokens (
    token_hash          TEXT    PRIMARY KEY,
    user_id             BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose             TEXT    NOT NULL CHECK (purpose IN ('verify', 'reset')),
    email               TEXT    NOT NULL,
    created_at          BIGINT  NOT NULL,
    expires_at          BIGINT  NOT NULL
);
CREATE INDEX mail_tokens_user ON mail_tokens (user_id, purpose);
CREATE INDEX mail_tokens_expires ON mail_tokens (expires_at);

-- When a mail of a purpose last went to an address (by the SHA-256 of
-- both, so no address is kept): at most one a minute.
CREATE TABLE mail_throttle (
    address_hash        TEXT    PRIMARY KEY,
    sent_at             BIGINT  NOT NULL
);

-- Mails to send, written in the transaction of the change that causes them
-- and delivered after the response by the outbox worker. A row holds no
-- secret: a link's token is made when the mail is sent. A worker leases a
-- row while it sends; a failed send is retried at `next_attempt_at`.
CREATE TABLE outbox (
    id                  BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind                TEXT    NOT NULL,
    user_id             BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address             TEXT    NOT NULL,
    -- what the mail mentions besides the account (an email change's new address)
    detail              TEXT,
    created_at          BIGINT  NOT NULL,
    attempts            BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at     BIGINT  NOT NULL,
    leased_until        BIGINT,
    last_error          TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at);
CREATE INDEX outbox_user ON outbox (user_id);

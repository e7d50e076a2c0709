-- tower-sessions records of the browser app (embedded mode; Redis holds them
-- in scale-out mode). The record is JSON; expiry in Unix seconds.
CREATE TABLE browser_sessions (
    id                  TEXT    PRIMARY KEY,
    record              TEXT    NOT NULL,
    expires_at          BIGINT  NOT NULL
);
CREATE INDEX browser_sessions_expires ON browser_sessions (expires_at);

-- A used token's successor is kept sealed (under a key derived from the used
-- token) only for the grace window, so that a repeat of the used token gets
-- the same successor. Once that successor is itself used, the repeat is
-- reuse whatever the seal says: the claim of a token now also forgets the
-- seal its parent keeps, in the same statement. The server forgets the
-- seals whose grace window has passed (the partial index finds them).
DROP TRIGGER refresh_token_rotated;
CREATE TRIGGER refresh_token_rotated
AFTER UPDATE OF used_at ON refresh_tokens
WHEN OLD.used_at IS NULL AND NEW.used_at IS NOT NULL AND NEW.successor_hash IS NOT NULL
BEGIN
    INSERT INTO refresh_tokens (token_hash, family_id, parent_hash, created_at)
    VALUES (NEW.successor_hash, NEW.family_id, NEW.token_hash, NEW.used_at);
    UPDATE refresh_families SET last_used_at = NEW.used_at WHERE id = NEW.family_id;
    UPDATE refresh_tokens SET successor_sealed = NULL
    WHERE token_hash = NEW.parent_hash AND successor_sealed IS NOT NULL;
    INSERT INTO audit_events (occurred_at, kind, user_id, username, ip, user_agent)
    SELECT NEW.used_at, 'refresh', u.id, u.username, NEW.used_ip, NEW.used_user_agent
    FROM refresh_families f JOIN users u ON u.id = f.user_id WHERE f.id = NEW.family_id;
END;

UPDATE refresh_tokens SET successor_sealed = NULL
WHERE successor_sealed IS NOT NULL AND token_hash IN (
    SELECT parent_hash FROM refresh_tokens WHERE used_at IS NOT NULL AND parent_hash IS NOT NULL
);
CREATE INDEX refresh_tokens_sealed ON refresh_tokens (used_at) WHERE successor_sealed IS NOT NULL;

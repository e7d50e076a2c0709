-- A used token's successor is kept sealed (under a key derived from the used
-- token) only for the grace window, so that a repeat of the used token gets
-- the same successor. Once that successor is itself used, a repeat is reuse
-- whatever the seal says: claiming a token now also forgets the seal its
-- parent keeps, in the same statement. The server forgets the seals whose
-- grace window has passed (the partial index finds them).
CREATE TRIGGER refresh_token_forgets_parent_seal
AFTER UPDATE OF used_at ON refresh_tokens
WHEN OLD.used_at IS NULL AND NEW.used_at IS NOT NULL AND NEW.parent_hash IS NOT NULL
BEGIN
    UPDATE refresh_tokens SET successor_sealed = NULL
    WHERE token_hash = NEW.parent_hash AND successor_sealed IS NOT NULL;
END;

UPDATE refresh_tokens SET successor_sealed = NULL
WHERE successor_sealed IS NOT NULL AND token_hash IN (
    SELECT parent_hash FROM refresh_tokens WHERE used_at IS NOT NULL AND parent_hash IS NOT NULL
);
CREATE INDEX refresh_tokens_sealed ON refresh_tokens (used_at) WHERE successor_sealed IS NOT NULL;

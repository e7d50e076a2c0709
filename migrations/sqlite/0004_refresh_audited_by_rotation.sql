-- The claim of a refresh token also stores its audit event, in the same
-- statement: a rotation is then one write, not two. The claiming UPDATE sets
-- who presented the token (used_ip, used_user_agent), which also tells, should
-- the token be presented again, who used it first.
ALTER TABLE refresh_tokens ADD COLUMN used_ip TEXT;
ALTER TABLE refresh_tokens ADD COLUMN used_user_agent TEXT;

DROP TRIGGER refresh_token_rotated;
CREATE TRIGGER refresh_token_rotated
AFTER UPDATE OF used_at ON refresh_tokens
WHEN OLD.used_at IS NULL AND NEW.used_at IS NOT NULL AND NEW.successor_hash IS NOT NULL
BEGIN
    INSERT INTO refresh_tokens (token_hash, family_id, parent_hash, created_at)
    VALUES (NEW.successor_hash, NEW.family_id, NEW.token_hash, NEW.used_at);
    UPDATE refresh_families SET last_used_at = NEW.used_at WHERE id = NEW.family_id;
    INSERT INTO audit_events (occurred_at, kind, user_id, username, ip, user_agent)
    SELECT NEW.used_at, 'refresh', u.id, u.username, NEW.used_ip, NEW.used_user_agent
    FROM refresh_families f JOIN users u ON u.id = f.user_id WHERE f.id = NEW.family_id;
END;

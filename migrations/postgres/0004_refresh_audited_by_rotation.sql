-- The claim of a refresh token also stores its audit event, in the same
-- statement: a rotation is then one write, not two. The claiming UPDATE sets
-- who presented the token (used_ip, used_user_agent), which also tells, should
-- the token be presented again, who used it first.
ALTER TABLE refresh_tokens ADD COLUMN used_ip TEXT, ADD COLUMN used_user_agent TEXT;

CREATE OR REPLACE FUNCTION refresh_token_rotated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owner BIGINT;
BEGIN
    INSERT INTO refresh_tokens (token_hash, family_id, parent_hash, created_at)
    VALUES (NEW.successor_hash, NEW.family_id, NEW.token_hash, NEW.used_at);
    UPDATE refresh_families SET last_used_at = NEW.used_at WHERE id = NEW.family_id
    RETURNING user_id INTO owner;
    INSERT INTO audit_events (occurred_at, kind, user_id, username, ip, user_agent)
    SELECT NEW.used_at, 'refresh', u.id, u.username, NEW.used_ip, NEW.used_user_agent
    FROM users u WHERE u.id = owner;
    RETURN NULL;
END
$$;

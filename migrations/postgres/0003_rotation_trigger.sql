-- A rotation is one statement: the UPDATE that claims a token (sets its
-- used_at and successor) also stores the successor and marks the family used,
-- atomically, in one round trip and with no transaction around it.
CREATE FUNCTION refresh_token_rotated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO refresh_tokens (token_hash, family_id, parent_hash, created_at)
    VALUES (NEW.successor_hash, NEW.family_id, NEW.token_hash, NEW.used_at);
    UPDATE refresh_families SET last_used_at = NEW.used_at WHERE id = NEW.family_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER refresh_token_rotated
AFTER UPDATE OF used_at ON refresh_tokens
FOR EACH ROW
WHEN (OLD.used_at IS NULL AND NEW.used_at IS NOT NULL AND NEW.successor_hash IS NOT NULL)
EXECUTE FUNCTION refresh_token_rotated();

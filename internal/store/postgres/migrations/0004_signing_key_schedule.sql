-- Scheduled key rotation: when a key starts signing (NULL: at created_at,
-- as every key before this migration did) and when it retires, once every
-- token it signed has expired (NULL: not yet known). Times are unix
-- microseconds, as elsewhere.

ALTER TABLE signing_keys ADD COLUMN activates_at bigint;
ALTER TABLE signing_keys ADD COLUMN retires_at bigint;

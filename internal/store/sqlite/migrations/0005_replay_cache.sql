-- One-time values (DPoP proof jti, client assertion jti) remembered until
-- they expire. expires_at is unix microseconds.
CREATE TABLE replay_cache (
	key        TEXT PRIMARY KEY,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX replay_cache_expires ON replay_cache (expires_at);

-- Per-client token policy (zero = the server's default) and the
-- requirement that the client's access tokens be DPoP-bound.
ALTER TABLE clients ADD COLUMN access_token_ttl_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN refresh_idle_ttl_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN offline_lifetime_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN require_dpop INTEGER NOT NULL DEFAULT 0;

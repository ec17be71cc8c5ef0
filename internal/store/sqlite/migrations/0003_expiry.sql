-- The one-time proof that binds completing an authorization request to the
-- browser that answered the consent question, and indexes for purging
-- expired authorization requests and codes.
ALTER TABLE auth_requests ADD COLUMN proof_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX auth_requests_expires ON auth_requests (expires_at);
CREATE INDEX codes_expires ON codes (expires_at);

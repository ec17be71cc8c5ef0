-- Client keys (inline JWKS or jwks_uri), secret rotation with an overlap,
-- the EHR launch URL, and descriptive metadata (JSON).
ALTER TABLE clients ADD COLUMN previous_secret_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN previous_secret_expires_at INTEGER;
ALTER TABLE clients ADD COLUMN jwks TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN jwks_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN launch_url TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN info TEXT NOT NULL DEFAULT '{}';

-- The requested scopes an app cannot work without (not offered for
-- unticking on the consent page).
ALTER TABLE clients ADD COLUMN required_scope TEXT NOT NULL DEFAULT '';

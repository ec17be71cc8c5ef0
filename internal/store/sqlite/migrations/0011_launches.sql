-- EHR launches (opaque launch ids resolving to a context) and the context
-- an authorization was granted.
CREATE TABLE launches (
	id         TEXT PRIMARY KEY,
	client_id  TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	context    TEXT NOT NULL,
	created_at INTEGER,
	expires_at INTEGER
) STRICT;
CREATE INDEX launches_expires ON launches (expires_at);

ALTER TABLE auth_requests ADD COLUMN launch_id TEXT NOT NULL DEFAULT '';
ALTER TABLE authorizations ADD COLUMN context TEXT NOT NULL DEFAULT '{}';

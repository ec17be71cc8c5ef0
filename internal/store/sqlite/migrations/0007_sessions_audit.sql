-- Sign-in sessions (an online_access authorization lives no longer than
-- the session it was approved in) and the append-only audit trail.
CREATE TABLE sessions (
	id         TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL,
	created_at INTEGER,
	expires_at INTEGER,
	ended_at   INTEGER
) STRICT;
CREATE INDEX sessions_expires ON sessions (expires_at);

ALTER TABLE auth_requests ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
ALTER TABLE authorizations ADD COLUMN session_id TEXT NOT NULL DEFAULT '';

CREATE TABLE audit_events (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	at               INTEGER NOT NULL,
	type             TEXT NOT NULL,
	user_id          TEXT NOT NULL,
	client_id        TEXT NOT NULL,
	authorization_id TEXT NOT NULL,
	detail           TEXT NOT NULL
) STRICT;
CREATE INDEX audit_events_user ON audit_events (user_id, id);
CREATE INDEX audit_events_authorization ON audit_events (authorization_id, id);

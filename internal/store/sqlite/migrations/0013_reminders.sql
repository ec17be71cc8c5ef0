-- Reminders about the apps that can reach a user's data (package
-- reminders). Authorization id lists are JSON arrays; times are unix
-- microseconds, NULL when not set.
CREATE TABLE reminders (
	id                TEXT PRIMARY KEY,
	user_id           TEXT NOT NULL,
	kind              TEXT NOT NULL,
	authorization_ids TEXT NOT NULL,
	dormant           TEXT NOT NULL,
	created_at        INTEGER,
	state             TEXT NOT NULL,
	snoozed_until     INTEGER,
	state_changed_at  INTEGER,
	emailed_at        INTEGER
) STRICT;

CREATE INDEX reminders_user ON reminders (user_id, created_at);

-- SMART App State (R-STATE-09): Basic resources kept apart from the FHIR
-- resources table, searched by state code and subject ('' = global).
-- A deleted record stays as a tombstone (deleted_at set, json empty).
-- Times are unix microseconds.
CREATE TABLE app_states (
	id           TEXT PRIMARY KEY,
	version      INTEGER NOT NULL,
	code         TEXT NOT NULL,
	subject      TEXT NOT NULL,
	client_id    TEXT NOT NULL,
	last_updated INTEGER,
	deleted_at   INTEGER,
	json         BLOB NOT NULL
) STRICT;

CREATE INDEX app_states_key ON app_states (code, subject, id) WHERE deleted_at IS NULL;

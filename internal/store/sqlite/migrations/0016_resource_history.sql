-- Former versions of FHIR resources, replaced or deleted, for history and
-- vread. patients and idx hold the version's compartments and index
-- entries (JSON), so that access to an old version is judged on what that
-- version said. A deletion is a row with deleted = 1 and no json, carrying
-- the compartments and index of the version it deleted. Rows are never
-- updated; the rowid orders them oldest first.

CREATE TABLE fhir_history (
	type         TEXT NOT NULL,
	id           TEXT NOT NULL,
	version_id   TEXT NOT NULL,
	last_updated INTEGER,
	json         BLOB,
	deleted      INTEGER NOT NULL DEFAULT 0,
	patients     TEXT NOT NULL,
	idx          TEXT NOT NULL
) STRICT;

CREATE INDEX fhir_history_resource ON fhir_history (type, id);

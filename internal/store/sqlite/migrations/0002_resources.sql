-- FHIR resources: the JSON as served, one row per search value, and the
-- patient compartments each resource is in. Times are unix microseconds;
-- an unbounded date range end is stored as the smallest or largest int64.

CREATE TABLE fhir_resources (
	type         TEXT NOT NULL,
	id           TEXT NOT NULL,
	version_id   TEXT NOT NULL,
	last_updated INTEGER,
	json         BLOB NOT NULL,
	PRIMARY KEY (type, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE fhir_index (
	type   TEXT NOT NULL,
	id     TEXT NOT NULL,
	param  TEXT NOT NULL,
	system TEXT,
	value  TEXT,
	low    INTEGER,
	high   INTEGER
) STRICT;

CREATE INDEX fhir_index_value ON fhir_index (type, param, value, id);
CREATE INDEX fhir_index_resource ON fhir_index (type, id);

CREATE TABLE fhir_compartments (
	patient TEXT NOT NULL,
	type    TEXT NOT NULL,
	id      TEXT NOT NULL,
	PRIMARY KEY (patient, type, id)
) STRICT, WITHOUT ROWID;

CREATE INDEX fhir_compartments_resource ON fhir_compartments (type, id);

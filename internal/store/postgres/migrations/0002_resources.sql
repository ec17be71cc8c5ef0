-- FHIR resources. fhir_resources holds each current version: the JSON as
-- served (bytea: stored as given, never parsed), and the compartments
-- (patients) and index entries (idx, a JSON array of {p, s, v, l, h}) it
-- was written with, returned by GetResource and copied into fhir_history
-- when the version is replaced or deleted. fhir_index and
-- fhir_compartments hold the same values as rows, for searching.
--
-- Date values are bigint unix microseconds; an unbounded range end is
-- stored in fhir_index as the smallest or largest bigint. Ids and index
-- values use the "C" collation: byte order, for ORDER BY id and for
-- prefix matches that a btree index can serve.

CREATE TABLE fhir_resources (
	type         text COLLATE "C" NOT NULL,
	id           text COLLATE "C" NOT NULL,
	version_id   text NOT NULL,
	last_updated bigint,
	json         bytea NOT NULL,
	patients     text[] NOT NULL,
	idx          jsonb NOT NULL,
	PRIMARY KEY (type, id)
);

CREATE TABLE fhir_index (
	type   text COLLATE "C" NOT NULL,
	id     text COLLATE "C" NOT NULL,
	param  text COLLATE "C" NOT NULL,
	system text COLLATE "C",
	value  text COLLATE "C",
	low    bigint,
	high   bigint
);
CREATE INDEX fhir_index_value ON fhir_index (type, param, value, id);
CREATE INDEX fhir_index_date ON fhir_index (type, param, low, high) WHERE low IS NOT NULL;
CREATE INDEX fhir_index_resource ON fhir_index (type, id);

CREATE TABLE fhir_compartments (
	patient text COLLATE "C" NOT NULL,
	type    text COLLATE "C" NOT NULL,
	id      text COLLATE "C" NOT NULL,
	PRIMARY KEY (patient, type, id)
);
CREATE INDEX fhir_compartments_resource ON fhir_compartments (type, id);

-- Former versions, replaced or deleted, for history and vread; seq orders
-- them oldest first. A deletion is a row with deleted true and no json,
-- carrying the compartments and index of the version it deleted. Rows are
-- never updated.
CREATE TABLE fhir_history (
	seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	type         text COLLATE "C" NOT NULL,
	id           text COLLATE "C" NOT NULL,
	version_id   text NOT NULL,
	last_updated bigint,
	json         bytea,
	deleted      boolean NOT NULL DEFAULT false,
	patients     text[] NOT NULL,
	idx          jsonb NOT NULL
);
CREATE INDEX fhir_history_resource ON fhir_history (type, id, seq);

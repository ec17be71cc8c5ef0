-- Core records: clients, users, authorization requests, authorizations,
-- codes, refresh tokens and signing keys. Times are unix microseconds,
-- NULL when not set. String lists are JSON arrays.

CREATE TABLE clients (
	id            TEXT PRIMARY KEY,
	name          TEXT NOT NULL,
	type          TEXT NOT NULL,
	secret_hash   TEXT NOT NULL,
	redirect_uris TEXT NOT NULL,
	scope         TEXT NOT NULL,
	created_at    INTEGER
) STRICT;

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	username      TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	display_name  TEXT NOT NULL,
	fhir_user     TEXT NOT NULL,
	patients      TEXT NOT NULL,
	all_patients  INTEGER NOT NULL,
	created_at    INTEGER
) STRICT;

CREATE TABLE auth_requests (
	id             TEXT PRIMARY KEY,
	client_id      TEXT NOT NULL,
	redirect_uri   TEXT NOT NULL,
	scope          TEXT NOT NULL,
	state          TEXT NOT NULL,
	code_challenge TEXT NOT NULL,
	nonce          TEXT NOT NULL,
	aud            TEXT NOT NULL,
	created_at     INTEGER,
	expires_at     INTEGER,
	user_id        TEXT NOT NULL,
	patient_id     TEXT NOT NULL,
	granted_scope  TEXT NOT NULL,
	decision       TEXT NOT NULL
) STRICT;

CREATE TABLE authorizations (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL,
	client_id    TEXT NOT NULL,
	patient_id   TEXT NOT NULL,
	scope        TEXT NOT NULL,
	offline      INTEGER NOT NULL,
	created_at   INTEGER,
	last_used_at INTEGER,
	expires_at   INTEGER,
	ended_at     INTEGER,
	end_reason   TEXT NOT NULL
) STRICT;

CREATE INDEX authorizations_user ON authorizations (user_id, created_at);
CREATE INDEX authorizations_ended ON authorizations (ended_at) WHERE ended_at IS NOT NULL;

CREATE TABLE codes (
	hash             TEXT PRIMARY KEY,
	authorization_id TEXT NOT NULL,
	client_id        TEXT NOT NULL,
	redirect_uri     TEXT NOT NULL,
	code_challenge   TEXT NOT NULL,
	nonce            TEXT NOT NULL,
	created_at       INTEGER,
	expires_at       INTEGER,
	used_at          INTEGER
) STRICT;

CREATE INDEX codes_authorization ON codes (authorization_id);

CREATE TABLE refresh_tokens (
	hash             TEXT PRIMARY KEY,
	authorization_id TEXT NOT NULL,
	client_id        TEXT NOT NULL,
	created_at       INTEGER,
	expires_at       INTEGER,
	used_at          INTEGER,
	replaced_by      TEXT NOT NULL
) STRICT;

CREATE INDEX refresh_tokens_authorization ON refresh_tokens (authorization_id);

CREATE TABLE signing_keys (
	id          TEXT PRIMARY KEY,
	algorithm   TEXT NOT NULL,
	private_key BLOB NOT NULL,
	created_at  INTEGER
) STRICT;

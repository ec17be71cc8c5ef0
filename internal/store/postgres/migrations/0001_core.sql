-- The authorization server's records: clients, users, sign-in sessions,
-- authorization requests, authorizations, codes, refresh tokens, signing
-- keys, one-time values, the audit trail, SMART App State, EHR launches,
-- reminders and access counts.
--
-- Times are bigint unix microseconds, NULL when not set. Identifiers that
-- are listed in order, and text compared by range, use the "C" collation:
-- byte order, as in the SQLite backend and Go, whatever the database's
-- default collation.

CREATE TABLE clients (
	id                         text COLLATE "C" PRIMARY KEY,
	name                       text NOT NULL,
	type                       text NOT NULL,
	secret_hash                text NOT NULL,
	previous_secret_hash       text NOT NULL,
	previous_secret_expires_at bigint,
	jwks                       text NOT NULL,
	jwks_uri                   text NOT NULL,
	launch_url                 text NOT NULL,
	info                       jsonb NOT NULL,
	redirect_uris              text[] NOT NULL,
	scope                      text NOT NULL,
	required_scope             text NOT NULL,
	created_at                 bigint,
	access_token_ttl_ms        bigint NOT NULL,
	refresh_idle_ttl_ms        bigint NOT NULL,
	offline_lifetime_ms        bigint NOT NULL,
	require_dpop               boolean NOT NULL
);

CREATE TABLE users (
	id            text COLLATE "C" PRIMARY KEY,
	username      text NOT NULL UNIQUE,
	password_hash text NOT NULL,
	display_name  text NOT NULL,
	fhir_user     text NOT NULL,
	patients      text[] NOT NULL,
	all_patients  boolean NOT NULL,
	created_at    bigint,
	email         text NOT NULL,
	language      text NOT NULL
);

CREATE TABLE sessions (
	id         text PRIMARY KEY,
	user_id    text NOT NULL,
	created_at bigint,
	expires_at bigint,
	ended_at   bigint
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE auth_requests (
	id             text PRIMARY KEY,
	client_id      text NOT NULL,
	redirect_uri   text NOT NULL,
	scope          text NOT NULL,
	state          text NOT NULL,
	code_challenge text NOT NULL,
	nonce          text NOT NULL,
	aud            text NOT NULL,
	created_at     bigint,
	expires_at     bigint,
	user_id        text NOT NULL,
	patient_id     text NOT NULL,
	granted_scope  text NOT NULL,
	decision       text NOT NULL,
	proof_hash     text NOT NULL,
	session_id     text NOT NULL,
	launch_id      text NOT NULL
);
CREATE INDEX auth_requests_expires ON auth_requests (expires_at);

CREATE TABLE authorizations (
	id           text COLLATE "C" PRIMARY KEY,
	user_id      text NOT NULL,
	client_id    text NOT NULL,
	patient_id   text NOT NULL,
	scope        text NOT NULL,
	offline      boolean NOT NULL,
	session_id   text NOT NULL,
	context      jsonb NOT NULL,
	created_at   bigint,
	last_used_at bigint,
	expires_at   bigint,
	ended_at     bigint,
	end_reason   text NOT NULL
);
CREATE INDEX authorizations_user ON authorizations (user_id, created_at);
CREATE INDEX authorizations_ended ON authorizations (ended_at) WHERE ended_at IS NOT NULL;

CREATE TABLE codes (
	hash             text PRIMARY KEY,
	authorization_id text NOT NULL,
	client_id        text NOT NULL,
	redirect_uri     text NOT NULL,
	code_challenge   text NOT NULL,
	nonce            text NOT NULL,
	created_at       bigint,
	expires_at       bigint,
	used_at          bigint
);
CREATE INDEX codes_authorization ON codes (authorization_id);
CREATE INDEX codes_expires ON codes (expires_at);

CREATE TABLE refresh_tokens (
	hash             text PRIMARY KEY,
	authorization_id text NOT NULL,
	client_id        text NOT NULL,
	created_at       bigint,
	expires_at       bigint,
	used_at          bigint,
	replaced_by      text NOT NULL,
	jkt              text NOT NULL
);
CREATE INDEX refresh_tokens_authorization ON refresh_tokens (authorization_id);

CREATE TABLE signing_keys (
	id          text COLLATE "C" PRIMARY KEY,
	algorithm   text NOT NULL,
	private_key bytea NOT NULL,
	created_at  bigint
);

-- One-time values (DPoP proof jti, client assertion jti) remembered until
-- they expire.
CREATE TABLE replay_cache (
	key        text PRIMARY KEY,
	expires_at bigint NOT NULL
);
CREATE INDEX replay_cache_expires ON replay_cache (expires_at);

-- The append-only audit trail; id orders it.
CREATE TABLE audit_events (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at               bigint NOT NULL,
	type             text NOT NULL,
	user_id          text NOT NULL,
	client_id        text NOT NULL,
	authorization_id text NOT NULL,
	detail           text NOT NULL
);
CREATE INDEX audit_events_user ON audit_events (user_id, id);
CREATE INDEX audit_events_authorization ON audit_events (authorization_id, id);

-- SMART App State (R-STATE-09): Basic resources kept apart from the FHIR
-- resources, searched by state code and subject ('' = global). A deleted
-- record stays as a tombstone (deleted_at set, json empty).
CREATE TABLE app_states (
	id           text COLLATE "C" PRIMARY KEY,
	version      bigint NOT NULL,
	code         text NOT NULL,
	subject      text NOT NULL,
	client_id    text NOT NULL,
	last_updated bigint,
	deleted_at   bigint,
	json         bytea NOT NULL
);
CREATE INDEX app_states_key ON app_states (code, subject, id) WHERE deleted_at IS NULL;

-- EHR launches: opaque launch ids resolving to a context.
CREATE TABLE launches (
	id         text PRIMARY KEY,
	client_id  text NOT NULL,
	user_id    text NOT NULL,
	context    jsonb NOT NULL,
	created_at bigint,
	expires_at bigint
);
CREATE INDEX launches_expires ON launches (expires_at);

-- Reminders about the apps that can reach a user's data.
CREATE TABLE reminders (
	id                text COLLATE "C" PRIMARY KEY,
	user_id           text NOT NULL,
	kind              text NOT NULL,
	authorization_ids text[] NOT NULL,
	dormant           text[] NOT NULL,
	created_at        bigint,
	state             text NOT NULL,
	snoozed_until     bigint,
	state_changed_at  bigint,
	emailed_at        bigint
);
CREATE INDEX reminders_user ON reminders (user_id, created_at);

-- Per authorization, how many data requests of each resource kind it made
-- each day (no clinical content); day is the UTC midnight starting it.
CREATE TABLE access_records (
	authorization_id text NOT NULL,
	day              bigint NOT NULL,
	resource_type    text COLLATE "C" NOT NULL,
	count            bigint NOT NULL,
	PRIMARY KEY (authorization_id, day, resource_type)
);
CREATE INDEX access_records_day ON access_records (day);

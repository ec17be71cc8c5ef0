package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

const clientColumns = `id, name, type, secret_hash, redirect_uris, scope, created_at,
	access_token_ttl_ms, refresh_idle_ttl_ms, offline_lifetime_ms, require_dpop,
	previous_secret_hash, previous_secret_expires_at, jwks, jwks_uri, launch_url, info, required_scope`

// clientValues returns c's column values in clientColumns order.
func clientValues(c store.Client) ([]any, error) {
	uris, err := encodeStrings(c.RedirectURIs)
	if err != nil {
		return nil, err
	}
	info, err := json.Marshal(c.Info)
	if err != nil {
		return nil, fmt.Errorf("encode client info: %w", err)
	}
	return []any{c.ID, c.Name, string(c.Type), c.SecretHash, uris, c.Scope, micros(c.CreatedAt),
		c.AccessTokenTTL.Milliseconds(), c.RefreshIdleTTL.Milliseconds(), c.OfflineLifetime.Milliseconds(), c.RequireDPoP,
		c.PreviousSecretHash, micros(c.PreviousSecretExpiresAt), c.JWKS, c.JWKSURI, c.LaunchURL, string(info), c.RequiredScope}, nil
}

// CreateClient implements store.Clients.
func (db *DB) CreateClient(ctx context.Context, c store.Client) error {
	vals, err := clientValues(c)
	if err != nil {
		return wrap("create client", err)
	}
	_, err = db.sql.ExecContext(ctx,
		`INSERT INTO clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, vals...)
	return wrap("create client", err)
}

// UpdateClient implements store.Clients.
func (db *DB) UpdateClient(ctx context.Context, c store.Client) error {
	vals, err := clientValues(c)
	if err != nil {
		return wrap("update client", err)
	}
	res, err := db.sql.ExecContext(ctx,
		`UPDATE clients SET name = ?, type = ?, secret_hash = ?, redirect_uris = ?, scope = ?,
		access_token_ttl_ms = ?, refresh_idle_ttl_ms = ?, offline_lifetime_ms = ?, require_dpop = ?,
		previous_secret_hash = ?, previous_secret_expires_at = ?, jwks = ?, jwks_uri = ?, launch_url = ?, info = ?,
		required_scope = ? WHERE id = ?`,
		append(append(vals[1:6:6], vals[7:]...), c.ID)...)
	return wrap("update client", mustAffect(res, err))
}

// DeleteClient implements store.Clients.
func (db *DB) DeleteClient(ctx context.Context, id string) error {
	res, err := db.sql.ExecContext(ctx, `DELETE FROM clients WHERE id = ?`, id)
	return wrap("delete client", mustAffect(res, err))
}

// GetClient implements store.Clients.
func (db *DB) GetClient(ctx context.Context, id string) (store.Client, error) {
	c, err := scanClient(db.stmts.getClient.QueryRowContext(ctx, id))
	if err != nil {
		return store.Client{}, wrap("get client", err)
	}
	return c, nil
}

// ListClients implements store.Clients.
func (db *DB) ListClients(ctx context.Context) ([]store.Client, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
	if err != nil {
		return nil, wrap("list clients", err)
	}
	defer rows.Close()
	var out []store.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, wrap("list clients", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list clients", err)
	}
	return out, nil
}

func scanClient(r rowScanner) (store.Client, error) {
	var (
		c                   store.Client
		typ, uris, info     string
		created, prevExpire nullMicros

		accessMS, idleMS, offlineMS int64
	)
	if err := r.Scan(&c.ID, &c.Name, &typ, &c.SecretHash, &uris, &c.Scope, &created,
		&accessMS, &idleMS, &offlineMS, &c.RequireDPoP,
		&c.PreviousSecretHash, &prevExpire, &c.JWKS, &c.JWKSURI, &c.LaunchURL, &info, &c.RequiredScope); err != nil {
		return store.Client{}, err
	}
	c.Type = store.ClientType(typ)
	c.CreatedAt = created.time()
	c.PreviousSecretExpiresAt = prevExpire.time()
	c.AccessTokenTTL = time.Duration(accessMS) * time.Millisecond
	c.RefreshIdleTTL = time.Duration(idleMS) * time.Millisecond
	c.OfflineLifetime = time.Duration(offlineMS) * time.Millisecond
	var err error
	if c.RedirectURIs, err = decodeStrings(uris); err != nil {
		return store.Client{}, err
	}
	if err := json.Unmarshal([]byte(info), &c.Info); err != nil {
		return store.Client{}, fmt.Errorf("decode client info: %w", err)
	}
	return c, nil
}

// encodeStrings stores a string list as a JSON array; nil is stored as [].
func encodeStrings(ss []string) (string, error) {
	if len(ss) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(ss)
	if err != nil {
		return "", fmt.Errorf("encode list: %w", err)
	}
	return string(b), nil
}

// decodeStrings reads a JSON array written by encodeStrings; an empty
// array gives nil.
func decodeStrings(s string) ([]string, error) {
	var ss []string
	if err := json.Unmarshal([]byte(s), &ss); err != nil {
		return nil, fmt.Errorf("decode list: %w", err)
	}
	if len(ss) == 0 {
		return nil, nil
	}
	return ss, nil
}

package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// clientColumns are in clientValues order; created_at comes last, so that
// UpdateClient can leave it out.
const clientColumns = `id, name, type, secret_hash, previous_secret_hash, previous_secret_expires_at,
	jwks, jwks_uri, launch_url, info, redirect_uris, scope, required_scope,
	access_token_ttl_ms, refresh_idle_ttl_ms, offline_lifetime_ms, require_dpop, created_at`

// clientValues returns c's column values in clientColumns order.
func clientValues(c store.Client) ([]any, error) {
	info, err := json.Marshal(c.Info)
	if err != nil {
		return nil, fmt.Errorf("encode client info: %w", err)
	}
	return []any{c.ID, c.Name, string(c.Type), c.SecretHash, c.PreviousSecretHash, micros(c.PreviousSecretExpiresAt),
		c.JWKS, c.JWKSURI, c.LaunchURL, string(info), strs(c.RedirectURIs), c.Scope, c.RequiredScope,
		c.AccessTokenTTL.Milliseconds(), c.RefreshIdleTTL.Milliseconds(), c.OfflineLifetime.Milliseconds(),
		c.RequireDPoP, micros(c.CreatedAt)}, nil
}

// CreateClient implements store.Clients.
func (db *DB) CreateClient(ctx context.Context, c store.Client) error {
	vals, err := clientValues(c)
	if err != nil {
		return wrap("create client", err)
	}
	_, err = db.pool.Exec(ctx,
		`INSERT INTO clients (`+clientColumns+`) VALUES (`+params(1, len(vals))+`)`, vals...)
	return wrap("create client", err)
}

// UpdateClient implements store.Clients: every column but id and
// created_at is replaced.
func (db *DB) UpdateClient(ctx context.Context, c store.Client) error {
	vals, err := clientValues(c)
	if err != nil {
		return wrap("update client", err)
	}
	vals = vals[:len(vals)-1]
	tag, err := db.pool.Exec(ctx,
		`UPDATE clients SET (name, type, secret_hash, previous_secret_hash, previous_secret_expires_at,
		jwks, jwks_uri, launch_url, info, redirect_uris, scope, required_scope,
		access_token_ttl_ms, refresh_idle_ttl_ms, offline_lifetime_ms, require_dpop) =
		(`+params(2, len(vals)-1)+`) WHERE id = $1`, vals...)
	return wrap("update client", mustAffect(tag, err))
}

// DeleteClient implements store.Clients.
func (db *DB) DeleteClient(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM clients WHERE id = $1`, id)
	return wrap("delete client", mustAffect(tag, err))
}

// GetClient implements store.Clients.
func (db *DB) GetClient(ctx context.Context, id string) (store.Client, error) {
	c, err := scanClient(db.pool.QueryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, id))
	if err != nil {
		return store.Client{}, wrap("get client", err)
	}
	return c, nil
}

// ListClients implements store.Clients.
func (db *DB) ListClients(ctx context.Context) ([]store.Client, error) {
	out, err := queryAll(ctx, db.pool, scanClient, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
	return out, wrap("list clients", err)
}

func scanClient(r pgx.Row) (store.Client, error) {
	var (
		c                           store.Client
		typ, info                   string
		created, prevExpire         *int64
		accessMS, idleMS, offlineMS int64
	)
	if err := r.Scan(&c.ID, &c.Name, &typ, &c.SecretHash, &c.PreviousSecretHash, &prevExpire,
		&c.JWKS, &c.JWKSURI, &c.LaunchURL, &info, &c.RedirectURIs, &c.Scope, &c.RequiredScope,
		&accessMS, &idleMS, &offlineMS, &c.RequireDPoP, &created); err != nil {
		return store.Client{}, err
	}
	c.Type = store.ClientType(typ)
	c.CreatedAt = timeOf(created)
	c.PreviousSecretExpiresAt = timeOf(prevExpire)
	c.AccessTokenTTL = time.Duration(accessMS) * time.Millisecond
	c.RefreshIdleTTL = time.Duration(idleMS) * time.Millisecond
	c.OfflineLifetime = time.Duration(offlineMS) * time.Millisecond
	c.RedirectURIs = orNil(c.RedirectURIs)
	if err := json.Unmarshal([]byte(info), &c.Info); err != nil {
		return store.Client{}, fmt.Errorf("decode client info: %w", err)
	}
	return c, nil
}

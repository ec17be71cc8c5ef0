package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/smartlaunch/smartlaunch/internal/keys"
	"sync"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// ErrInvalidToken reports an access token that is malformed, forged,
// expired, for another audience, or whose authorization has ended.
var ErrInvalidToken = errors.New("oauth: invalid access token")

// VerifyAccessToken checks an access token this server issued: signature,
// type at+jwt, issuer, audience, expiry, and that its authorization has
// not ended. Verified tokens are cached until they expire, so the common
// path costs a map lookup and the ended-authorization check.
func (s *Server) VerifyAccessToken(ctx context.Context, token string) (AccessClaims, error) {
	now := s.now()
	c, ok := s.tokens.get(token)
	if !ok {
		payload, err := s.keys.Verify(token, keys.AccessTokenType)
		if err != nil {
			return AccessClaims{}, ErrInvalidToken
		}
		if err := json.Unmarshal(payload, &c); err != nil {
			return AccessClaims{}, ErrInvalidToken
		}
		if c.Issuer != s.issuer || c.Audience != s.fhirBase || c.AuthorizationID == "" {
			return AccessClaims{}, ErrInvalidToken
		}
		s.tokens.put(token, c)
	}
	if now.Unix() >= c.Expiry {
		return AccessClaims{}, ErrInvalidToken
	}
	ended, err := s.ended.contains(ctx, c.AuthorizationID, now)
	if err != nil {
		return AccessClaims{}, fmt.Errorf("oauth: check authorization: %w", err)
	}
	if ended || s.ended.has("jti:"+c.ID) {
		return AccessClaims{}, ErrInvalidToken
	}
	return c, nil
}

// tokenCache remembers verified access tokens. When full it starts over:
// simple, bounded, and a miss only costs one signature check.
type tokenCache struct {
	mu  sync.RWMutex
	max int
	m   map[string]AccessClaims
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, m: make(map[string]AccessClaims)}
}

func (c *tokenCache) get(token string) (AccessClaims, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.m[token]
	return v, ok
}

func (c *tokenCache) put(token string, v AccessClaims) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		c.m = make(map[string]AccessClaims)
	}
	c.m[token] = v
}

// endedSet is the small, short-lived cache of ended authorizations that the
// access-token check consults (DESIGN.md §2). Endings in this process are
// added at once; endings by other processes sharing the store are read from
// the store at most ttl apart. Only authorizations ended within the last
// window (the access-token lifetime) matter: older ones have no live tokens.
type endedSet struct {
	st     store.Authorizations
	ttl    time.Duration
	window time.Duration

	mu       sync.Mutex
	ids      map[string]time.Time // id -> when it was learned
	syncedAt time.Time
}

func newEndedSet(st store.Authorizations, ttl, window time.Duration) *endedSet {
	return &endedSet{st: st, ttl: ttl, window: window, ids: make(map[string]time.Time)}
}

func (e *endedSet) add(id string, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ids[id] = now
}

// has reports whether id was added, without consulting the store.
func (e *endedSet) has(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.ids[id]
	return ok
}

// contains reports whether id has ended, refreshing from the store first
// when the last refresh is older than ttl.
func (e *endedSet) contains(ctx context.Context, id string, now time.Time) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if now.Sub(e.syncedAt) >= e.ttl || now.Before(e.syncedAt) {
		since := now.Add(-e.window - time.Minute)
		if !e.syncedAt.IsZero() && e.syncedAt.After(since) {
			// Overlap generously: clocks of other processes may differ.
			since = e.syncedAt.Add(-time.Minute)
		}
		ids, err := e.st.ListEndedAuthorizations(ctx, since)
		if err != nil {
			return false, err
		}
		for _, x := range ids {
			if _, ok := e.ids[x]; !ok {
				e.ids[x] = now
			}
		}
		for x, learned := range e.ids {
			if now.Sub(learned) > e.window+2*time.Minute {
				delete(e.ids, x)
			}
		}
		e.syncedAt = now
	}
	_, ok := e.ids[id]
	return ok, nil
}

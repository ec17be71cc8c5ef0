package remotekeys

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// ErrNoKey reports that no single key fits the request: the set at the
// jwks_uri (after any refetch the rules allow) has no key with that kid
// usable for that alg, has several, or alg is not an accepted asymmetric
// algorithm. The token endpoint answers invalid_client (SMART App Launch 2.1
// client-confidential-asymmetric; attacks.md A-34).
var ErrNoKey = errors.New("remotekeys: no matching key")

// maxEntries is the cache size above which expired, idle entries are swept.
const maxEntries = 4096

// Config configures a Fetcher. Zero values take the documented defaults.
type Config struct {
	// Client, when set, is used instead of the package's guarded client. It
	// is copied; the copy follows no redirects and keeps no cookies, but its
	// transport is used as given, so it must enforce the address policy
	// itself (or send through an egress proxy that does).
	Client *http.Client
	// AllowLoopback allows 127.0.0.0/8 and ::1, and http:// to loopback IP
	// literals: development mode, and tests.
	AllowLoopback bool
	// AllowPrivate allows private (RFC 1918, fc00::/7), link-local (including
	// the cloud metadata addresses 169.254.169.254 and fd00:ec2::254), CGNAT
	// and other special-purpose unicast addresses: an operator opt-in.
	AllowPrivate bool
	// Timeout bounds a whole fetch: connect, TLS, headers and body. Default 5s.
	Timeout time.Duration
	// MaxBytes caps the response body; a larger body is an error. Default 64 KiB.
	MaxBytes int64
	// MinRefetch is the least time between fetches of one URL triggered by
	// an unknown kid, by a failed fetch, or by a response that may not be
	// cached; it is also the shortest cache lifetime. Default 1 minute.
	MinRefetch time.Duration
	// DefaultTTL is the cache lifetime of a response without caching
	// headers (default 1 hour); MaxTTL caps every lifetime (default 24 hours).
	DefaultTTL, MaxTTL time.Duration
	// Now returns the current time; default time.Now.
	Now func() time.Time
}

// Fetcher fetches and caches JWK Sets by URL. It is safe for concurrent use.
type Fetcher struct {
	cfg    Config
	policy addressPolicy
	client *http.Client

	mu      sync.Mutex
	entries map[string]*entry
}

// entry is the cached state of one jwks_uri, guarded by Fetcher.mu.
type entry struct {
	keys    []jose.JSONWebKey // the last successfully fetched set
	expires time.Time         // keys may be used before this instant
	tried   time.Time         // when the last fetch attempt finished
	err     error             // the last attempt's error, nil if it succeeded
	call    *call             // the fetch in flight, if any
}

// call is one fetch shared by every Key call that needs it.
type call struct {
	done    chan struct{} // closed when the entry has been updated
	waiters int           // Key calls waiting on done (for tests)
}

// New returns a Fetcher for cfg, filling in defaults.
func New(cfg Config) *Fetcher {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 64 << 10
	}
	if cfg.MinRefetch <= 0 {
		cfg.MinRefetch = time.Minute
	}
	if cfg.DefaultTTL <= 0 {
		cfg.DefaultTTL = time.Hour
	}
	if cfg.MaxTTL <= 0 {
		cfg.MaxTTL = 24 * time.Hour
	}
	cfg.MaxTTL = max(cfg.MaxTTL, cfg.MinRefetch)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	f := &Fetcher{
		cfg:     cfg,
		policy:  addressPolicy{allowLoopback: cfg.AllowLoopback, allowPrivate: cfg.AllowPrivate},
		entries: make(map[string]*entry),
	}
	if cfg.Client != nil {
		c := *cfg.Client
		c.CheckRedirect = refuseRedirect
		c.Jar = nil
		f.client = &c
	} else {
		f.client = guardedClient(f.policy, cfg.Timeout)
	}
	return f
}

// Key returns the public key with kid that can verify alg signatures (for
// example "ES384" or "RS384") from the JWK Set at jwksURI, for a
// private_key_jwt client assertion (RFC 7523 §3; SMART App Launch 2.1
// client-confidential-asymmetric key selection). An empty kid matches when
// the set holds exactly one suitable key. Exactly one key must match;
// otherwise the error wraps ErrNoKey.
//
// The set is fetched when not cached or expired. When kid is not in a cached
// set, the set is refetched (to pick up a rotated key) unless it was fetched
// less than MinRefetch ago. A failed fetch is not retried for MinRefetch. A
// set is never used past its cache lifetime: there is no stale fallback.
// Concurrent calls for one URL share a single fetch; a caller whose ctx ends
// stops waiting, but the fetch runs on to its own timeout for the others.
//
// jwksURI must pass CheckURI. It is used as given: comparing a jku header
// with the registered URL (byte for byte) is the caller's job.
func (f *Fetcher) Key(ctx context.Context, jwksURI, kid, alg string) (jose.JSONWebKey, error) {
	if !algSupported(alg) {
		return jose.JSONWebKey{}, fmt.Errorf("%w: unsupported alg", ErrNoKey)
	}
	if err := f.CheckURI(jwksURI); err != nil {
		return jose.JSONWebKey{}, err
	}
	if err := ctx.Err(); err != nil {
		return jose.JSONWebKey{}, err
	}
	waited := false
	for {
		f.mu.Lock()
		e := f.entryLocked(jwksURI)
		if c := e.call; c != nil {
			c.waiters++
			f.mu.Unlock()
			select {
			case <-c.done:
			case <-ctx.Done():
				return jose.JSONWebKey{}, ctx.Err()
			}
			waited = true
			continue
		}
		key, refetch, err := f.lookupLocked(e, kid, alg)
		if !refetch || waited {
			f.mu.Unlock()
			return key, err
		}
		c := &call{done: make(chan struct{})}
		e.call = c
		f.mu.Unlock()
		go f.refresh(context.WithoutCancel(ctx), jwksURI, e, c)
		waited = true // this call's own fetch; never start a second
	}
}

// lookupLocked answers from e, and says whether the rules call for a fetch
// first; err is the answer to give if no fetch happens.
func (f *Fetcher) lookupLocked(e *entry, kid, alg string) (key jose.JSONWebKey, refetch bool, err error) {
	now := f.cfg.Now()
	recent := !e.tried.IsZero() && now.Sub(e.tried) < f.cfg.MinRefetch
	if e.keys == nil || !now.Before(e.expires) {
		err := e.err
		if err == nil {
			err = fmt.Errorf("%w: no current key set", errFetch)
		}
		return jose.JSONWebKey{}, e.err == nil || !recent, err
	}
	switch m := match(e.keys, kid, alg); len(m) {
	case 1:
		return m[0], false, nil
	case 0:
		if recent {
			if e.err != nil {
				return jose.JSONWebKey{}, false, fmt.Errorf("%w (last refetch failed: %w)", ErrNoKey, e.err)
			}
			return jose.JSONWebKey{}, false, ErrNoKey
		}
		return jose.JSONWebKey{}, true, ErrNoKey
	default:
		return jose.JSONWebKey{}, false, fmt.Errorf("%w: %d keys match", ErrNoKey, len(m))
	}
}

// refresh runs one fetch for e and publishes its result.
func (f *Fetcher) refresh(ctx context.Context, uri string, e *entry, c *call) {
	res, err := f.fetch(ctx, uri)
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.cfg.Now()
	e.tried, e.err, e.call = now, err, nil
	if err == nil {
		e.keys = res.keys
		e.expires = now.Add(min(max(res.ttl, f.cfg.MinRefetch), f.cfg.MaxTTL))
	}
	close(c.done)
}

// entryLocked returns the entry for uri, creating it (and sweeping expired
// idle entries when the cache is large).
func (f *Fetcher) entryLocked(uri string) *entry {
	if e, ok := f.entries[uri]; ok {
		return e
	}
	if len(f.entries) >= maxEntries {
		now := f.cfg.Now()
		for u, e := range f.entries {
			if e.call == nil && !now.Before(e.expires) && now.Sub(e.tried) >= f.cfg.MinRefetch {
				delete(f.entries, u)
			}
		}
	}
	e := &entry{}
	f.entries[uri] = e
	return e
}

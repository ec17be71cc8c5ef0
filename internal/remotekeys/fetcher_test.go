package remotekeys

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestKeyFetchesOnceThenServesFromCache(t *testing.T) {
	srv := newJWKSServer(t, setJSON(t, pub(t, "ec384", "k1"), pub(t, "rsa2048", "r1")))
	f := newTestFetcher(newClock(), nil)
	for i := range 5 {
		k, err := f.Key(t.Context(), srv.URL, "k1", "ES384")
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if k.KeyID != "k1" || !k.IsPublic() {
			t.Fatalf("call %d: got kid %q public %v, want k1 public", i, k.KeyID, k.IsPublic())
		}
		if _, ok := k.Key.(*ecdsa.PublicKey); !ok {
			t.Fatalf("call %d: got key type %T, want *ecdsa.PublicKey", i, k.Key)
		}
	}
	if _, err := f.Key(t.Context(), srv.URL, "r1", "RS384"); err != nil {
		t.Fatalf("RSA key: %v", err)
	}
	if got := srv.hits.Load(); got != 1 {
		t.Errorf("server hits = %d, want 1", got)
	}
}

// R-ASYM-19, A-37: the cache honours Cache-Control within [MinRefetch, MaxTTL].
func TestCacheLifetime(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		fresh  time.Duration // still cached just before this much time
	}{
		{"no caching headers uses DefaultTTL", nil, time.Hour},
		{"max-age honoured", http.Header{"Cache-Control": {"public, max-age=600"}}, 10 * time.Minute},
		{"quoted max-age", http.Header{"Cache-Control": {`max-age="300"`}}, 5 * time.Minute},
		{"Age subtracted", http.Header{"Cache-Control": {"max-age=600"}, "Age": {"300"}}, 5 * time.Minute},
		{"huge max-age capped at MaxTTL", http.Header{"Cache-Control": {"max-age=31536000"}}, 24 * time.Hour},
		{"max-age=0 floored at MinRefetch", http.Header{"Cache-Control": {"max-age=0"}}, time.Minute},
		{"no-store revalidates every MinRefetch", http.Header{"Cache-Control": {"no-store"}}, time.Minute},
		{"no-cache revalidates every MinRefetch", http.Header{"Cache-Control": {"max-age=600, no-cache"}}, time.Minute},
		{"bad max-age treated as stale", http.Header{"Cache-Control": {"max-age=soon"}}, time.Minute},
		{"Expires without max-age", http.Header{
			"Date":    {"Sun, 01 Mar 2026 12:00:00 GMT"},
			"Expires": {"Sun, 01 Mar 2026 14:00:00 GMT"},
		}, 2 * time.Hour},
		{"max-age wins over Expires", http.Header{
			"Cache-Control": {"max-age=120"},
			"Expires":       {"Sun, 01 Mar 2026 14:00:00 GMT"},
		}, 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t, setJSON(t, pub(t, "ec384", "k1")))
			srv.header = tt.header
			clk := newClock()
			f := newTestFetcher(clk, nil)
			get := func() {
				t.Helper()
				if _, err := f.Key(t.Context(), srv.URL, "k1", "ES384"); err != nil {
					t.Fatal(err)
				}
			}
			get()
			clk.Advance(tt.fresh - time.Second)
			get()
			if got := srv.hits.Load(); got != 1 {
				t.Fatalf("hits just before %v = %d, want 1", tt.fresh, got)
			}
			clk.Advance(time.Second)
			get()
			if got := srv.hits.Load(); got != 2 {
				t.Fatalf("hits at %v = %d, want 2", tt.fresh, got)
			}
		})
	}
}

// an unknown kid refetches at most once per MinRefetch.
func TestUnknownKidRefetchesOncePerInterval(t *testing.T) {
	srv := newJWKSServer(t, setJSON(t, pub(t, "ec384", "k1")))
	clk := newClock()
	f := newTestFetcher(clk, nil)
	if _, err := f.Key(t.Context(), srv.URL, "k1", "ES384"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute) // past MinRefetch, well inside the 1h TTL
	for i := range 10 {
		_, err := f.Key(t.Context(), srv.URL, "nope", "ES384")
		if !errors.Is(err, ErrNoKey) {
			t.Fatalf("call %d: err = %v, want ErrNoKey", i, err)
		}
	}
	if got := srv.hits.Load(); got != 2 {
		t.Fatalf("hits after 10 unknown-kid calls = %d, want 2 (one refetch)", got)
	}
	clk.Advance(59 * time.Second)
	if _, err := f.Key(t.Context(), srv.URL, "nope", "ES384"); !errors.Is(err, ErrNoKey) {
		t.Fatalf("err = %v, want ErrNoKey", err)
	}
	if got := srv.hits.Load(); got != 2 {
		t.Fatalf("hits within MinRefetch = %d, want 2", got)
	}
	clk.Advance(time.Second)
	if _, err := f.Key(t.Context(), srv.URL, "nope", "ES384"); !errors.Is(err, ErrNoKey) {
		t.Fatalf("err = %v, want ErrNoKey", err)
	}
	if got := srv.hits.Load(); got != 3 {
		t.Fatalf("hits after MinRefetch = %d, want 3", got)
	}
}

// R-ASYM-05: a JWKS URL enables in-band key rotation.
func TestKeyRotationPickedUpOnRefetch(t *testing.T) {
	srv := newJWKSServer(t, setJSON(t, pub(t, "ec384", "old")))
	clk := newClock()
	f := newTestFetcher(clk, nil)
	if _, err := f.Key(t.Context(), srv.URL, "old", "ES384"); err != nil {
		t.Fatal(err)
	}
	srv.set(setJSON(t, pub(t, "ec384b", "new")), "")
	clk.Advance(2 * time.Minute)
	k, err := f.Key(t.Context(), srv.URL, "new", "ES384")
	if err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if !k.Key.(*ecdsa.PublicKey).Equal(testKeys()["ec384b"].Public()) {
		t.Error("rotated key is not the new public key")
	}
	if _, err := f.Key(t.Context(), srv.URL, "old", "ES384"); !errors.Is(err, ErrNoKey) {
		t.Errorf("retired key: err = %v, want ErrNoKey", err)
	}
	if got := srv.hits.Load(); got != 2 {
		t.Errorf("hits = %d, want 2", got)
	}
}

// R-ASYM-16, A-34: exactly one key whose kid matches and whose kty fits alg.
func TestKeySelection(t *testing.T) {
	withUse := pub(t, "ec384b", "enc")
	withUse.Use = "enc"
	withAlg := pub(t, "rsa2048", "rs256only")
	withAlg.Algorithm = "RS256"
	full := setJSON(t,
		pub(t, "ec384", "e384"), pub(t, "ec256", "e256"), pub(t, "rsa2048", "r"),
		pub(t, "rsa1024", "weak"), pub(t, "ec384", "dup"), pub(t, "ec384b", "dup"),
		withUse, withAlg,
	)
	single := setJSON(t, pub(t, "ec384", "only"))
	tests := []struct {
		name, set, kid, alg string
		wantKid             string // "" means ErrNoKey
	}{
		{"EC P-384 for ES384", full, "e384", "ES384", "e384"},
		{"EC P-256 for ES256", full, "e256", "ES256", "e256"},
		{"RSA for RS384", full, "r", "RS384", "r"},
		{"RSA for PS256", full, "r", "PS256", "r"},
		{"RSA key for ES384", full, "r", "ES384", ""},
		{"EC key for RS384", full, "e384", "RS384", ""},
		{"P-256 key for ES384", full, "e256", "ES384", ""},
		{"1024-bit RSA", full, "weak", "RS384", ""},
		{"two keys share kid", full, "dup", "ES384", ""},
		{"use enc", full, "enc", "ES384", ""},
		{"key alg RS256 asked RS384", full, "rs256only", "RS384", ""},
		{"key alg RS256 asked RS256", full, "rs256only", "RS256", "rs256only"},
		{"unknown kid", full, "../../../../dev/null", "ES384", ""},
		{"no kid, several suitable", full, "", "ES384", ""},
		{"no kid, one suitable", single, "", "ES384", "only"},
		{"alg none", single, "only", "none", ""},
		{"alg HS256", single, "only", "HS256", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t, tt.set)
			f := newTestFetcher(newClock(), nil)
			k, err := f.Key(t.Context(), srv.URL, tt.kid, tt.alg)
			if tt.wantKid == "" {
				if !errors.Is(err, ErrNoKey) {
					t.Fatalf("err = %v, want ErrNoKey", err)
				}
				return
			}
			if err != nil || k.KeyID != tt.wantKid {
				t.Fatalf("got kid %q err %v, want kid %q", k.KeyID, err, tt.wantKid)
			}
		})
	}
}

func TestUnsupportedAlgDoesNotFetch(t *testing.T) {
	srv := newJWKSServer(t, setJSON(t, pub(t, "ec384", "k")))
	f := newTestFetcher(newClock(), nil)
	for _, alg := range []string{"none", "HS256", "HS384", "", "es384"} {
		if _, err := f.Key(t.Context(), srv.URL, "k", alg); !errors.Is(err, ErrNoKey) {
			t.Errorf("alg %q: err = %v, want ErrNoKey", alg, err)
		}
	}
	if got := srv.hits.Load(); got != 0 {
		t.Errorf("hits = %d, want 0", got)
	}
}

func TestConcurrentCallsShareOneFetch(t *testing.T) {
	srv := newJWKSServer(t, setJSON(t, pub(t, "ec384", "k1")))
	release := srv.hold(t)
	f := newTestFetcher(newClock(), nil)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := f.Key(context.Background(), srv.URL, "k1", "ES384")
			errs <- err
		})
	}
	waitFor(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		e := f.entries[srv.URL]
		return e != nil && e.call != nil && e.call.waiters == n
	})
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := srv.hits.Load(); got != 1 {
		t.Errorf("hits = %d, want 1", got)
	}
}

// A caller whose context ends stops waiting; the shared fetch completes for
// the others.
func TestCallerCancelDoesNotFailSharedFetch(t *testing.T) {
	srv := newJWKSServer(t, setJSON(t, pub(t, "ec384", "k1")))
	release := srv.hold(t)
	f := newTestFetcher(newClock(), nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := f.Key(ctx, srv.URL, "k1", "ES384")
		done <- err
	}()
	waitFor(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		e := f.entries[srv.URL]
		return e != nil && e.call != nil && e.call.waiters == 1
	})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: err = %v, want context.Canceled", err)
	}
	second := make(chan error, 1)
	go func() {
		_, err := f.Key(t.Context(), srv.URL, "k1", "ES384")
		second <- err
	}()
	release()
	if err := <-second; err != nil {
		t.Fatalf("second caller: %v", err)
	}
	if got := srv.hits.Load(); got != 1 {
		t.Errorf("hits = %d, want 1", got)
	}
}

// waitFor polls cond without sleeping until it holds, failing after 5s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		runtime.Gosched()
	}
}

package dpop_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/smartlaunch/smartlaunch/internal/dpop"
)

// TestReplay: a proof is accepted once (RFC 9449 §11.1, A-51), also when
// raced to two instances sharing the store and after a restart
// the same jti under another key is another proof.
func TestReplay(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shared.db")
	c := newClock(t0)
	v := verifierOn(t, openDB(t, path), c)
	ctx := t.Context()

	p := newProof(keyES256)
	h := p.compact()
	if _, err := v.Verify(ctx, tokenRequest(h)); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if _, err := v.Verify(ctx, tokenRequest(h)); !errors.Is(err, dpop.ErrInvalidProof) || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("second use: got error %v, want ErrInvalidProof (jti already used)", err)
	}
	// A new proof by the same key with the same jti is a replay too.
	p.claims["htm"], p.claims["htu"] = "GET", fhirURL
	if _, err := v.Verify(ctx, dpop.Request{Header: p.compact(), Method: "GET", URL: fhirURL}); !errors.Is(err, dpop.ErrInvalidProof) {
		t.Errorf("same key and jti at another URL: got error %v, want ErrInvalidProof", err)
	}
	// Another key may use the same jti.
	q := newProof(keyEdDSA)
	q.claims["jti"] = p.claims["jti"]
	if _, err := v.Verify(ctx, tokenRequest(q.compact())); err != nil {
		t.Errorf("same jti, other key: %v", err)
	}

	// A restart: a new handle on the same file still refuses the replay,
	// up to the end of the iat window.
	c.add(dpop.DefaultIATWindow)
	restarted := verifierOn(t, openDB(t, path), c)
	if _, err := restarted.Verify(ctx, tokenRequest(h)); !errors.Is(err, dpop.ErrInvalidProof) || !strings.Contains(err.Error(), "already used") {
		t.Errorf("replay after restart: got error %v, want ErrInvalidProof (jti already used)", err)
	}

	// Two instances on one store, one proof raced to both.
	c.set(t0)
	a, b := verifierOn(t, openDB(t, path), c), verifierOn(t, openDB(t, path), c)
	const racers = 20
	raced := newProof(keyRS256).compact()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		accepted int
	)
	start := make(chan struct{})
	for i := range racers {
		inst := a
		if i%2 == 1 {
			inst = b
		}
		wg.Go(func() {
			<-start
			_, err := inst.Verify(ctx, tokenRequest(raced))
			switch {
			case err == nil:
				mu.Lock()
				accepted++
				mu.Unlock()
			case !errors.Is(err, dpop.ErrInvalidProof):
				t.Errorf("raced Verify: unexpected error %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if accepted != 1 {
		t.Errorf("%d of %d raced verifications accepted, want exactly 1", accepted, racers)
	}
}

// brokenCache is a replay cache whose store is down.
type brokenCache struct{}

func (brokenCache) Remember(context.Context, string, time.Time, time.Time) (bool, error) {
	return false, errors.New("disk on fire")
}

// TestNonce: server nonces round trip, expire after NonceTTL, are shared
// by instances with one key and refused from another key (RFC 9449 §8, §9,
//
func TestNonce(t *testing.T) {
	t.Parallel()
	c := newClock(t0)
	db := openDB(t, filepath.Join(t.TempDir(), "n.db"))
	v := verifierOn(t, db, c)
	ctx := t.Context()
	withNonce := func(nonce string, at time.Time) dpop.Request {
		p := newProof(keyES256)
		p.claims["nonce"] = nonce
		p.claims["iat"] = at.Unix()
		r := tokenRequest(p.compact())
		r.RequireNonce = true
		return r
	}
	nonce := v.Nonce()
	if len(nonce) != 32 || strings.ContainsAny(nonce, "\" \\") {
		t.Errorf("Nonce() = %q, want 32 NQCHAR characters", nonce)
	}

	tests := []struct {
		name  string
		nonce string
		later time.Duration // how long after issue the proof is made
		want  error
	}{
		{"fresh", nonce, 0, nil},
		{"just before expiry", nonce, dpop.DefaultNonceTTL - time.Second, nil},
		{"expired", nonce, dpop.DefaultNonceTTL, dpop.ErrUseNonce},
		{"tampered", flipLast(nonce), 0, dpop.ErrUseNonce},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.set(t0.Add(tt.later))
			defer c.set(t0)
			_, err := v.Verify(ctx, withNonce(tt.nonce, c.now()))
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Verify: got error %v, want %v", err, tt.want)
			}
		})
	}

	// Another instance with the same key accepts the nonce; one with another
	// key does not.
	same := verifierOn(t, db, c)
	if _, err := same.Verify(ctx, withNonce(nonce, t0)); err != nil {
		t.Errorf("same key, other instance: %v", err)
	}
	other, err := dpop.New(dpop.Config{Replay: db, NonceKey: []byte(strings.Repeat("k", 32)), Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Verify(ctx, withNonce(nonce, t0)); !errors.Is(err, dpop.ErrUseNonce) {
		t.Errorf("other key: got error %v, want ErrUseNonce", err)
	}
	// The retry with the fresh nonce succeeds.
	if _, err := other.Verify(ctx, withNonce(other.Nonce(), t0)); err != nil {
		t.Errorf("retry with fresh nonce: %v", err)
	}
}

// TestReplayCacheFailure: a store failure is the server's error, neither
// invalid_dpop_proof nor use_dpop_nonce.
func TestReplayCacheFailure(t *testing.T) {
	t.Parallel()
	c := newClock(t0)
	v := verifierOn(t, brokenCache{}, c)
	_, err := v.Verify(t.Context(), tokenRequest(newProof(keyES256).compact()))
	if err == nil || errors.Is(err, dpop.ErrInvalidProof) || errors.Is(err, dpop.ErrUseNonce) {
		t.Errorf("Verify with a broken cache: got error %v, want a server error", err)
	}
}

// TestFromRequest: exactly one DPoP header, whatever the case of its name
// (RFC 9449 §4.3 step 1, A-48).
func TestFromRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		headers string
		want    string
		wantErr error
	}{
		{"one", "DPoP: a.b.c\r\n", "a.b.c", nil},
		{"upper case name", "DPOP: a.b.c\r\n", "a.b.c", nil},
		{"none", "", "", dpop.ErrNoProof},
		{"two", "DPoP: a.b.c\r\nDPoP: d.e.f\r\n", "", dpop.ErrInvalidProof},
		{"two names", "DPoP: a.b.c\r\ndpop: d.e.f\r\n", "", dpop.ErrInvalidProof},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := "POST /token HTTP/1.1\r\nHost: server.example\r\n" + tt.headers + "\r\n"
			r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := dpop.FromRequest(r)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("FromRequest: got error %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("FromRequest = %q, want %q", got, tt.want)
			}
		})
	}
	if errors.Is(dpop.ErrNoProof, dpop.ErrInvalidProof) != true {
		t.Error("ErrNoProof does not wrap ErrInvalidProof")
	}
}

// TestThumbprint checks the RFC 7638 §3.1 example.
func TestThumbprint(t *testing.T) {
	t.Parallel()
	const example = `{"kty":"RSA","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}`
	var jwk jose.JSONWebKey
	if err := json.Unmarshal([]byte(example), &jwk); err != nil {
		t.Fatal(err)
	}
	got, err := dpop.Thumbprint(jwk.Key)
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("Thumbprint = %q, want %q", got, want)
	}
	// A private key gives its public key's thumbprint.
	if a, b := thumb(t, keyEdDSA.signer), must(dpop.Thumbprint(keyEdDSA.signer)); a != b {
		t.Errorf("Thumbprint(private) = %q, want %q", b, a)
	}
	if _, err := dpop.Thumbprint("not a key"); err == nil {
		t.Error("Thumbprint(string): got nil error")
	}
}

// flipLast changes the last character of a base64url string.
func flipLast(s string) string {
	last := "A"
	if strings.HasSuffix(s, "A") {
		last = "B"
	}
	return s[:len(s)-1] + last
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

// TestNew refuses incomplete configurations.
func TestNew(t *testing.T) {
	t.Parallel()
	db := openDB(t, filepath.Join(t.TempDir(), "c.db"))
	tests := []struct {
		name string
		cfg  dpop.Config
	}{
		{"no replay cache", dpop.Config{NonceKey: nonceKey}},
		{"short nonce key", dpop.Config{Replay: db, NonceKey: nonceKey[:31]}},
		{"unsupported alg", dpop.Config{Replay: db, NonceKey: nonceKey, Algorithms: []string{"HS256"}}},
		{"no algs", dpop.Config{Replay: db, NonceKey: nonceKey, Algorithms: []string{}}},
		{"negative window", dpop.Config{Replay: db, NonceKey: nonceKey, IATWindow: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := dpop.New(tt.cfg); err == nil {
				t.Error("New: got nil error, want one")
			}
		})
	}
	if got := dpop.SigningAlgs(); len(got) != 10 || got[0] != "ES256" {
		t.Errorf("SigningAlgs() = %v", got)
	}
}

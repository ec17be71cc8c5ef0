package remotekeys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// testKeys are generated once per test binary: RSA generation is slow
// under -race.
var testKeys = sync.OnceValue(func() map[string]crypto.Signer {
	mustEC := func(c elliptic.Curve) crypto.Signer {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	mustRSA := func(bits int) crypto.Signer {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			panic(err)
		}
		return k
	}
	return map[string]crypto.Signer{
		"ec384": mustEC(elliptic.P384()), "ec384b": mustEC(elliptic.P384()),
		"ec256": mustEC(elliptic.P256()), "rsa2048": mustRSA(2048), "rsa1024": mustRSA(1024),
	}
})

// pub returns the public JWK of the named test key with kid.
func pub(t *testing.T, name, kid string) jose.JSONWebKey {
	t.Helper()
	return jose.JSONWebKey{Key: testKeys()[name].Public(), KeyID: kid}
}

// setJSON marshals keys as a JWK Set.
func setJSON(t *testing.T, keys ...jose.JSONWebKey) string {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jwksServer serves a JWKS that a test can change, and counts requests.
type jwksServer struct {
	*httptest.Server
	hits atomic.Int32

	mu           sync.Mutex
	body         string
	cacheControl string
	header       http.Header
	gate         chan struct{} // when set, requests wait for it to close
}

func newJWKSServer(t *testing.T, body string) *jwksServer {
	t.Helper()
	s := &jwksServer{body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		gate := s.gate
		s.mu.Unlock()
		if gate != nil {
			<-gate
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for k, v := range s.header {
			w.Header()[k] = v
		}
		if s.cacheControl != "" {
			w.Header().Set("Cache-Control", s.cacheControl)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(s.body))
	}))
	t.Cleanup(s.Close)
	return s
}

// hold makes requests wait until the returned release function is called
// (or the test ends).
func (s *jwksServer) hold(t *testing.T) (release func()) {
	gate := make(chan struct{})
	s.mu.Lock()
	s.gate = gate
	s.mu.Unlock()
	release = sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release) // runs before the server's Close, registered earlier
	return release
}

func (s *jwksServer) set(body, cacheControl string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.cacheControl = body, cacheControl
}

// clock is an injectable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestFetcher returns a loopback-allowed Fetcher on clk.
func newTestFetcher(clk *clock, mod func(*Config)) *Fetcher {
	cfg := Config{AllowLoopback: true, Now: clk.Now}
	if mod != nil {
		mod(&cfg)
	}
	return New(cfg)
}

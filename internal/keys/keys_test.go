package keys

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
)

func openSet(t testing.TB) (*Set, *sqlite.DB) {
	t.Helper()
	return openSetWith(t, Options{})
}

// openSetWith opens a Set following opts over a fresh SQLite store.
func openSetWith(t testing.TB, opts Options) (*Set, *sqlite.DB) {
	t.Helper()
	db := openDB(t)
	s, err := Open(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

// openDB opens a fresh SQLite store, closed when t ends.
func openDB(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func TestLoadCreatesOnceAndKeeps(t *testing.T) {
	s1, db := openSet(t)
	s2, err := Load(context.Background(), db, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	k1, k2 := s1.JWKS().Keys, s2.JWKS().Keys
	if len(k1) != 2 || len(k2) != 2 || k1[0].KeyID != k2[0].KeyID || k1[1].KeyID != k2[1].KeyID {
		t.Fatalf("keys after reload: %v / %v, want the same two keys", k1, k2)
	}
	algs := map[string]bool{}
	for _, k := range k1 {
		if !k.IsPublic() || k.Use != "sig" {
			t.Errorf("published key %+v: want a public signing key", k)
		}
		algs[k.Algorithm] = true
	}
	if !algs["RS256"] || !algs["ES256"] {
		t.Errorf("published algorithms %v, want RS256 (id_tokens) and ES256 (access tokens)", algs)
	}
	b, _ := json.Marshal(s1.JWKS())
	if strings.Contains(string(b), `"d"`) || strings.Contains(string(b), `"p"`) {
		t.Errorf("JWKS leaks private key material: %s", b)
	}
	// A token signed before the reload verifies after it.
	tok, err := s1.SignAccessToken(map[string]string{"sub": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Verify(tok, AccessTokenType); err != nil {
		t.Errorf("verify after reload: %v", err)
	}
	idt, err := s1.SignIDToken(map[string]string{"sub": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Verify(idt, "JWT"); err != nil {
		t.Errorf("verify id_token after reload: %v", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	s, _ := openSet(t)
	tok, err := s.SignAccessToken(map[string]string{"sub": "x"})
	if err != nil {
		t.Fatal(err)
	}
	idt, _ := s.SignIDToken(map[string]string{"sub": "x"})
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	foreign, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: other},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", signingKID(s, IDTokenAlgorithm)))
	fj, _ := foreign.Sign([]byte(`{"sub":"x"}`))
	forged, _ := fj.CompactSerialize()
	parts := strings.Split(tok, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2]
	hs, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	hj, _ := hs.Sign([]byte(`{"sub":"x"}`))
	hmacTok, _ := hj.CompactSerialize()
	tests := []struct{ name, token, typ string }{
		{"wrong typ", tok, "JWT"},
		{"id_token presented as an access token", idt, "at+jwt"},
		{"signed by another key with our kid", forged, "at+jwt"},
		{"tampered payload", tampered, "at+jwt"},
		{"HS256 (alg confusion)", hmacTok, "at+jwt"},
		{"alg none", "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ4In0.", "at+jwt"},
		{"garbage", "not.a.jwt", "at+jwt"},
		{"empty", "", "at+jwt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Verify(tt.token, tt.typ); !errors.Is(err, ErrInvalid) {
				t.Errorf("Verify = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestDeriveSecret(t *testing.T) {
	s, _ := openSet(t)
	a, _ := s.DeriveSecret("a")
	a2, _ := s.DeriveSecret("a")
	b, _ := s.DeriveSecret("b")
	if len(a) != 32 || string(a) != string(a2) || string(a) == string(b) {
		t.Error("DeriveSecret must be 32 bytes, stable per purpose and distinct across purposes")
	}
}

// FuzzVerify: untrusted bearer tokens never panic the verifier and are
// never accepted unless signed by the set.
func FuzzVerify(f *testing.F) {
	s, _ := openSet(f)
	tok, _ := s.SignAccessToken(map[string]string{"sub": "x"})
	f.Add(tok)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, in string) {
		payload, err := s.Verify(in, "at+jwt")
		if err == nil && in != tok && string(payload) != `{"sub":"x"}` {
			t.Fatalf("accepted a token the set did not sign: %q", in)
		}
	})
}

// signingKID is the kid of the key of alg that s signs with now.
func signingKID(s *Set, alg jose.SignatureAlgorithm) string {
	return s.ring.Load().signing(alg, s.opts.Now()).id
}

// TestRotationAcrossInstances (issue 11): two Sets over one store, as two
// instances. After a rotation that signs at once ("keys rotate --now"),
// tokens signed before it still verify on both; the instance that reloads
// signs with the new key, and the other verifies those tokens at once,
// reloading on the unknown key by itself; both derive their secrets from
// the new RSA key.
func TestRotationAcrossInstances(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	a, db := openSetWith(t, Options{Now: clock.Now})
	b, err := Open(ctx, db, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	before, err := a.SignAccessToken(map[string]string{"sub": "before"})
	if err != nil {
		t.Fatal(err)
	}
	oldKID := signingKID(a, AccessTokenAlgorithm)
	oldSecret, _ := a.DeriveSecret("cookie")
	clock.Advance(time.Second)
	if _, err := a.Rotate(ctx, true); err != nil {
		t.Fatal(err)
	}
	after, err := a.SignAccessToken(map[string]string{"sub": "after"})
	if err != nil {
		t.Fatal(err)
	}
	if kid := signingKID(a, AccessTokenAlgorithm); kid == oldKID {
		t.Fatal("A still signs with the old key after the rotation")
	}
	for _, tc := range []struct {
		name  string
		set   *Set
		token string
	}{
		{"A, before", a, before}, {"A, after", a, after},
		{"B, before", b, before}, {"B, after (reloads on the unknown key)", b, after},
	} {
		if _, err := tc.set.Verify(tc.token, AccessTokenType); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if n := len(b.JWKS().Keys); n != 4 {
		t.Errorf("B's JWKS has %d keys after the rotation, want 4 (old and new of each algorithm)", n)
	}
	// The old keys may have leaked: the derived secrets move to the new
	// RSA key, the same on every instance.
	newSecret, _ := a.DeriveSecret("cookie")
	if string(newSecret) == string(oldSecret) {
		t.Error("DeriveSecret still derives from the old key after a rotation that signs at once")
	}
	if secret, _ := b.DeriveSecret("cookie"); string(secret) != string(newSecret) {
		t.Error("instances derive different secrets after the rotation")
	}
}

// hookStore is a store that runs hook, once, right after a ListKeys has
// read the keys, before returning them.
type hookStore struct {
	store.Keys
	hook func()
}

func (h *hookStore) ListKeys(ctx context.Context) ([]store.SigningKey, error) {
	ks, err := h.Keys.ListKeys(ctx)
	if f := h.hook; f != nil {
		h.hook = nil
		f()
	}
	return ks, err
}

// TestMaintainKeepsNewerReading: while Maintain runs on what it read,
// another instance rotates at once and a token signed with its new key
// makes this one reload on the unknown kid. Maintain must not then store
// its older reading: the instance would go back to signing with the old
// key until the next run.
func TestMaintainKeepsNewerReading(t *testing.T) {
	ctx := t.Context()
	c := newClock()
	db := openDB(t)
	hs := &hookStore{Keys: db}
	s, err := Open(ctx, hs, Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, db, Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Second)
	hs.hook = func() {
		created, err := other.Rotate(ctx, true)
		if err != nil || len(created) != 2 {
			t.Fatalf("Rotate = %v, %v", created, err)
		}
		tok, err := other.SignAccessToken(map[string]string{"sub": "x"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Verify(tok, AccessTokenType); err != nil {
			t.Fatalf("a token of the new key (reload on the unknown kid): %v", err)
		}
	}
	maintain(t, s)
	if hs.hook != nil {
		t.Fatal("the hook did not run")
	}
	if got, want := signingKID(s, AccessTokenAlgorithm), signingKID(other, AccessTokenAlgorithm); got != want {
		t.Errorf("after Maintain the instance signs with %s, want the new key %s it had reloaded", got, want)
	}
}

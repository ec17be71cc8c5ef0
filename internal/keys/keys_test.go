package keys

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
)

func openSet(t testing.TB) (*Set, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := Load(context.Background(), db, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

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
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", s.ring.Load().current[IDTokenAlgorithm].id))
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

// TestRotationAcrossInstances (issue 11): two Sets over one store, as two
// instances. After a rotation, tokens signed before it still verify on
// both; the instance that reloads signs with the new key, and the other
// verifies those tokens at once, reloading on the unknown key by itself.
func TestRotationAcrossInstances(t *testing.T) {
	ctx := context.Background()
	a, db := openSet(t)
	b, err := Load(ctx, db, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	before, err := a.SignAccessToken(map[string]string{"sub": "before"})
	if err != nil {
		t.Fatal(err)
	}
	oldKID := a.ring.Load().current[AccessTokenAlgorithm].id
	oldSecret, _ := a.DeriveSecret("cookie")
	if err := Rotate(ctx, db, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := a.SignAccessToken(map[string]string{"sub": "after"})
	if err != nil {
		t.Fatal(err)
	}
	if kid := a.ring.Load().current[AccessTokenAlgorithm].id; kid == oldKID {
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
	if secret, _ := a.DeriveSecret("cookie"); string(secret) != string(oldSecret) {
		t.Error("DeriveSecret changed with the rotation: cookies would break")
	}
}

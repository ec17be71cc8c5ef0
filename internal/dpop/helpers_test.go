package dpop_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	_ "crypto/sha512" // registers crypto.SHA384 and crypto.SHA512
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/smartlaunch/smartlaunch/internal/dpop"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
)

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

const (
	tokenURL = "https://server.example/token"
	fhirURL  = "https://server.example/fhir/Patient/123"
)

// clock is an injected, settable time.
type clock struct{ t atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.set(t)
	return c
}
func (c *clock) set(t time.Time)     { c.t.Store(t.UnixNano()) }
func (c *clock) now() time.Time      { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) add(d time.Duration) { c.set(c.now().Add(d)) }

// openDB opens a SQLite store at path, closed when the test ends.
func openDB(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var nonceKey = []byte("0123456789abcdef0123456789abcdef")

// newVerifier returns a Verifier on a fresh SQLite replay cache.
func newVerifier(t testing.TB, c *clock) *dpop.Verifier {
	t.Helper()
	return verifierOn(t, openDB(t, filepath.Join(t.TempDir(), "test.db")), c)
}

func verifierOn(t testing.TB, cache dpop.ReplayCache, c *clock) *dpop.Verifier {
	t.Helper()
	v, err := dpop.New(dpop.Config{Replay: cache, NonceKey: nonceKey, Now: c.now})
	if err != nil {
		t.Fatalf("dpop.New: %v", err)
	}
	return v
}

// testKey is a client's key and the algorithm it signs proofs with.
type testKey struct {
	alg    string
	signer crypto.Signer
}

var (
	keyES256 = testKey{"ES256", mustEC(elliptic.P256())}
	keyES384 = testKey{"ES384", mustEC(elliptic.P384())}
	keyRS256 = testKey{"RS256", mustRSA(2048)}
	keyPS256 = testKey{"PS256", keyRS256.signer}
	keyEdDSA = testKey{"EdDSA", mustEd25519()}
	keyOther = testKey{"ES256", mustEC(elliptic.P256())}
	keyRS1k  = testKey{"RS256", mustRSA(1024)}
)

func mustEC(c elliptic.Curve) crypto.Signer {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func mustRSA(bits int) crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEd25519() crypto.Signer {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// jwkOf returns the JWK members of key's public key.
func jwkOf(key crypto.Signer) map[string]any {
	b, err := json.Marshal(jose.JSONWebKey{Key: key.Public()})
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	return m
}

func thumb(t testing.TB, key crypto.Signer) string {
	t.Helper()
	jkt, err := dpop.Thumbprint(key.Public())
	if err != nil {
		t.Fatalf("Thumbprint: %v", err)
	}
	return jkt
}

var jtiSeq atomic.Int64

// proof is a DPoP proof under construction: its JOSE header and claims as
// maps that a test case edits, and the key that signs it.
type proof struct {
	header map[string]any
	claims map[string]any
	key    testKey
	// sign replaces the signature step when set (alg none, HS256, ...).
	sign func(input string) []byte
}

// newProof returns a valid proof by k for POST tokenURL issued at t0, with
// a unique jti.
func newProof(k testKey) *proof {
	return &proof{
		header: map[string]any{"typ": "dpop+jwt", "alg": k.alg, "jwk": jwkOf(k.signer)},
		claims: map[string]any{
			"jti": fmt.Sprintf("jti-%d", jtiSeq.Add(1)),
			"htm": "POST",
			"htu": tokenURL,
			"iat": t0.Unix(),
		},
		key: k,
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64JSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b64(b)
}

// compact serializes and signs p.
func (p *proof) compact() string {
	input := b64JSON(p.header) + "." + b64JSON(p.claims)
	var sig []byte
	if p.sign != nil {
		sig = p.sign(input)
	} else {
		sig = signWith(p.key, input)
	}
	return input + "." + b64(sig)
}

// signWith makes a JWS signature (RFC 7518 §3) over input.
func signWith(k testKey, input string) []byte {
	hashed := func(h crypto.Hash) []byte {
		w := h.New()
		w.Write([]byte(input))
		return w.Sum(nil)
	}
	var (
		sig []byte
		err error
	)
	switch k.alg {
	case "ES256", "ES384", "ES512":
		h := map[string]crypto.Hash{"ES256": crypto.SHA256, "ES384": crypto.SHA384, "ES512": crypto.SHA512}[k.alg]
		priv := k.signer.(*ecdsa.PrivateKey)
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, priv, hashed(h))
		size := (priv.Curve.Params().BitSize + 7) / 8
		sig = append(r.FillBytes(make([]byte, size)), s.FillBytes(make([]byte, size))...)
	case "RS256":
		sig, err = rsa.SignPKCS1v15(rand.Reader, k.signer.(*rsa.PrivateKey), crypto.SHA256, hashed(crypto.SHA256))
	case "PS256":
		sig, err = rsa.SignPSS(rand.Reader, k.signer.(*rsa.PrivateKey), crypto.SHA256, hashed(crypto.SHA256),
			&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "EdDSA":
		sig = ed25519.Sign(k.signer.(ed25519.PrivateKey), []byte(input))
	default:
		panic("no signer for " + k.alg)
	}
	if err != nil {
		panic(err)
	}
	return sig
}

// ath is the RFC 9449 §4.2 hash of an access token.
func ath(token string) string {
	sum := sha256.Sum256([]byte(token))
	return b64(sum[:])
}

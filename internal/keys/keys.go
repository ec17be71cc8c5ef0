package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// The two algorithms the server signs with. id_tokens are RS256, which
// SMART requires every server to support and clients and certification
// tools expect (R-OIDC-07). Access tokens are read only by this server, so
// they use ES256: signing is some fifty times cheaper than RSA, which
// matters on the token endpoint's hot path.
const (
	IDTokenAlgorithm     = jose.RS256
	AccessTokenAlgorithm = jose.ES256
)

const rsaBits = 2048

// Set is the server's signing keys, as stored: the newest key of each
// algorithm signs; every key verifies, so tokens signed before a rotation
// stay valid until they expire. Instances sharing a store share the keys:
// Reload reads a rotation another instance made, and Verify reloads by
// itself (at most once a second) when a token names a key it does not
// know. A Set is safe for concurrent use.
type Set struct {
	st   store.Keys
	ring atomic.Pointer[ring]

	mu         sync.Mutex // serializes reloads on a miss
	lastReload time.Time
}

// ring is one reading of the stored keys.
type ring struct {
	current map[jose.SignatureAlgorithm]*key
	byID    map[string]*key
	jwks    jose.JSONWebKeySet
	secret  []byte // the source of DeriveSecret
}

type key struct {
	id     string
	alg    jose.SignatureAlgorithm
	signer crypto.Signer
	der    []byte
}

// Load reads the keys from st, creating and storing a key of each
// algorithm that has none, so a fresh data directory gets its keys on first
// start and keeps them across restarts.
func Load(ctx context.Context, st store.Keys, now time.Time) (*Set, error) {
	stored, err := st.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: list: %w", err)
	}
	created := false
	for _, alg := range []jose.SignatureAlgorithm{IDTokenAlgorithm, AccessTokenAlgorithm} {
		if hasAlg(stored, alg) {
			continue
		}
		k, err := generate(alg, now)
		if err != nil {
			return nil, err
		}
		if err := st.CreateKey(ctx, k); err != nil && !errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("keys: store new key: %w", err)
		}
		created = true
	}
	if created {
		// Another process may have created keys at the same moment: read back.
		if stored, err = st.ListKeys(ctx); err != nil {
			return nil, fmt.Errorf("keys: list: %w", err)
		}
	}
	r, err := newRing(stored)
	if err != nil {
		return nil, err
	}
	s := &Set{st: st}
	s.ring.Store(r)
	return s, nil
}

// Rotate stores a new key of each algorithm, created at now: every
// instance signs with them once it reloads (Reload), and keeps verifying
// with the old ones.
func Rotate(ctx context.Context, st store.Keys, now time.Time) error {
	for _, alg := range []jose.SignatureAlgorithm{IDTokenAlgorithm, AccessTokenAlgorithm} {
		k, err := generate(alg, now)
		if err != nil {
			return err
		}
		if err := st.CreateKey(ctx, k); err != nil {
			return fmt.Errorf("keys: store new key: %w", err)
		}
	}
	return nil
}

// Reload reads the stored keys again: keys another instance created
// verify from now on, and the newest of each algorithm signs.
func (s *Set) Reload(ctx context.Context) error {
	stored, err := s.st.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: list: %w", err)
	}
	r, err := newRing(stored)
	if err != nil {
		return err
	}
	s.ring.Store(r)
	return nil
}

// newRing parses stored keys, oldest first.
func newRing(stored []store.SigningKey) (*ring, error) {
	r := &ring{current: map[jose.SignatureAlgorithm]*key{}, byID: map[string]*key{}}
	for _, sk := range stored {
		k, err := parse(sk)
		if err != nil {
			return nil, err
		}
		r.byID[k.id] = k
		r.current[k.alg] = k
		r.jwks.Keys = append(r.jwks.Keys, jose.JSONWebKey{
			Key: k.signer.Public(), KeyID: k.id, Algorithm: string(k.alg), Use: "sig",
		})
		if k.alg == IDTokenAlgorithm && r.secret == nil {
			r.secret = k.der
		}
	}
	return r, nil
}

// reloadOnMiss reloads the keys for a token naming an unknown key, at
// most once a second, and reports whether it did.
func (s *Set) reloadOnMiss() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.lastReload) < time.Second {
		return false
	}
	s.lastReload = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.Reload(ctx) == nil
}

func hasAlg(ks []store.SigningKey, alg jose.SignatureAlgorithm) bool {
	for _, k := range ks {
		if k.Algorithm == string(alg) {
			return true
		}
	}
	return false
}

func generate(alg jose.SignatureAlgorithm, now time.Time) (store.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return store.SigningKey{}, fmt.Errorf("keys: unsupported algorithm %s", alg)
	}
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("keys: generate: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("keys: encode: %w", err)
	}
	// The kid is the RFC 7638 thumbprint, so it is stable and unique.
	thumb, err := (&jose.JSONWebKey{Key: priv.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("keys: thumbprint: %w", err)
	}
	return store.SigningKey{
		ID:         base64.RawURLEncoding.EncodeToString(thumb),
		Algorithm:  string(alg),
		PrivateKey: der,
		CreatedAt:  now,
	}, nil
}

func parse(sk store.SigningKey) (*key, error) {
	parsed, err := x509.ParsePKCS8PrivateKey(sk.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("keys: parse key %s: %w", sk.ID, err)
	}
	alg := jose.SignatureAlgorithm(sk.Algorithm)
	var ok bool
	switch alg {
	case jose.RS256:
		_, ok = parsed.(*rsa.PrivateKey)
	case jose.ES256:
		var ec *ecdsa.PrivateKey
		ec, ok = parsed.(*ecdsa.PrivateKey)
		ok = ok && ec.Curve == elliptic.P256()
	}
	if !ok {
		return nil, fmt.Errorf("keys: key %s: unsupported algorithm %s", sk.ID, sk.Algorithm)
	}
	return &key{id: sk.ID, alg: alg, signer: parsed.(crypto.Signer), der: sk.PrivateKey}, nil
}

func (s *Set) sign(alg jose.SignatureAlgorithm, typ string, claims any) (string, error) {
	k := s.ring.Load().current[alg]
	if k == nil {
		return "", fmt.Errorf("keys: no %s key", alg)
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", k.id)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: k.signer}, opts)
	if err != nil {
		return "", fmt.Errorf("keys: signer: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("keys: claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("keys: sign: %w", err)
	}
	return jws.CompactSerialize()
}

// AccessTokenType is the JWT "typ" of access tokens (RFC 9068 §2.1).
const AccessTokenType = "at+jwt"

// SignAccessToken signs an RFC 9068 access token (ES256, typ at+jwt).
func (s *Set) SignAccessToken(claims any) (string, error) {
	return s.sign(AccessTokenAlgorithm, AccessTokenType, claims)
}

// SignIDToken signs an OpenID Connect id_token (RS256, typ JWT).
func (s *Set) SignIDToken(claims any) (string, error) {
	return s.sign(IDTokenAlgorithm, "JWT", claims)
}

// ErrInvalid reports a token that is malformed, not signed by one of the
// set's keys, or of the wrong type.
var ErrInvalid = errors.New("keys: invalid token")

// Verify checks that token is a compact JWS signed by one of the set's
// keys, with the key's own algorithm, and with header "typ" equal to typ;
// it returns the payload. Claims are the caller's to check.
func (s *Set) Verify(token, typ string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{IDTokenAlgorithm, AccessTokenAlgorithm})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, ErrInvalid
	}
	h := jws.Signatures[0].Header
	if h.ExtraHeaders[jose.HeaderType] != typ {
		return nil, ErrInvalid
	}
	k, ok := s.ring.Load().byID[h.KeyID]
	if !ok && s.reloadOnMiss() {
		k, ok = s.ring.Load().byID[h.KeyID]
	}
	if !ok || jose.SignatureAlgorithm(h.Algorithm) != k.alg {
		return nil, ErrInvalid
	}
	payload, err := jws.Verify(k.signer.Public())
	if err != nil {
		return nil, ErrInvalid
	}
	return payload, nil
}

// JWKS returns the public keys as a JWK Set (RFC 7517 §5).
func (s *Set) JWKS() jose.JSONWebKeySet { return s.ring.Load().jwks }

// DeriveSecret returns a 32-byte secret for purpose, derived with HKDF
// (RFC 5869) from the oldest RSA private key: a stable key for MACs such as
// browser-binding cookies that needs no storage of its own.
func (s *Set) DeriveSecret(purpose string) ([]byte, error) {
	b, err := hkdf.Key(sha256.New, s.ring.Load().secret, nil, "smartlaunch "+purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("keys: derive: %w", err)
	}
	return b, nil
}

package keys

import (
	"context"
	"crypto"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// Algorithm is the JWS algorithm of every key this package creates. RS256
// is what SMART clients and certification tools expect of id_tokens.
const Algorithm = jose.RS256

const rsaBits = 2048

// Set is the server's loaded signing keys. The newest key signs; every key
// verifies. A Set is safe for concurrent use.
type Set struct {
	current *key
	byID    map[string]*key
	jwks    jose.JSONWebKeySet
}

type key struct {
	id   string
	priv *rsa.PrivateKey
	der  []byte
}

// Load reads the keys from st, creating and storing one at now if there are
// none, so that a fresh data directory gets a key on first start and keeps
// it across restarts.
func Load(ctx context.Context, st store.Keys, now time.Time) (*Set, error) {
	stored, err := st.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: list: %w", err)
	}
	if len(stored) == 0 {
		k, err := generate(now)
		if err != nil {
			return nil, err
		}
		if err := st.CreateKey(ctx, k); err != nil && !errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("keys: store new key: %w", err)
		}
		// Another process may have created one at the same moment: read back.
		if stored, err = st.ListKeys(ctx); err != nil {
			return nil, fmt.Errorf("keys: list: %w", err)
		}
	}
	s := &Set{byID: map[string]*key{}}
	for _, sk := range stored {
		k, err := parse(sk)
		if err != nil {
			return nil, err
		}
		s.byID[k.id] = k
		s.current = k
		s.jwks.Keys = append(s.jwks.Keys, jose.JSONWebKey{
			Key: &k.priv.PublicKey, KeyID: k.id, Algorithm: string(Algorithm), Use: "sig",
		})
	}
	return s, nil
}

func generate(now time.Time) (store.SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("keys: generate: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("keys: encode: %w", err)
	}
	// The kid is the RFC 7638 thumbprint, so it is stable and unique.
	thumb, err := (&jose.JSONWebKey{Key: &priv.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("keys: thumbprint: %w", err)
	}
	return store.SigningKey{
		ID:         base64.RawURLEncoding.EncodeToString(thumb),
		Algorithm:  string(Algorithm),
		PrivateKey: der,
		CreatedAt:  now,
	}, nil
}

func parse(sk store.SigningKey) (*key, error) {
	parsed, err := x509.ParsePKCS8PrivateKey(sk.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("keys: parse key %s: %w", sk.ID, err)
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok || sk.Algorithm != string(Algorithm) {
		return nil, fmt.Errorf("keys: key %s: unsupported algorithm %s", sk.ID, sk.Algorithm)
	}
	return &key{id: sk.ID, priv: priv, der: sk.PrivateKey}, nil
}

func (k *key) newSigner(typ string) (jose.Signer, error) {
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", k.id)
	return jose.NewSigner(jose.SigningKey{Algorithm: Algorithm, Key: k.priv}, opts)
}

// Sign returns a compact JWS of claims, with header "typ" set to typ
// ("at+jwt" for access tokens, "JWT" for id_tokens) and "kid" to the
// current key.
func (s *Set) Sign(typ string, claims any) (string, error) {
	signer, err := s.current.newSigner(typ)
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

// ErrInvalid reports a token that is malformed, not signed by one of the
// set's keys, or of the wrong type.
var ErrInvalid = errors.New("keys: invalid token")

// Verify checks that token is a compact JWS signed by one of the set's keys
// with header "typ" equal to typ, and returns its payload. Claims are the
// caller's to check.
func (s *Set) Verify(token, typ string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{Algorithm})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, ErrInvalid
	}
	h := jws.Signatures[0].Header
	if h.ExtraHeaders[jose.HeaderType] != typ {
		return nil, ErrInvalid
	}
	k, ok := s.byID[h.KeyID]
	if !ok {
		return nil, ErrInvalid
	}
	payload, err := jws.Verify(&k.priv.PublicKey)
	if err != nil {
		return nil, ErrInvalid
	}
	return payload, nil
}

// JWKS returns the public keys as a JWK Set (RFC 7517 §5).
func (s *Set) JWKS() jose.JSONWebKeySet { return s.jwks }

// DeriveSecret returns a 32-byte secret for purpose, derived with HKDF
// (RFC 5869) from the current private key: a stable key for MACs such as
// browser-binding cookies that needs no storage of its own.
func (s *Set) DeriveSecret(purpose string) ([]byte, error) {
	b, err := hkdf.Key(sha256.New, s.current.der, nil, "smartlaunch "+purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("keys: derive: %w", err)
	}
	return b, nil
}

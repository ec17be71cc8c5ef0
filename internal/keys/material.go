package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

const rsaBits = 2048

// generate makes a new key of alg, created at now and signing from
// activates, ready to store: sealed when the Set encrypts keys at rest.
func (s *Set) generate(alg jose.SignatureAlgorithm, now, activates time.Time) (store.SigningKey, error) {
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
	k := store.SigningKey{
		ID:          base64.RawURLEncoding.EncodeToString(thumb),
		Algorithm:   string(alg),
		PrivateKey:  der,
		CreatedAt:   now,
		ActivatesAt: activates,
	}
	if s.opts.Encryption != nil {
		if k.PrivateKey, err = s.opts.Encryption.seal(k.ID, der); err != nil {
			return store.SigningKey{}, err
		}
	}
	return k, nil
}

// parse opens and decodes a stored key.
func (s *Set) parse(sk store.SigningKey) (*key, error) {
	der, err := s.opts.Encryption.open(sk)
	if err != nil {
		return nil, err
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
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
	return &key{id: sk.ID, alg: alg, signer: parsed.(crypto.Signer), der: der, stored: sk.PrivateKey}, nil
}

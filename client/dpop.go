package client

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
)

// dpopKey signs DPoP proofs (RFC 9449 §4) with a crypto.Signer.
type dpopKey struct {
	signer jose.Signer
	jkt    string // RFC 7638 thumbprint of the public key, base64url
}

// algFor picks the JWS algorithm for a key: exact is the algorithm for
// DPoP (SHA-256 family) or for assertions (SHA-384 family).
func algFor(pub crypto.PublicKey, sha384 bool) (jose.SignatureAlgorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return jose.ES256, nil
		case elliptic.P384():
			return jose.ES384, nil
		case elliptic.P521():
			return jose.ES512, nil
		}
	case *rsa.PublicKey:
		if sha384 {
			return jose.RS384, nil
		}
		return jose.RS256, nil
	case ed25519.PublicKey:
		return jose.EdDSA, nil
	}
	return "", fmt.Errorf("client: unsupported key type %T", pub)
}

func newDPoPKey(s crypto.Signer) (*dpopKey, error) {
	alg, err := algFor(s.Public(), false)
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: cryptosigner.Opaque(s)},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		return nil, fmt.Errorf("client: DPoP signer: %w", err)
	}
	tp, err := (&jose.JSONWebKey{Key: s.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("client: DPoP key thumbprint: %w", err)
	}
	return &dpopKey{signer: signer, jkt: base64.RawURLEncoding.EncodeToString(tp)}, nil
}

// proof signs a DPoP proof for method and u (query and fragment dropped,
// RFC 9449 §4.2), with the server nonce and, for a resource request, ath
// (the access token's hash).
func (k *dpopKey) proof(method string, u *url.URL, nonce, accessToken string, iat int64) (string, error) {
	htu := *u
	htu.RawQuery, htu.Fragment, htu.RawFragment = "", "", ""
	claims := map[string]any{"jti": randomString(16), "htm": method, "htu": htu.String(), "iat": iat}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := k.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("client: sign DPoP proof: %w", err)
	}
	return jws.CompactSerialize()
}

package remotekeys

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// RSA moduli accepted for signature verification: smaller keys are too weak
// (RFC 7518 §3.3 requires 2048 bits), larger ones make verification a
// denial-of-service lever.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// errBadSet marks a response that is not an acceptable JWK Set.
var errBadSet = errors.New("remotekeys: unacceptable JWK Set")

// secretMembers are the JWK members that carry private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2 "d"; "priv" for
// ML-DSA). A set that contains any of them is refused as a whole: its owner
// has published a secret, and nothing in it should be trusted.
var secretMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// parseSet parses an RFC 7517 JWK Set into its public keys. Individual keys
// that go-jose cannot parse (unknown kty or crv, missing members, values out
// of range, an x5c that does not match) are skipped, as RFC 7517 §5 says;
// a set with private or symmetric key material, or that is not a JSON object
// with a "keys" array, is refused.
func parseSet(body []byte) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("%w: not JSON with a keys array", errBadSet)
	}
	if set.Keys == nil {
		return nil, fmt.Errorf("%w: no keys array", errBadSet)
	}
	keys := make([]jose.JSONWebKey, 0, len(set.Keys))
	for _, raw := range set.Keys {
		var members map[string]json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil || members == nil {
			return nil, fmt.Errorf("%w: a key is not a JSON object", errBadSet)
		}
		for name := range members {
			if slices.Contains(secretMembers, strings.ToLower(name)) {
				return nil, fmt.Errorf("%w: contains private or symmetric key material", errBadSet)
			}
		}
		if kty := members["kty"]; strings.EqualFold(strings.Trim(string(kty), `"`), "oct") {
			return nil, fmt.Errorf("%w: contains a symmetric key", errBadSet)
		}
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			continue // RFC 7517 §5: ignore keys not understood
		}
		if !k.IsPublic() {
			return nil, fmt.Errorf("%w: contains private key material", errBadSet)
		}
		if !k.Valid() || !verifyOpsAllowed(members["key_ops"]) {
			continue
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// verifyOpsAllowed reports whether a key's key_ops member (RFC 7517 §4.3),
// when present, permits "verify".
func verifyOpsAllowed(raw json.RawMessage) bool {
	if raw == nil {
		return true
	}
	var ops []string
	return json.Unmarshal(raw, &ops) == nil && slices.Contains(ops, "verify")
}

// algSupported reports whether alg is a JWS algorithm this package finds
// keys for: the asymmetric algorithms SMART App Launch 2.1 names (RS384,
// ES384) and the others issue 5 accepts. "none" and the HMAC algorithms are
// never supported (RFC 8725 §3.1, §3.2).
func algSupported(alg string) bool { return slices.Contains(supportedAlgs, alg) }

// supportedAlgs lists the algorithms suitable accepts keys for.
var supportedAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// suitable reports whether k can verify a signature made with alg: its key
// type and curve fit alg (SMART App Launch 2.1 client-confidential-asymmetric
// key selection: kty fits alg), its "use", when present, is "sig", and its
// "alg", when present, equals alg (RFC 7517 §4.2, §4.4).
func suitable(k jose.JSONWebKey, alg string) bool {
	if k.Use != "" && k.Use != "sig" || k.Algorithm != "" && k.Algorithm != alg {
		return false
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		bits := pub.N.BitLen()
		return (strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")) && algSupported(alg) &&
			bits >= minRSABits && bits <= maxRSABits
	case *ecdsa.PublicKey:
		return alg == "ES256" && pub.Curve == elliptic.P256() ||
			alg == "ES384" && pub.Curve == elliptic.P384() ||
			alg == "ES512" && pub.Curve == elliptic.P521()
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// match returns the keys of set that have kid and are suitable for alg.
// An empty kid matches every suitable key.
func match(set []jose.JSONWebKey, kid, alg string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range set {
		if (kid == "" || k.KeyID == kid) && suitable(k, alg) {
			out = append(out, k)
		}
	}
	return out
}

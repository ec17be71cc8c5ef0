package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// minRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3).
const minRSABits = 2048

// FromRequest returns the value of r's one DPoP header (RFC 9449 §4.3 step
// 1). Header names are case-insensitive, so "DPOP" is the same header. It
// returns ErrNoProof if there is none and an error wrapping ErrInvalidProof
// if there is more than one.
func FromRequest(r *http.Request) (string, error) {
	vals := r.Header.Values("DPoP")
	switch len(vals) {
	case 0:
		return "", ErrNoProof
	case 1:
		return vals[0], nil
	}
	return "", invalid(ReasonMalformed, "more than one DPoP header")
}

// privateMembers are the JWK members that hold private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// claims are the proof's claims (RFC 9449 §4.2). Other claims are ignored.
type claims struct {
	JTI, HTM, HTU string
	IAT           float64
	ATH, Nonce    *string // nil when absent
}

// object is a JSON object whose members are matched by exact name, unlike
// encoding/json's case-insensitive struct fields: "TYP" is not "typ".
type object map[string]json.RawMessage

// get decodes member name into dst and reports whether it was present. A
// member of the wrong type is an error.
func (o object) get(name string, dst any) (bool, error) {
	raw, ok := o[name]
	if !ok || string(raw) == "null" {
		return false, nil
	}
	return true, json.Unmarshal(raw, dst)
}

// parse runs the checks of RFC 9449 §4.3 steps 2-7 and the presence of the
// required claims (step 3), returning the claims and the proof's public key.
// go-jose parses the JWS only with v's algorithms and, on its own, refuses
// an embedded jwk that is not a valid public key.
func (v *Verifier) parse(h string) (claims, crypto.PublicKey, error) {
	if h == "" {
		return claims{}, nil, ErrNoProof
	}
	if len(h) > MaxHeaderBytes {
		return claims{}, nil, invalid(ReasonMalformed, "DPoP header is too large")
	}
	// Step 2: one well-formed JWT in compact serialization; a JWE has five
	// parts.
	parts := strings.Split(h, ".")
	if len(parts) != 3 {
		return claims{}, nil, invalid(ReasonMalformed, "not a compact JWS")
	}
	alg, err := v.checkHeader(parts[0])
	if err != nil {
		return claims{}, nil, err
	}
	jws, err := jose.ParseSignedCompact(h, v.algs)
	if err != nil {
		return claims{}, nil, invalid(ReasonMalformed, "malformed JWS")
	}
	if len(jws.Signatures) != 1 {
		return claims{}, nil, invalid(ReasonMalformed, "malformed JWS")
	}
	jwk := jws.Signatures[0].Header.JSONWebKey
	if jwk == nil || !jwk.Valid() || !jwk.IsPublic() {
		return claims{}, nil, invalid(ReasonMalformed, "jwk is not a public key")
	}
	if err := keyFits(jwk.Key, alg); err != nil {
		return claims{}, nil, err
	}
	// Step 6: the signature, with the jwk.
	payload, err := jws.Verify(jwk.Key)
	if err != nil {
		return claims{}, nil, invalid(ReasonBadSignature, "signature does not verify with jwk")
	}
	// Step 3: the required claims.
	c, err := decodeClaims(payload)
	if err != nil {
		return claims{}, nil, err
	}
	return c, jwk.Key, nil
}

// checkHeader checks the proof's JOSE header, before go-jose parses it, so
// that each failure names its check: typ (RFC 9449 §4.3 step 4), alg (step
// 5) and a jwk without private members (step 7). It returns the alg.
func (v *Verifier) checkHeader(encoded string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return "", invalid(ReasonMalformed, "JOSE header is not base64url")
	}
	var hdr object
	if err := json.Unmarshal(raw, &hdr); err != nil || hdr == nil {
		return "", invalid(ReasonMalformed, "JOSE header is not a JSON object")
	}
	var typ, alg string
	ok, err := hdr.get("typ", &typ)
	if !ok {
		return "", invalid(ReasonMalformed, "typ is missing")
	}
	if t := strings.ToLower(typ); err != nil || t != "dpop+jwt" && t != "application/dpop+jwt" {
		return "", invalid(ReasonMalformed, "typ is not dpop+jwt")
	}
	if _, err := hdr.get("alg", &alg); err != nil || !v.allowed(alg) {
		return "", invalid(ReasonMalformed, "alg is not an allowed asymmetric algorithm")
	}
	var jwk object
	if ok, err := hdr.get("jwk", &jwk); !ok || err != nil || jwk == nil {
		return "", invalid(ReasonMalformed, "jwk is missing")
	}
	for _, m := range privateMembers {
		if _, ok := jwk[m]; ok {
			return "", invalid(ReasonMalformed, "jwk holds private key material")
		}
	}
	return alg, nil
}

// decodeClaims decodes a proof's payload and checks that the claims RFC 9449
// §4.2 requires are present, of the right types, and of bounded size.
func decodeClaims(payload []byte) (claims, error) {
	var (
		o object
		c claims
	)
	if err := json.Unmarshal(payload, &o); err != nil || o == nil {
		return claims{}, invalid(ReasonMalformed, "claims are not a JSON object")
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"jti", &c.JTI}, {"htm", &c.HTM}, {"htu", &c.HTU}} {
		ok, err := o.get(f.name, f.dst)
		if err != nil {
			return claims{}, invalid(ReasonMalformed, f.name+" is not a string")
		}
		if !ok || *f.dst == "" {
			return claims{}, invalid(ReasonMalformed, f.name+" is missing")
		}
	}
	if len(c.JTI) > MaxJTIBytes {
		return claims{}, invalid(ReasonMalformed, "jti is too long")
	}
	ok, err := o.get("iat", &c.IAT)
	switch {
	case err != nil:
		return claims{}, invalid(ReasonMalformed, "iat is not a NumericDate")
	case !ok:
		return claims{}, invalid(ReasonMalformed, "iat is missing")
	}
	for _, f := range []struct {
		name string
		dst  **string
	}{{"ath", &c.ATH}, {"nonce", &c.Nonce}} {
		var s string
		ok, err := o.get(f.name, &s)
		if err != nil {
			return claims{}, invalid(ReasonMalformed, f.name+" is not a string")
		}
		if ok {
			*f.dst = &s
		}
	}
	return c, nil
}

// allowed reports whether alg is one of v's algorithms.
func (v *Verifier) allowed(alg string) bool {
	for _, a := range v.algs {
		if string(a) == alg {
			return true
		}
	}
	return false
}

// keyFits checks that key is of the type and strength alg needs: the curve
// named by ES* (RFC 7518 §3.4), RSA of at least 2048 bits (§3.3), Ed25519
// for EdDSA (RFC 8037 §3.1).
func keyFits(key crypto.PublicKey, alg string) error {
	var ok bool
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		want := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		ok = want != nil && k.Curve == want
	case *rsa.PublicKey:
		ok = strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
		if ok && k.N.BitLen() < minRSABits {
			return invalid(ReasonMalformed, "jwk is an RSA key shorter than 2048 bits")
		}
	case ed25519.PublicKey:
		ok = alg == "EdDSA"
	}
	if !ok {
		return invalid(ReasonMalformed, "jwk does not fit alg")
	}
	return nil
}

// issuedAt converts iat, a NumericDate (RFC 7519 §2), to a time.
func (c claims) issuedAt() (time.Time, error) {
	f := c.IAT
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1<<40 {
		return time.Time{}, invalid(ReasonMalformed, "iat is not a NumericDate")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// Thumbprint returns the base64url RFC 7638 SHA-256 thumbprint of a public
// key (*ecdsa.PublicKey, *rsa.PublicKey or ed25519.PublicKey): the jkt of
// RFC 9449 §6 and the dpop_jkt of §10. A private key gives its public
// key's thumbprint.
func Thumbprint(key crypto.PublicKey) (string, error) {
	if s, ok := key.(crypto.Signer); ok {
		key = s.Public()
	}
	return thumbprint(key)
}

func thumbprint(key crypto.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: key}
	if !jwk.Valid() || !jwk.IsPublic() {
		return "", fmt.Errorf("dpop: thumbprint: unsupported key type %T", key)
	}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("dpop: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

package dpop_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/smartlaunch/smartlaunch/internal/dpop"
)

// tokenRequest is what the token endpoint asks of a proof.
func tokenRequest(h string) dpop.Request {
	return dpop.Request{Header: h, Method: "POST", URL: tokenURL}
}

// TestVerifyChecks walks the checks of RFC 9449 §4.3 with one bad proof per
// rule (A-48 structure, A-49 crypto, A-51 freshness, A-52 binding, A-53
// nonce), and the variations that must pass.
func TestVerifyChecks(t *testing.T) {
	t.Parallel()
	c := newClock(t0)
	v := newVerifier(t, c)
	const token = "access-token-1"
	tests := []struct {
		name  string
		key   testKey
		edit  func(p *proof)        // changes the proof
		req   func(r *dpop.Request) // changes the request
		raw   string                // when set, the header value instead of a proof
		want  error
		check string // a word the error must contain
	}{
		// Passing proofs, one per key type.
		{name: "ES256", key: keyES256},
		{name: "ES384", key: keyES384},
		{name: "RS256", key: keyRS256},
		{name: "PS256", key: keyPS256},
		{name: "EdDSA", key: keyEdDSA},
		{name: "typ with application/ prefix", edit: func(p *proof) { p.header["typ"] = "application/dpop+jwt" }},
		{name: "extra header and claims ignored", edit: func(p *proof) {
			p.header["kid"] = "k1"
			p.claims["extra"] = map[string]any{"x": 1}
		}},

		// Step 1-2: one well-formed JWT.
		{name: "no header", raw: "", want: dpop.ErrNoProof},
		{name: "not a JWS", raw: "abc", want: dpop.ErrInvalidProof, check: "compact"},
		{name: "JWE", raw: "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", want: dpop.ErrInvalidProof, check: "compact"},
		{name: "header not base64url", raw: "!!!.e30.AA", want: dpop.ErrInvalidProof, check: "base64url"},
		{name: "header not an object", raw: b64([]byte(`[1]`)) + ".e30.AA", want: dpop.ErrInvalidProof, check: "JSON object"},
		{name: "too large", edit: func(p *proof) { p.claims["pad"] = strings.Repeat("x", dpop.MaxHeaderBytes) },
			want: dpop.ErrInvalidProof, check: "too large"},
		{name: "100 KB jti", edit: func(p *proof) { p.claims["jti"] = strings.Repeat("j", 100<<10) },
			want: dpop.ErrInvalidProof, check: "too large"},

		// Step 4: typ.
		{name: "typ missing", edit: func(p *proof) { delete(p.header, "typ") }, want: dpop.ErrInvalidProof, check: "typ"},
		{name: "typ JWT", edit: func(p *proof) { p.header["typ"] = "JWT" }, want: dpop.ErrInvalidProof, check: "typ"},
		{name: "typ under another case", edit: func(p *proof) {
			delete(p.header, "typ")
			p.header["TYP"] = "dpop+jwt"
		}, want: dpop.ErrInvalidProof, check: "typ"},
		{name: "typ not a string", edit: func(p *proof) { p.header["typ"] = 1 }, want: dpop.ErrInvalidProof, check: "typ"},

		// Step 5: alg.
		{name: "alg none", edit: func(p *proof) {
			p.header["alg"] = "none"
			p.sign = func(string) []byte { return nil }
		}, want: dpop.ErrInvalidProof, check: "alg"},
		{name: "alg HS256", edit: func(p *proof) {
			p.header["alg"] = "HS256"
			p.sign = func(in string) []byte {
				m := hmac.New(sha256.New, []byte("secret"))
				m.Write([]byte(in))
				return m.Sum(nil)
			}
		}, want: dpop.ErrInvalidProof, check: "alg"},
		{name: "alg missing", edit: func(p *proof) { delete(p.header, "alg") }, want: dpop.ErrInvalidProof, check: "alg"},
		{name: "alg for another curve", key: keyES256, edit: func(p *proof) { p.header["alg"] = "ES384" },
			want: dpop.ErrInvalidProof, check: "fit alg"},
		{name: "EC key with RS256", edit: func(p *proof) { p.header["alg"] = "RS256" },
			want: dpop.ErrInvalidProof, check: "fit alg"},
		{name: "RSA 1024", key: keyRS1k, want: dpop.ErrInvalidProof, check: "2048"},

		// Steps 6-7: jwk and signature.
		{name: "jwk missing", edit: func(p *proof) { delete(p.header, "jwk") }, want: dpop.ErrInvalidProof, check: "jwk is missing"},
		{name: "jwk not an object", edit: func(p *proof) { p.header["jwk"] = "key" }, want: dpop.ErrInvalidProof, check: "jwk is missing"},
		{name: "jwk with private d", edit: func(p *proof) {
			p.header["jwk"].(map[string]any)["d"] = "AAAA"
		}, want: dpop.ErrInvalidProof, check: "private"},
		{name: "RSA jwk with private members", key: keyRS256, edit: func(p *proof) {
			p.header["jwk"].(map[string]any)["p"] = "AAAA"
		}, want: dpop.ErrInvalidProof, check: "private"},
		{name: "symmetric jwk", edit: func(p *proof) {
			p.header["jwk"] = map[string]any{"kty": "oct", "k": "c2VjcmV0"}
		}, want: dpop.ErrInvalidProof, check: "private"},
		{name: "jwk of another key", edit: func(p *proof) { p.header["jwk"] = jwkOf(keyOther.signer) },
			want: dpop.ErrInvalidProof, check: "signature"},
		{name: "garbage jwk", edit: func(p *proof) { p.header["jwk"] = map[string]any{"kty": "EC", "crv": "P-256"} },
			want: dpop.ErrInvalidProof, check: "JWS"},
		{name: "corrupted signature", edit: func(p *proof) {
			k := p.key
			p.sign = func(in string) []byte {
				s := signWith(k, in)
				s[3] ^= 0xff
				return s
			}
		}, want: dpop.ErrInvalidProof, check: "signature"},

		// Step 3: required claims, with their types.
		{name: "jti missing", edit: func(p *proof) { delete(p.claims, "jti") }, want: dpop.ErrInvalidProof, check: "jti is missing"},
		{name: "jti empty", edit: func(p *proof) { p.claims["jti"] = "" }, want: dpop.ErrInvalidProof, check: "jti is missing"},
		{name: "jti a number", edit: func(p *proof) { p.claims["jti"] = 7 }, want: dpop.ErrInvalidProof, check: "jti is not"},
		{name: "jti too long", edit: func(p *proof) { p.claims["jti"] = strings.Repeat("j", dpop.MaxJTIBytes+1) },
			want: dpop.ErrInvalidProof, check: "jti is too long"},
		{name: "htm missing", edit: func(p *proof) { delete(p.claims, "htm") }, want: dpop.ErrInvalidProof, check: "htm is missing"},
		{name: "htu missing", edit: func(p *proof) { delete(p.claims, "htu") }, want: dpop.ErrInvalidProof, check: "htu is missing"},
		{name: "iat missing", edit: func(p *proof) { delete(p.claims, "iat") }, want: dpop.ErrInvalidProof, check: "iat is missing"},
		{name: "iat a string", edit: func(p *proof) { p.claims["iat"] = "1741964966" }, want: dpop.ErrInvalidProof, check: "NumericDate"},
		{name: "iat negative", edit: func(p *proof) { p.claims["iat"] = -1 }, want: dpop.ErrInvalidProof, check: "NumericDate"},
		{name: "claims not an object", edit: func(p *proof) { p.claims = nil }, want: dpop.ErrInvalidProof, check: "JSON object"},

		// Step 8: htm.
		{name: "htm GET", edit: func(p *proof) { p.claims["htm"] = "GET" }, want: dpop.ErrInvalidProof, check: "htm"},
		{name: "htm lower case", edit: func(p *proof) { p.claims["htm"] = "post" }, want: dpop.ErrInvalidProof, check: "htm"},

		// Step 9: htu.
		{name: "htu other path", edit: func(p *proof) { p.claims["htu"] = "https://server.example/introspect" },
			want: dpop.ErrInvalidProof, check: "htu"},
		{name: "htu other host", edit: func(p *proof) { p.claims["htu"] = "https://evil.example/token" },
			want: dpop.ErrInvalidProof, check: "htu"},
		{name: "htu http", edit: func(p *proof) { p.claims["htu"] = "http://server.example/token" },
			want: dpop.ErrInvalidProof, check: "htu"},
		{name: "htu relative", edit: func(p *proof) { p.claims["htu"] = "/token" }, want: dpop.ErrInvalidProof, check: "htu"},
		{name: "htu upper case and default port", edit: func(p *proof) { p.claims["htu"] = "HTTPS://Server.Example:443/token" }},
		{name: "htu with query and fragment", edit: func(p *proof) { p.claims["htu"] = tokenURL + "?a=b#frag" }},
		{name: "request URL with query", req: func(r *dpop.Request) { r.URL = tokenURL + "?x=1" }},

		// Step 11: iat window.
		{name: "iat 10 s before", edit: func(p *proof) { p.claims["iat"] = t0.Add(-10 * time.Second).Unix() }},
		{name: "iat 10 s after", edit: func(p *proof) { p.claims["iat"] = t0.Add(10 * time.Second).Unix() }},
		{name: "iat at the window's edge", edit: func(p *proof) { p.claims["iat"] = t0.Add(-dpop.DefaultIATWindow).Unix() }},
		{name: "iat fractional", edit: func(p *proof) { p.claims["iat"] = float64(t0.Unix()) + 0.25 }},
		{name: "iat one hour before", edit: func(p *proof) { p.claims["iat"] = t0.Add(-time.Hour).Unix() },
			want: dpop.ErrInvalidProof, check: "too old"},
		{name: "iat just past the window", edit: func(p *proof) { p.claims["iat"] = t0.Add(-dpop.DefaultIATWindow - time.Second).Unix() },
			want: dpop.ErrInvalidProof, check: "too old"},
		{name: "iat one hour after", edit: func(p *proof) { p.claims["iat"] = t0.Add(time.Hour).Unix() },
			want: dpop.ErrInvalidProof, check: "future"},
		{name: "iat just past the skew", edit: func(p *proof) { p.claims["iat"] = t0.Add(dpop.DefaultIATSkew + time.Second).Unix() },
			want: dpop.ErrInvalidProof, check: "future"},

		// Step 12: ath.
		{name: "ath matches", edit: func(p *proof) { p.claims["ath"] = ath(token) },
			req: func(r *dpop.Request) { r.AccessToken = token }},
		{name: "ath missing", req: func(r *dpop.Request) { r.AccessToken = token }, want: dpop.ErrInvalidProof, check: "ath is missing"},
		{name: "ath of another token", edit: func(p *proof) { p.claims["ath"] = ath("other") },
			req: func(r *dpop.Request) { r.AccessToken = token }, want: dpop.ErrInvalidProof, check: "ath does not match"},
		{name: "ath not a string", edit: func(p *proof) { p.claims["ath"] = 1 },
			req: func(r *dpop.Request) { r.AccessToken = token }, want: dpop.ErrInvalidProof, check: "ath is not"},
		{name: "ath without a token ignored", edit: func(p *proof) { p.claims["ath"] = ath("other") }},

		// Step 12, §5, §10: the bound key.
		{name: "bound key matches", key: keyES256, req: func(r *dpop.Request) { r.JKT = thumb(t, keyES256.signer) }},
		{name: "bound to another key", key: keyES256, req: func(r *dpop.Request) { r.JKT = thumb(t, keyOther.signer) },
			want: dpop.ErrInvalidProof, check: "bound key"},

		// Step 10: nonce.
		{name: "nonce missing", req: func(r *dpop.Request) { r.RequireNonce = true }, want: dpop.ErrUseNonce, check: "missing"},
		{name: "nonce forged", edit: func(p *proof) { p.claims["nonce"] = b64(make([]byte, 24)) },
			req: func(r *dpop.Request) { r.RequireNonce = true }, want: dpop.ErrUseNonce, check: "not issued"},
		{name: "nonce garbage", edit: func(p *proof) { p.claims["nonce"] = "abc" },
			req: func(r *dpop.Request) { r.RequireNonce = true }, want: dpop.ErrUseNonce, check: "malformed"},
		{name: "nonce valid", edit: func(p *proof) { p.claims["nonce"] = v.Nonce() },
			req: func(r *dpop.Request) { r.RequireNonce = true }},
		{name: "nonce ignored when not required", edit: func(p *proof) { p.claims["nonce"] = "abc" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := tt.key
			if k.signer == nil {
				k = keyES256
			}
			h := tt.raw
			if h == "" && tt.want != dpop.ErrNoProof {
				p := newProof(k)
				if tt.edit != nil {
					tt.edit(p)
				}
				h = p.compact()
			}
			req := tokenRequest(h)
			if tt.req != nil {
				tt.req(&req)
			}
			got, err := v.Verify(t.Context(), req)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: got error %v, want nil", err)
				}
				if want := thumb(t, k.signer); got.JKT != want {
					t.Errorf("Proof.JKT = %q, want %q", got.JKT, want)
				}
				if got.JTI == "" || got.IssuedAt.IsZero() {
					t.Errorf("Proof = %+v, want JTI and IssuedAt set", got)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify: got error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.check) {
				t.Errorf("Verify: error %q does not name the check %q", err, tt.check)
			}
			if r := dpop.FailureReason(err); !slices.Contains(dpop.Reasons(), r) {
				t.Errorf("FailureReason(%v) = %q, not one of Reasons()", err, r)
			}
			if tt.want == dpop.ErrUseNonce && errors.Is(err, dpop.ErrInvalidProof) {
				t.Errorf("Verify: error %v is both use_dpop_nonce and invalid_dpop_proof", err)
			}
		})
	}
}

// TestVerifyGoJoseProof checks a proof built by a JOSE library rather than
// by hand, the way clients build them.
func TestVerifyGoJoseProof(t *testing.T) {
	t.Parallel()
	c := newClock(t0)
	v := newVerifier(t, c)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: keyES256.signer},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign([]byte(`{"jti":"lib-1","htm":"GET","htu":"` + fhirURL + `","iat":` +
		t0Unix() + `,"ath":"` + ath("tok") + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	h, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(t.Context(), dpop.Request{Header: h, Method: "GET", URL: fhirURL, AccessToken: "tok"})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := dpop.Proof{JKT: thumb(t, keyES256.signer), JTI: "lib-1", IssuedAt: t0}
	if got != want {
		t.Errorf("Verify = %+v, want %+v", got, want)
	}
}

func t0Unix() string { return strconv.FormatInt(t0.Unix(), 10) }

// TestAlgorithmsRestricted shows local policy refusing an algorithm the
// package supports (A-49 "RS256 if not allowed").
func TestAlgorithmsRestricted(t *testing.T) {
	t.Parallel()
	c := newClock(t0)
	v, err := dpop.New(dpop.Config{Replay: openDB(t, t.TempDir()+"/r.db"), NonceKey: nonceKey, Now: c.now,
		Algorithms: []string{"ES256"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), tokenRequest(newProof(keyRS256).compact())); !errors.Is(err, dpop.ErrInvalidProof) {
		t.Errorf("RS256 proof: got error %v, want ErrInvalidProof", err)
	}
	if _, err := v.Verify(t.Context(), tokenRequest(newProof(keyES256).compact())); err != nil {
		t.Errorf("ES256 proof: got error %v, want nil", err)
	}
}

package dpop_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/dpop"
)

// TestFailureReason: each refused proof names the check it failed as one
// of the fixed Reasons, the word a metric counts it under; anything that
// is not a refused proof has no reason.
func TestFailureReason(t *testing.T) {
	t.Parallel()
	c := newClock(t0)
	v := newVerifier(t, c)
	const token = "access-token-1"
	used := newProof(keyES256).compact()
	if _, err := v.Verify(t.Context(), tokenRequest(used)); err != nil {
		t.Fatalf("first use: %v", err)
	}
	tests := []struct {
		name string
		edit func(p *proof)
		req  func(r *dpop.Request)
		raw  string // when set, the header value instead of a proof
		want dpop.Reason
	}{
		{name: "no header", req: func(r *dpop.Request) { r.Header = "" }, want: dpop.ReasonMissing},
		{name: "not a JWS", raw: "abc", want: dpop.ReasonMalformed},
		{name: "typ JWT", edit: func(p *proof) { p.header["typ"] = "JWT" }, want: dpop.ReasonMalformed},
		{name: "alg none", edit: func(p *proof) { p.header["alg"] = "none" }, want: dpop.ReasonMalformed},
		{name: "jti missing", edit: func(p *proof) { delete(p.claims, "jti") }, want: dpop.ReasonMalformed},
		{name: "jwk of another key", edit: func(p *proof) { p.header["jwk"] = jwkOf(keyOther.signer) }, want: dpop.ReasonBadSignature},
		{name: "htm", edit: func(p *proof) { p.claims["htm"] = "GET" }, want: dpop.ReasonHTM},
		{name: "htu", edit: func(p *proof) { p.claims["htu"] = "https://evil.example/token" }, want: dpop.ReasonHTU},
		{name: "iat too old", edit: func(p *proof) { p.claims["iat"] = t0.Add(-time.Hour).Unix() }, want: dpop.ReasonIAT},
		{name: "iat in the future", edit: func(p *proof) { p.claims["iat"] = t0.Add(time.Hour).Unix() }, want: dpop.ReasonIAT},
		{name: "ath missing", req: func(r *dpop.Request) { r.AccessToken = token }, want: dpop.ReasonATH},
		{name: "ath of another token", edit: func(p *proof) { p.claims["ath"] = ath("other") },
			req: func(r *dpop.Request) { r.AccessToken = token }, want: dpop.ReasonATH},
		{name: "nonce missing", req: func(r *dpop.Request) { r.RequireNonce = true }, want: dpop.ReasonNonceMissing},
		{name: "nonce forged", edit: func(p *proof) { p.claims["nonce"] = b64(make([]byte, 24)) },
			req: func(r *dpop.Request) { r.RequireNonce = true }, want: dpop.ReasonNonceInvalid},
		{name: "bound to another key", req: func(r *dpop.Request) { r.JKT = thumb(t, keyOther.signer) }, want: dpop.ReasonKeyMismatch},
		{name: "replayed jti", raw: used, want: dpop.ReasonReplay},
		{name: "accepted", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.raw
			if h == "" {
				p := newProof(keyES256)
				if tt.edit != nil {
					tt.edit(p)
				}
				h = p.compact()
			}
			req := tokenRequest(h)
			if tt.req != nil {
				tt.req(&req)
			}
			_, err := v.Verify(t.Context(), req)
			if got := dpop.FailureReason(err); got != tt.want {
				t.Errorf("FailureReason(%v) = %q, want %q", err, got, tt.want)
			}
			if tt.want != "" && !slices.Contains(dpop.Reasons(), tt.want) {
				t.Errorf("Reasons() lacks %q", tt.want)
			}
		})
	}
}

// TestFailureReasonOthers: FromRequest's refusals have reasons; a server
// failure and a foreign error have none; Reasons are distinct label-safe
// words.
func TestFailureReasonOthers(t *testing.T) {
	t.Parallel()
	if got := dpop.FailureReason(dpop.ErrNoProof); got != dpop.ReasonMissing {
		t.Errorf("FailureReason(ErrNoProof) = %q, want %q", got, dpop.ReasonMissing)
	}
	_, err := verifierOn(t, brokenCache{}, newClock(t0)).Verify(t.Context(), tokenRequest(newProof(keyES256).compact()))
	if got := dpop.FailureReason(err); err == nil || got != "" {
		t.Errorf("broken replay cache: FailureReason(%v) = %q, want an error without a reason", err, got)
	}
	if got := dpop.FailureReason(errors.New("other")); got != "" {
		t.Errorf("FailureReason(foreign error) = %q, want none", got)
	}
	seen := map[dpop.Reason]bool{}
	for _, r := range dpop.Reasons() {
		if seen[r] || r == "" || strings.Trim(string(r), "abcdefghijklmnopqrstuvwxyz_") != "" {
			t.Errorf("Reasons() has %q: want distinct, non-empty, [a-z_]", r)
		}
		seen[r] = true
	}
}

package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

func TestCheckClient(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	pub, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Public(), KeyID: "a"}}})
	priv, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k, KeyID: "a"}}})
	good := store.Client{ID: "c", Type: store.ClientPublic, RedirectURIs: []string{"https://app.example/cb"}, Scope: "patient/*.rs"}
	tests := []struct {
		name   string
		mutate func(*store.Client)
		want   string // "" = valid
	}{
		{"valid public", func(*store.Client) {}, ""},
		{"valid asymmetric inline", func(c *store.Client) { c.Type, c.JWKS = store.ClientConfidentialAsymmetric, string(pub) }, ""},
		{"valid asymmetric uri", func(c *store.Client) {
			c.Type, c.JWKSURI = store.ClientConfidentialAsymmetric, "https://app.example/jwks.json"
		}, ""},
		{"private key in JWKS", func(c *store.Client) { c.Type, c.JWKS = store.ClientConfidentialAsymmetric, string(priv) }, "public key"},
		{"both JWKS and uri", func(c *store.Client) {
			c.Type, c.JWKS, c.JWKSURI = store.ClientConfidentialAsymmetric, string(pub), "https://app.example/jwks.json"
		}, "not both"},
		{"no keys", func(c *store.Client) { c.Type = store.ClientConfidentialAsymmetric }, "needs a JWKS"},
		{"http jwks_uri", func(c *store.Client) {
			c.Type, c.JWKSURI = store.ClientConfidentialAsymmetric, "http://app.example/jwks.json"
		}, "https"},
		{"keys on a public client", func(c *store.Client) { c.JWKS = string(pub) }, "only confidential-asymmetric"},
		{"bad redirect", func(c *store.Client) { c.RedirectURIs = []string{"javascript:alert(1)"} }, "redirect URI"},
		{"bad scope", func(c *store.Client) { c.Scope = "patient/X.rr" }, "patient/X.rr"},
		{"bad type", func(c *store.Client) { c.Type = "weird" }, "unknown client type"},
		{"http privacy policy", func(c *store.Client) { c.Info.PolicyURI = "http://app.example/privacy" }, "privacy policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.mutate(&c)
			err := CheckClient(c)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("CheckClient = %v, want %q", err, tt.want)
			}
		})
	}
}

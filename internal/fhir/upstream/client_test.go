package upstream

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"
)

func TestNew(t *testing.T) {
	cc := &clientcredentials.Config{ClientID: "proxy", ClientSecret: "s", TokenURL: "https://auth.example/token"}
	tests := []struct {
		name     string
		cfg      Config
		wantBase string   // when no error is wanted
		wantErrs []string // substrings, each of which must appear
	}{
		{name: "minimal", cfg: Config{Base: "http://10.0.0.5:8080/fhir"}, wantBase: "http://10.0.0.5:8080/fhir"},
		{name: "trailing slashes removed", cfg: Config{Base: "https://fhir.example/r4//"}, wantBase: "https://fhir.example/r4"},
		{name: "host only", cfg: Config{Base: "https://fhir.example"}, wantBase: "https://fhir.example"},
		{name: "bearer", cfg: Config{Base: "https://fhir.example", Bearer: "abc.def"}, wantBase: "https://fhir.example"},
		{name: "client credentials", cfg: Config{Base: "https://fhir.example", ClientCredentials: cc}, wantBase: "https://fhir.example"},
		{name: "empty base", cfg: Config{}, wantErrs: []string{"Base is empty"}},
		{name: "relative base", cfg: Config{Base: "fhir/r4"}, wantErrs: []string{"not an http or https URL", "no host"}},
		{name: "ftp base", cfg: Config{Base: "ftp://fhir.example/r4"}, wantErrs: []string{"not an http or https URL"}},
		{name: "base with query", cfg: Config{Base: "https://fhir.example/r4?x=1"}, wantErrs: []string{"has a query"}},
		{name: "base with fragment", cfg: Config{Base: "https://fhir.example/r4#top"}, wantErrs: []string{"has a fragment"}},
		{name: "base with user", cfg: Config{Base: "https://u:p@fhir.example/r4"}, wantErrs: []string{"user information"}},
		{name: "bearer and client credentials", cfg: Config{Base: "https://fhir.example", Bearer: "x", ClientCredentials: cc},
			wantErrs: []string{"mutually exclusive"}},
		{name: "bearer with newline", cfg: Config{Base: "https://fhir.example", Bearer: "x\r\nCookie: y"},
			wantErrs: []string{"not allowed in a header"}},
		{name: "client credentials incomplete", cfg: Config{Base: "https://fhir.example", ClientCredentials: &clientcredentials.Config{TokenURL: "/token"}},
			wantErrs: []string{"ClientID is empty", "TokenURL \"/token\""}},
		{name: "negative limits", cfg: Config{Base: "https://fhir.example", Timeout: -time.Second, MaxBodyBytes: -1},
			wantErrs: []string{"Timeout -1s is negative", "MaxBodyBytes -1 is negative"}},
		{name: "every problem at once", cfg: Config{Base: "ftp://x?y", Bearer: "b", ClientCredentials: cc, Timeout: -1},
			wantErrs: []string{"not an http or https URL", "has a query", "mutually exclusive", "Timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if tt.wantErrs == nil {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if got := c.Base(); got != tt.wantBase {
					t.Errorf("Base() = %q, want %q", got, tt.wantBase)
				}
				return
			}
			if err == nil {
				t.Fatalf("New succeeded, want errors %q", tt.wantErrs)
			}
			for _, want := range tt.wantErrs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("New error = %q, want it to mention %q", err, want)
				}
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	c, err := New(Config{Base: "https://fhir.example"})
	if err != nil {
		t.Fatal(err)
	}
	if c.timeout != DefaultTimeout {
		t.Errorf("timeout = %v, want %v", c.timeout, DefaultTimeout)
	}
	if c.maxBody != DefaultMaxBodyBytes {
		t.Errorf("maxBody = %d, want %d", c.maxBody, DefaultMaxBodyBytes)
	}
	if c.tokens != nil {
		t.Errorf("tokens set without client credentials")
	}
	tr, ok := c.http.Transport.(*http.Transport)
	if !ok || tr == http.DefaultTransport || tr.MaxIdleConnsPerHost != 64 {
		t.Errorf("default transport = %T (shared %v), want a clone of http.DefaultTransport keeping 64 idle connections per host",
			c.http.Transport, c.http.Transport == http.DefaultTransport)
	}
}

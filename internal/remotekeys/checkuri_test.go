package remotekeys

import (
	"errors"
	"strings"
	"testing"
)

// A-36 and SMART App Launch 2.1 client-confidential-asymmetric: a jwks_uri
// is a TLS URL; http only to loopback literals in development mode.
func TestCheckURI(t *testing.T) {
	tests := []struct {
		uri           string
		ok, okDevMode bool // with AllowLoopback off, on
	}{
		{"https://app.example/jwks", true, true},
		{"https://app.example:8443/.well-known/jwks.json?v=2", true, true},
		{"HTTPS://App.Example/jwks", true, true},
		{"https://app.example./jwks", true, true},
		{"https://8.8.8.8/jwks", true, true},
		{"https://[2001:4860:4860::8888]/jwks", true, true},
		{"https://xn--bcher-kva.example/jwks", true, true},
		{"http://app.example/jwks", false, false},
		{"https://user:pw@app.example/jwks", false, false},
		{"https://user@app.example/jwks", false, false},
		{"https://app.example/jwks#frag", false, false},
		{"https://app.example/jwks#", false, false},
		{"file:///etc/passwd", false, false},
		{"ftp://app.example/jwks", false, false},
		{"https:app.example/jwks", false, false},
		{"//app.example/jwks", false, false},
		{"/jwks", false, false},
		{"", false, false},
		{"https:///jwks", false, false},
		{"https://app.example:0/jwks", false, false},
		{"https://app.example:99999/jwks", false, false},
		{"https://app.example:/jwks", false, false},
		{"https://app_example/jwks", false, false},
		{"https://-app.example/jwks", false, false},
		{"https://bücher.example/jwks", false, false},
		{"https://app.example/" + strings.Repeat("a", maxURILength), false, false},
		{"https://169.254.169.254/latest/meta-data/", false, false},
		{"http://169.254.169.254/latest/meta-data/", false, false},
		{"https://10.0.0.5/jwks", false, false},
		{"https://[::ffff:10.0.0.5]/", false, false},
		{"https://[fd00:ec2::254]/", false, false},
		{"https://[fe80::1%25eth0]/", false, false},
		{"https://0.0.0.0/jwks", false, false},
		{"https://2130706433/", false, false},
		{"https://0x7f.1/", false, false},
		{"https://0177.0.0.1/", false, false},
		{"https://127.1/", false, false},
		{"https://127.0.0.1:2379/", false, true},
		{"https://[::1]/", false, true},
		{"https://localhost/jwks", false, true},
		{"https://keys.localhost/jwks", false, true},
		{"http://localhost/jwks", false, false},
		{"http://127.0.0.1:8080/jwks", false, true},
		{"http://[::1]:8080/jwks", false, true},
		{"http://[::ffff:127.0.0.1]:8080/jwks", false, true},
	}
	strict := New(Config{})
	dev := New(Config{AllowLoopback: true})
	for _, tt := range tests {
		for _, c := range []struct {
			f    *Fetcher
			mode string
			ok   bool
		}{{strict, "strict", tt.ok}, {dev, "AllowLoopback", tt.okDevMode}} {
			err := c.f.CheckURI(tt.uri)
			if got := err == nil; got != c.ok {
				t.Errorf("%s CheckURI(%.80q) = %v, want ok %v", c.mode, tt.uri, err, c.ok)
			}
			if err != nil && !errors.Is(err, errBadURI) {
				t.Errorf("%s CheckURI(%.80q) = %v, want errBadURI", c.mode, tt.uri, err)
			}
		}
	}
}

package remotekeys

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// FuzzCheckURI checks that CheckURI never panics and that whatever it
// accepts (in the strict, production policy) is an https URL with a host,
// no user information, no fragment and no forbidden IP literal.
func FuzzCheckURI(f *testing.F) {
	for _, s := range []string{
		"https://app.example/jwks", "http://app.example/jwks", "https://u:p@app.example/",
		"https://app.example/#x", "https://[::ffff:10.0.0.5]/", "https://2130706433/",
		"https://169.254.169.254/latest/meta-data/", "file:///etc/passwd", "https://[fe80::1%25en0]/",
		"https://app.example:443/a?b=c", "https://localhost/", "https:%2f%2fapp.example",
	} {
		f.Add(s)
	}
	fetcher := New(Config{})
	f.Fuzz(func(t *testing.T, raw string) {
		if fetcher.CheckURI(raw) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("accepted %q, which does not parse: %v", raw, err)
		}
		if u.Scheme != "https" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") || u.Hostname() == "" {
			t.Fatalf("accepted %q: scheme %q user %v fragment %q host %q", raw, u.Scheme, u.User, u.Fragment, u.Hostname())
		}
		if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
			if err := (addressPolicy{}).check(ip); err != nil {
				t.Fatalf("accepted %q with forbidden address: %v", raw, err)
			}
		}
		if h := strings.ToLower(u.Hostname()); h == "localhost" || strings.HasSuffix(h, ".localhost") {
			t.Fatalf("accepted loopback name in %q", raw)
		}
	})
}

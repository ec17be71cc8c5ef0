package dpop

import "testing"

// TestNormalizeHTU: htu and the request URL are compared after RFC 3986
// §6.2.2-§6.2.3 normalization, without query and fragment (RFC 9449 §4.3
// step 9).
func TestNormalizeHTU(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"https://server.example/token", "https://server.example/token"},
		{"https://Server.Example:443/token", "https://server.example/token"},
		{"HTTPS://SERVER.EXAMPLE/token", "https://server.example/token"},
		{"http://server.example:80/token", "http://server.example/token"},
		{"https://server.example:8443/token", "https://server.example:8443/token"},
		{"http://server.example:443/token", "http://server.example:443/token"},
		{"https://server.example", "https://server.example/"},
		{"https://server.example/token?x=1#f", "https://server.example/token"},
		{"https://server.example/fhir/Patient/%7e1%2f2%2F", "https://server.example/fhir/Patient/~1%2F2%2F"},
		{"https://server.example/%61b", "https://server.example/ab"},
		{"https://[::1]:443/token", "https://[::1]/token"},
		{"https://[::1]:8443/token", "https://[::1]:8443/token"},
		{"https://server.example/Token", "https://server.example/Token"},
	}
	for _, tt := range tests {
		got, err := normalizeHTU(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("normalizeHTU(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{
		"", "/token", "server.example/token", "ftp://server.example/token",
		"https://user@server.example/token", "https:opaque", "https://:443/token", "https://%zz/",
	} {
		if got, err := normalizeHTU(bad); err == nil {
			t.Errorf("normalizeHTU(%q) = %q, want an error", bad, got)
		}
	}
}

package oauth

import "testing"

func TestCheckRedirectURI(t *testing.T) {
	tests := []struct {
		uri string
		ok  bool
	}{
		{"https://app.example/cb", true},
		{"https://app.example/cb?tenant=1", true},
		{"http://127.0.0.1/cb", true},
		{"http://127.0.0.1:8000/callback", true},
		{"http://[::1]:8000/cb", true},
		{"com.example.app:/oauth2redirect", true},
		// refused at registration.
		{"http://localhost:8000/cb", false},
		{"http://app.example/cb", false},
		{"https://*.app.example/cb", false},
		{"javascript:alert(1)//x", false},
		{"data:text/html,hi", false},
		{"https://app.example/cb#x", false},
		{"https://app.example/cb#", false},
		{"/cb", false},
		{"https://user:pw@app.example/cb", false},
		{"https:///cb", false},
	}
	for _, tt := range tests {
		if err := CheckRedirectURI(tt.uri); (err == nil) != tt.ok {
			t.Errorf("CheckRedirectURI(%q) = %v, want ok=%v", tt.uri, err, tt.ok)
		}
	}
}

// TestMatchRedirect covers exact matching and the loopback port rule of
// RFC 8252 §7.3.
func TestMatchRedirect(t *testing.T) {
	reg := []string{"http://127.0.0.1/cb", "https://app.example/cb", "http://[::1]:9000/cb"}
	tests := []struct {
		uri  string
		want bool
	}{
		{"https://app.example/cb", true},
		{"http://127.0.0.1/cb", true},
		{"http://127.0.0.1:51234/cb", true},
		{"http://[::1]:1234/cb", true},
		{"https://app.example/cb/", false},
		{"https://app.example/cb?x=1", false},
		{"https://APP.example/cb", false},
		{"https://app.example:443/cb", false},
		{"http://localhost:5000/cb", false},
		{"http://127.0.0.1.nip.io:5000/cb", false},
		{"http://127.0.0.1:51234/cb/x", false},
		{"http://127.0.0.1:51234/cb?x=1", false},
		{"http://127.0.0.1:51234/cb#f", false},
		{"http://u@127.0.0.1:51234/cb", false},
		{"http://127.0.0.2:51234/cb", false},
		{"https://127.0.0.1:51234/cb", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := matchRedirect(reg, tt.uri); got != tt.want {
			t.Errorf("matchRedirect(%q) = %v, want %v", tt.uri, got, tt.want)
		}
	}
}

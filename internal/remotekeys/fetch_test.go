package remotekeys

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// marker appears in every refused body; no error may repeat it.
const marker = "BODY-MARKER-7f3a"

// responses that must be refused, each without leaking the body.
func TestFetchRefusesBadResponses(t *testing.T) {
	good := setJSON(t, pub(t, "ec384", "k1"))
	target := newJWKSServer(t, good) // a redirect target that must never be reached
	big := `{"keys":[],"pad":"` + strings.Repeat("x", 64<<10) + marker + `"}`
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"body over MaxBytes", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(big))
		}},
		{"body over MaxBytes without Content-Length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			for i := 0; i < len(big); i += 1000 {
				w.Write([]byte(big[i:min(i+1000, len(big))]))
				w.(http.Flusher).Flush()
			}
		}},
		{"302 to a valid JWKS", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL, http.StatusFound)
		}},
		{"307", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
		}},
		{"404", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, marker, http.StatusNotFound)
		}},
		{"500 with JSON", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(good))
		}},
		{"text/html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(good))
		}},
		{"no content type", func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil
			w.Write([]byte(good))
		}},
		{"invalid JSON", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"keys":[` + marker))
		}},
		{"not a key set", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"kty":"EC","note":"` + marker + `"}`))
		}},
		{"key not an object", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"keys":["` + marker + `"]}`))
		}},
		{"EC private key", serveSet(privateSet(t, "ec384"))},
		{"RSA private key", serveSet(privateSet(t, "rsa2048"))},
		{"private member beside a public key", serveSet(strings.Replace(good, `"kty"`, `"d":"AAAA","kty"`, 1))},
		{"private member in upper case", serveSet(strings.Replace(good, `"kty"`, `"D":"AAAA","kty"`, 1))},
		{"symmetric key", serveSet(`{"keys":[{"kty":"oct","kid":"k1","k":"c2VjcmV0"}]}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			f := newTestFetcher(newClock(), nil)
			_, err := f.Key(t.Context(), srv.URL, "k1", "ES384")
			if err == nil || errors.Is(err, ErrNoKey) {
				t.Fatalf("err = %v, want a fetch or set error", err)
			}
			t.Log(err)
			if strings.Contains(err.Error(), marker) {
				t.Errorf("error repeats the response body: %v", err)
			}
		})
	}
	if got := target.hits.Load(); got != 0 {
		t.Errorf("redirect target hits = %d, want 0", got)
	}
}

func serveSet(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write([]byte(body))
	}
}

// privateSet is a JWK Set holding the named test key's private half.
func privateSet(t *testing.T, name string) string {
	t.Helper()
	k := pub(t, name, "k1")
	k.Key = testKeys()[name]
	return setJSON(t, k)
}

// a JWKS response that stalls, before or during the body, is
// abandoned at Timeout.
func TestFetchTimesOut(t *testing.T) {
	tests := []struct {
		name        string
		sendHeaders bool
	}{
		{"no response", false},
		{"body never ends", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stall := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.sendHeaders {
					w.Header().Set("Content-Type", "application/json")
					w.Write([]byte(`{"keys":[`))
					w.(http.Flusher).Flush()
				}
				select {
				case <-stall:
				case <-r.Context().Done():
				}
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(stall) })
			f := newTestFetcher(newClock(), func(c *Config) { c.Timeout = 100 * time.Millisecond })
			start := time.Now()
			_, err := f.Key(t.Context(), srv.URL, "k1", "ES384")
			if err == nil {
				t.Fatal("stalled server: got a key, want an error")
			}
			if !errors.Is(err, errFetch) {
				t.Errorf("err = %v, want errFetch", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v, want about the 100ms timeout", d)
			}
		})
	}
}

// A failed fetch is not retried within MinRefetch, and is retried after.
func TestFailedFetchBacksOff(t *testing.T) {
	srv := newJWKSServer(t, "not json")
	clk := newClock()
	f := newTestFetcher(clk, nil)
	for range 3 {
		if _, err := f.Key(t.Context(), srv.URL, "k1", "ES384"); err == nil {
			t.Fatal("bad set: got a key")
		}
	}
	if got := srv.hits.Load(); got != 1 {
		t.Fatalf("hits = %d, want 1", got)
	}
	srv.set(setJSON(t, pub(t, "ec384", "k1")), "")
	clk.Advance(time.Minute)
	if _, err := f.Key(t.Context(), srv.URL, "k1", "ES384"); err != nil {
		t.Fatalf("after MinRefetch: %v", err)
	}
}

// loopback is refused at dial time, after resolution, when
// AllowLoopback is off; CheckURI is bypassed here to reach the dialer.
func TestGuardRefusesLoopbackAtDial(t *testing.T) {
	srv := newJWKSServer(t, setJSON(t, pub(t, "ec384", "k1")))
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []Config{{}, {AllowPrivate: true}} {
		f := New(cfg)
		for _, uri := range []string{srv.URL, "http://localhost:" + port + "/"} {
			_, err := f.fetch(t.Context(), uri)
			if !errors.Is(err, errForbiddenAddress) {
				t.Errorf("AllowPrivate=%v fetch %s: err = %v, want errForbiddenAddress", cfg.AllowPrivate, uri, err)
			}
			if _, err := f.Key(t.Context(), uri, "k1", "ES384"); err == nil {
				t.Errorf("Key %s: got a key, want refusal", uri)
			}
		}
	}
	if got := srv.hits.Load(); got != 0 {
		t.Errorf("hits = %d, want 0", got)
	}
}

// The guarded transport speaks TLS to an allowed address.
func TestGuardedClientOverTLS(t *testing.T) {
	srv := httptest.NewTLSServer(serveSet(setJSON(t, pub(t, "ec384", "k1"))))
	t.Cleanup(srv.Close)
	f := newTestFetcher(newClock(), nil)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	f.client.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") {
		t.Fatalf("unexpected server URL %s", srv.URL)
	}
	if _, err := f.Key(t.Context(), srv.URL, "k1", "ES384"); err != nil {
		t.Fatal(err)
	}
}

// A caller-supplied client still follows no redirects.
func TestSuppliedClientFollowsNoRedirects(t *testing.T) {
	target := newJWKSServer(t, setJSON(t, pub(t, "ec384", "k1")))
	srv := httptest.NewTLSServer(http.RedirectHandler(target.URL, http.StatusFound))
	t.Cleanup(srv.Close)
	f := New(Config{Client: srv.Client(), AllowLoopback: true})
	_, err := f.Key(t.Context(), srv.URL, "k1", "ES384")
	if err == nil || !strings.Contains(err.Error(), "status "+strconv.Itoa(http.StatusFound)) {
		t.Errorf("err = %v, want a refused 302", err)
	}
	if got := target.hits.Load(); got != 0 {
		t.Errorf("redirect target hits = %d, want 0", got)
	}
	if srv.Client().CheckRedirect != nil {
		t.Error("New modified the caller's client")
	}
}

package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestServeProxy: with --fhir-upstream and a bearer token file, serve puts
// the FHIR API in front of the upstream: its CapabilityStatement comes
// back with smartlaunch's SMART security section and base, and the
// upstream sees the configured token and never a caller's.
func TestServeProxy(t *testing.T) {
	var (
		mu   sync.Mutex
		auth []string
	)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Path != "/r4/metadata" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		w.Write([]byte(`{"resourceType":"CapabilityStatement","status":"active","kind":"instance","fhirVersion":"4.0.1",` +
			`"software":{"name":"Upstream FHIR"},"implementation":{"url":"` + "http://" + r.Host + `/r4"},"rest":[{"mode":"server"}]}`))
	}))
	t.Cleanup(up.Close)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "upstream-token")
	if err := os.WriteFile(tokenFile, []byte("s3cret-upstream\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base, stop := startServe(t, filepath.Join(dir, "data"),
		"--fhir-upstream", up.URL+"/r4", "--fhir-upstream-bearer-file", tokenFile)
	defer stop()
	req, _ := http.NewRequest(http.MethodGet, base+"/fhir/metadata", nil)
	req.Header.Set("Authorization", "Bearer the-callers-own")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	got := body.String()
	for _, want := range []string{`"Upstream FHIR"`, base + "/fhir", "oauth-uris", base + "/authorize", "SMART-on-FHIR"} {
		if !strings.Contains(got, want) {
			t.Errorf("proxied metadata lacks %s: %.400s", want, got)
		}
	}
	if strings.Contains(got, up.URL) {
		t.Errorf("proxied metadata still names the upstream: %.400s", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auth) == 0 || auth[0] != "Bearer s3cret-upstream" {
		t.Errorf("upstream saw Authorization %q, want the configured token", auth)
	}
}

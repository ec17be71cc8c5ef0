package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/smartlaunch/smartlaunch/internal/password"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// startServe runs "smartlaunch serve" on a free port and returns its base
// URL and a function that stops it and returns serve's error.
func startServe(t *testing.T, data string, extra ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--log-level", "warn"}, extra...)
	go func() {
		done <- run(ctx, args, nil, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve printed no address: %v (serve: %v)", err, <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	addr := strings.TrimSpace(strings.TrimPrefix(line, "smartlaunch listening on "))
	return "http://" + addr, func() error { cancel(); return <-done }
}

func getJSON(t *testing.T, u string) map[string]any {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&m) != nil {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	return m
}

// TestServeZeroConfig starts the real command twice on one data directory:
// the first start loads the sample data and creates a key; the second keeps
// both. While it runs, "client add" registers an app the server accepts.
func TestServeZeroConfig(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	base, stop := startServe(t, data)
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", err, resp)
	}
	resp.Body.Close()
	conf := getJSON(t, base+"/fhir/.well-known/smart-configuration")
	if conf["authorization_endpoint"] != base+"/authorize" {
		t.Errorf("authorization_endpoint = %v, want %s/authorize", conf["authorization_endpoint"], base)
	}
	kid := getJSON(t, base+"/.well-known/jwks.json")["keys"].([]any)[0].(map[string]any)["kid"]

	// A client registered by the CLI while the server runs works at once.
	var out bytes.Buffer
	err = run(context.Background(), []string{"client", "add", "--data", data, "--type", "public",
		"--redirect-uri", "http://127.0.0.1:5173/cb", "--scope", "patient/*.rs launch/patient"}, nil, &out, io.Discard)
	if err != nil {
		t.Fatalf("client add: %v", err)
	}
	var added struct {
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal(out.Bytes(), &added); err != nil || added.ClientID == "" {
		t.Fatalf("client add printed %q", out.String())
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"response_type": {"code"}, "client_id": {added.ClientID}, "redirect_uri": {"http://127.0.0.1:5173/cb"},
		"scope": {"patient/*.rs"}, "state": {"x"}, "aud": {base + "/fhir"},
		"code_challenge": {strings.Repeat("A", 43)}, "code_challenge_method": {"S256"}}
	resp, err = noFollow.Get(base + "/authorize?" + q.Encode())
	if err != nil || resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?") {
		t.Fatalf("authorize with the new client: %v %v", err, resp)
	}
	resp.Body.Close()

	if err := stop(); err != nil {
		t.Fatalf("serve returned %v after shutdown", err)
	}
	base, stop = startServe(t, data)
	defer stop()
	kid2 := getJSON(t, base+"/.well-known/jwks.json")["keys"].([]any)[0].(map[string]any)["kid"]
	if kid != kid2 {
		t.Errorf("signing key changed across restarts: %v then %v", kid, kid2)
	}
	st, err := openStore(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.CountResources(context.Background())
	if err != nil || n < 4400 {
		t.Errorf("resources after two starts = %d (%v), want the whole sample set once", n, err)
	}
	if _, err := st.GetUserByUsername(context.Background(), "parent"); err != nil {
		t.Errorf("demo user parent: %v", err)
	}
}

// TestServeBaseURL: behind a proxy or TLS terminator, --base-url is what
// every advertised URL is built from.
func TestServeBaseURL(t *testing.T) {
	base, stop := startServe(t, filepath.Join(t.TempDir(), "data"), "--base-url", "https://smart.example.org/")
	defer stop()
	conf := getJSON(t, base+"/fhir/.well-known/smart-configuration")
	for k, want := range map[string]string{
		"issuer":                 "https://smart.example.org",
		"authorization_endpoint": "https://smart.example.org/authorize",
		"token_endpoint":         "https://smart.example.org/token",
	} {
		if conf[k] != want {
			t.Errorf("%s = %v, want %s", k, conf[k], want)
		}
	}
	meta := getJSON(t, base+"/fhir/metadata")
	b, _ := json.Marshal(meta)
	if !strings.Contains(string(b), `"valueUri":"https://smart.example.org/token"`) {
		t.Errorf("CapabilityStatement does not advertise the public token URL: %s", b[:min(len(b), 600)])
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--base-url", "ftp://x"},
		{"serve", "--log-level", "loud"},
		{"serve", "extra"},
	} {
		args = append(args, "--data", t.TempDir(), "--addr", "127.0.0.1:0")
		if err := run(context.Background(), args, nil, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

func TestClientAdd(t *testing.T) {
	data := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		wantErr    string
		wantSecret bool
	}{
		{"public", []string{"--type", "public", "--redirect-uri", "http://127.0.0.1:1/cb"}, "", false},
		{"confidential", []string{"--type", "confidential-symmetric", "--redirect-uri", "https://app.example/cb", "--name", "Clinic"}, "", true},
		{"no redirect", []string{"--type", "public"}, "redirect-uri", false},
		{"relative redirect", []string{"--redirect-uri", "/cb"}, "absolute", false},
		{"javascript redirect (A-14)", []string{"--redirect-uri", "javascript:alert(1)//x"}, "reverse-domain", false},
		{"plain http redirect (A-14)", []string{"--redirect-uri", "http://app.example/cb"}, "loopback", false},
		{"localhost redirect (A-13)", []string{"--redirect-uri", "http://localhost:3000/cb"}, "loopback", false},
		{"fragment redirect (A-14)", []string{"--redirect-uri", "https://app.example/cb#x"}, "fragment", false},
		{"bad type", []string{"--type", "asymmetric", "--redirect-uri", "http://127.0.0.1:1/cb"}, "unknown client type", false},
		{"bad scope", []string{"--redirect-uri", "http://127.0.0.1:1/cb", "--scope", "patient/Observation.dus"}, "patient/Observation.dus", false},
		{"negative lifetime", []string{"--redirect-uri", "http://127.0.0.1:1/cb", "--refresh-idle-ttl", "-1h"}, "at least 1s", false},
		{"with policy", []string{"--redirect-uri", "http://127.0.0.1:1/cb", "--access-token-ttl", "5m", "--offline-lifetime", "720h", "--require-dpop"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), append([]string{"client", "add", "--data", data}, tt.args...), nil, &out, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				ClientID     string  `json:"client_id"`
				ClientSecret *string `json:"client_secret"`
			}
			if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.ClientID == "" {
				t.Fatalf("output %q", out.String())
			}
			if (got.ClientSecret != nil) != tt.wantSecret {
				t.Fatalf("client_secret printed: %v, want %v", got.ClientSecret != nil, tt.wantSecret)
			}
			st, _ := openStore(context.Background(), data)
			defer st.Close()
			c, err := st.GetClient(context.Background(), got.ClientID)
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "with policy" && (c.AccessTokenTTL != 5*time.Minute || c.OfflineLifetime != 720*time.Hour || !c.RequireDPoP) {
				t.Errorf("stored policy %v %v %v, want 5m 720h true", c.AccessTokenTTL, c.OfflineLifetime, c.RequireDPoP)
			}
			if tt.wantSecret && (c.SecretHash != store.Hash(*got.ClientSecret) || strings.Contains(c.SecretHash, *got.ClientSecret)) {
				t.Error("the stored secret is not the SHA-256 hash of the printed one")
			}
		})
	}
}

// TestClientLifecycle: register an asymmetric app from a JWKS file, show,
// update its metadata, rotate a symmetric app's secret with an overlap, and
// remove an app (issue 5 item 6).
func TestClientLifecycle(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, args, nil, &out, io.Discard)
		return out.String(), err
	}
	jwks := filepath.Join(t.TempDir(), "jwks.json")
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES384"}}})
	if err := os.WriteFile(jwks, set, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cli("client", "add", "--data", data, "--id", "bulk", "--type", "confidential-asymmetric",
		"--jwks", jwks, "--scope", "system/*.rs", "--publisher", "Example Health", "--policy-uri", "https://example.org/privacy"); err != nil {
		t.Fatalf("add asymmetric: %v", err)
	}
	out, err := cli("client", "show", "--data", data, "--id", "bulk")
	if err != nil || !strings.Contains(out, `"has_jwks":true`) || !strings.Contains(out, `"publisher":"Example Health"`) {
		t.Fatalf("show: %v %s", err, out)
	}
	if _, err := cli("client", "update", "--data", data, "--id", "bulk", "--code-of-conduct", "CARIN Alliance Code of Conduct"); err != nil {
		t.Fatal(err)
	}
	out, _ = cli("client", "show", "--data", data, "--id", "bulk")
	if !strings.Contains(out, "CARIN Alliance") || !strings.Contains(out, `"publisher":"Example Health"`) || !strings.Contains(out, `"scope":"system/*.rs"`) {
		t.Errorf("update changed more or less than asked: %s", out)
	}
	if _, err := cli("client", "update", "--data", data, "--id", "bulk", "--jwks-uri", "http://evil.example/jwks"); err == nil {
		t.Error("update to an http jwks_uri: no error")
	}
	// Secret rotation keeps the old secret for the overlap.
	out, err = cli("client", "add", "--data", data, "--id", "sym", "--type", "confidential-symmetric", "--redirect-uri", "https://app.example/cb")
	if err != nil {
		t.Fatal(err)
	}
	var first, second secretOutput
	_ = json.Unmarshal([]byte(out), &first)
	out, err = cli("client", "rotate-secret", "--data", data, "--id", "sym", "--overlap", "1h")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(out), &second)
	st, _ := openStore(ctx, data)
	c, _ := st.GetClient(ctx, "sym")
	st.Close()
	if second.ClientSecret == "" || second.ClientSecret == first.ClientSecret || c.SecretHash != store.Hash(second.ClientSecret) ||
		c.PreviousSecretHash != store.Hash(first.ClientSecret) || time.Until(c.PreviousSecretExpiresAt) < 59*time.Minute {
		t.Errorf("after rotation: %+v", c)
	}
	if _, err := cli("client", "rotate-secret", "--data", data, "--id", "bulk"); err == nil {
		t.Error("rotating an asymmetric client's secret: no error")
	}
	if _, err := cli("client", "remove", "--data", data, "--id", "sym"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli("client", "show", "--data", data, "--id", "sym"); err == nil {
		t.Error("show after remove: no error")
	}
}

func TestUserAdd(t *testing.T) {
	data := t.TempDir()
	add := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"user", "add", "--data", data}, args...), strings.NewReader(stdin), &out, io.Discard)
		return out.String(), err
	}
	if _, err := add("long-enough-pw\n", "--username", "ana", "--fhir-user", "Patient/123"); err != nil {
		t.Fatal(err)
	}
	st, _ := openStore(context.Background(), data)
	defer st.Close()
	u, err := st.GetUserByUsername(context.Background(), "ana")
	if err != nil {
		t.Fatal(err)
	}
	if err := password.Check(u.PasswordHash, "long-enough-pw"); err != nil {
		t.Errorf("stored hash does not verify the password from stdin: %v", err)
	}
	if len(u.Patients) != 1 || u.Patients[0] != "123" || u.FHIRUser != "Patient/123" {
		t.Errorf("user = %+v, want fhirUser Patient/123 acting for 123", u)
	}
	for _, tt := range []struct {
		name, stdin string
		args        []string
	}{
		{"short password", "short\n", []string{"--username", "bo"}},
		{"duplicate username", "long-enough-pw\n", []string{"--username", "ana"}},
		{"bad fhir-user", "long-enough-pw\n", []string{"--username", "cy", "--fhir-user", "http://x/Patient/1"}},
		{"no username", "long-enough-pw\n", nil},
	} {
		if _, err := add(tt.stdin, tt.args...); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestVersionAndUsage(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, nil, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "smartlaunch ") {
		t.Errorf("version: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, nil, io.Discard, io.Discard); err == nil {
		t.Error("unknown command: no error")
	}
}

func TestScopesExplain(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"scopes", "explain", "--lang", "es-MX",
		"patient/Observation.rs?category=laboratory", "offline_access"}, nil, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.Contains(got, "patient/Observation.rs?category=laboratory\n  short: ") || !strings.Contains(got, "explainable: true") {
		t.Errorf("output lacks the scope's texts:\n%s", got)
	}
	if strings.Contains(got, "lab results") {
		t.Errorf("--lang es-MX printed English:\n%s", got)
	}
	out.Reset()
	err = run(context.Background(), []string{"scopes", "explain", "--json", "--strict", "patient/Observation.rs?code:in=http://x|y"}, nil, &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), `"Explainable": false`) {
		t.Errorf("--strict on an unexplainable query: err %v, output %s", err, out.String())
	}
}

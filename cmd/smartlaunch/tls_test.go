package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// writeCert writes a self-signed ECDSA certificate for 127.0.0.1 and
// localhost, and its key, into dir; it returns their files and a pool
// trusting the certificate.
func writeCert(t *testing.T, dir string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smartlaunch test"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

// startServeLines is startServe returning the first n lines serve prints.
func startServeLines(t *testing.T, data string, n int, extra ...string) ([]string, func() error) {
	t.Helper()
	return startServeLog(t, data, n, io.Discard, extra...)
}

// startServeLog is startServeLines with serve's log written to stderr.
func startServeLog(t *testing.T, data string, n int, stderr io.Writer, extra ...string) ([]string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--log-level", "warn"}, extra...)
	go func() {
		done <- run(ctx, args, nil, pw, stderr)
		pw.Close()
	}()
	r := bufio.NewReader(pr)
	var lines []string
	for range n {
		line, err := r.ReadString('\n')
		if err != nil {
			cancel()
			t.Fatalf("serve printed %q, then: %v (serve: %v)", lines, err, <-done)
		}
		lines = append(lines, strings.TrimSpace(line))
	}
	go func() { _, _ = io.Copy(io.Discard, r) }()
	return lines, func() error { cancel(); return <-done }
}

// TestServeTLS: with --tls-cert and --tls-key, serve speaks only TLS 1.2
// (ECDHE with AEAD ciphers) and 1.3, advertises https URLs, and the
// --http-redirect-addr listener sends plain HTTP to the https base URL.
// It runs in production mode, the usual deployment (and quicker to start:
// no sample data to load).
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, roots := writeCert(t, dir)
	lines, stop := startServeLines(t, filepath.Join(dir, "data"), 3,
		"--production", "--tls-cert", certFile, "--tls-key", keyFile, "--http-redirect-addr", "127.0.0.1:0")
	stopped := false
	defer func() {
		if !stopped {
			_ = stop()
		}
	}()
	base, ok := strings.CutPrefix(lines[0], "smartlaunch listening on ")
	if !ok || !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("first line = %q, want smartlaunch listening on https://127.0.0.1:PORT", lines[0])
	}
	if want := "FHIR base: " + base + "/fhir"; lines[1] != want {
		t.Errorf("second line = %q, want %q", lines[1], want)
	}
	redirectAddr, ok := strings.CutPrefix(lines[2], "HTTP redirect listening on ")
	if !ok {
		t.Fatalf("third line = %q, want HTTP redirect listening on ADDR", lines[2])
	}

	tests := []struct {
		name    string
		min     uint16
		max     uint16
		suites  []uint16
		h2      bool
		wantErr string // in the handshake error; "" for success
	}{
		{name: "TLS 1.1 refused", min: tls.VersionTLS10, max: tls.VersionTLS11, wantErr: "remote error: tls: protocol version not supported"},
		{name: "TLS 1.2 with CBC only refused", min: tls.VersionTLS12, max: tls.VersionTLS12,
			suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}, wantErr: "remote error: tls: handshake failure"},
		{name: "TLS 1.2", min: tls.VersionTLS12, max: tls.VersionTLS12},
		{name: "TLS 1.3", min: tls.VersionTLS13, max: tls.VersionTLS13},
		{name: "TLS 1.3 HTTP/2", min: tls.VersionTLS13, max: tls.VersionTLS13, h2: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &http.Transport{ForceAttemptHTTP2: tt.h2, TLSClientConfig: &tls.Config{
				RootCAs: roots, MinVersion: tt.min, MaxVersion: tt.max, CipherSuites: tt.suites}}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr}).Get(base + "/healthz")
			if tt.wantErr != "" {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("GET /healthz succeeded with %s, want a failed handshake", tls.VersionName(resp.TLS.Version))
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("GET /healthz: %v, want an error about %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("GET /healthz: %v", err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET /healthz: %s, want 200", resp.Status)
			}
			if resp.TLS == nil || resp.TLS.Version != tt.max {
				t.Errorf("negotiated %v, want %s", resp.TLS, tls.VersionName(tt.max))
			}
			if wantMajor := map[bool]int{false: 1, true: 2}[tt.h2]; resp.ProtoMajor != wantMajor {
				t.Errorf("protocol %s, want HTTP/%d", resp.Proto, wantMajor)
			}
		})
	}

	t.Run("advertised URLs", func(t *testing.T) {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get(base + "/fhir/.well-known/smart-configuration")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var conf struct {
			AuthorizationEndpoint string `json:"authorization_endpoint"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&conf); err != nil {
			t.Fatal(err)
		}
		if want := base + "/authorize"; conf.AuthorizationEndpoint != want {
			t.Errorf("authorization_endpoint = %q, want %q", conf.AuthorizationEndpoint, want)
		}
	})

	redirects := []struct {
		name, path, want string
	}{
		{"root", "/", base + "/"},
		{"path and query", "/fhir/Patient?name=Jill&_count=2", base + "/fhir/Patient?name=Jill&_count=2"},
		{"escaped path", "/a%2Fb", base + "/a%2Fb"},
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range redirects {
		t.Run("redirect "+tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, "http://"+redirectAddr+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "evil.example" // never echoed
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != tt.want {
				t.Errorf("POST %s: %s to %q, want 308 to %q", tt.path, resp.Status, resp.Header.Get("Location"), tt.want)
			}
		})
	}

	stopped = true
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v after shutdown", err)
	}
}

// TestServeRefusesFlags: flag combinations that cannot be served safely are
// refused before anything starts.
func TestServeRefusesFlags(t *testing.T) {
	certFile, keyFile, _ := writeCert(t, t.TempDir())
	openCache := filepath.Join(t.TempDir(), "acme")
	if err := os.Mkdir(openCache, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(openCache, 0o755); err != nil {
		t.Fatal(err)
	}
	acme := []string{"--acme-domain", "smart.example.org", "--acme-accept-tos"}
	withACME := func(args ...string) []string { return append(append([]string{}, acme...), args...) }
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"production without TLS", []string{"--production"}, "--production refuses to serve without TLS"},
		{"production behind proxy without base URL", []string{"--production", "--behind-tls-proxy"}, "--behind-tls-proxy needs an https:// --base-url"},
		{"production behind proxy with http base URL", []string{"--production", "--behind-tls-proxy", "--base-url", "http://smart.example.org"}, "--behind-tls-proxy needs an https:// --base-url"},
		{"certificate without key", []string{"--tls-cert", certFile}, "--tls-cert and --tls-key go together"},
		{"key without certificate", []string{"--tls-key", keyFile}, "--tls-cert and --tls-key go together"},
		{"TLS with http base URL", []string{"--tls-cert", certFile, "--tls-key", keyFile, "--base-url", "http://smart.example.org"}, "must be https:// when serving TLS"},
		{"redirect without TLS", []string{"--http-redirect-addr", "127.0.0.1:0"}, "--http-redirect-addr needs TLS"},
		{"unreadable certificate", []string{"--tls-cert", keyFile, "--tls-key", keyFile}, "load TLS certificate"},
		{"ACME and certificate files", withACME("--tls-cert", certFile, "--tls-key", keyFile), "--acme-domain and --tls-cert exclude each other"},
		{"ACME behind a proxy", withACME("--behind-tls-proxy", "--base-url", "https://smart.example.org"), "--acme-domain and --behind-tls-proxy exclude each other"},
		{"ACME terms not accepted", []string{"--acme-domain", "smart.example.org"}, "--acme-domain needs --acme-accept-tos"},
		{"ACME email without domain", []string{"--acme-email", "ops@example.org"}, "--acme-email needs --acme-domain"},
		{"ACME cache without domain", []string{"--acme-cache", openCache}, "--acme-cache needs --acme-domain"},
		{"ACME no host", []string{"--acme-domain", " , ", "--acme-accept-tos"}, "names no host"},
		{"ACME wildcard", []string{"--acme-domain", "*.example.org", "--acme-accept-tos"}, "is a wildcard"},
		{"ACME IP address", []string{"--acme-domain", "smart.example.org,127.0.0.1", "--acme-accept-tos"}, "is an IP address"},
		{"ACME host with port", []string{"--acme-domain", "smart.example.org:443", "--acme-accept-tos"}, "is not a fully qualified host name"},
		{"ACME plain HTTP directory", withACME("--acme-directory-url", "http://ca.example.org/dir"), "is not an absolute https:// URL"},
		{"ACME bad email", withACME("--acme-email", "ops"), "is not a plain email address"},
		{"ACME base URL on another host", withACME("--base-url", "https://other.example.org"), `host "other.example.org" is not one of --acme-domain`},
		{"ACME http base URL", withACME("--base-url", "http://smart.example.org"), "must be https:// when serving TLS"},
		{"ACME cache open to others", withACME("--acme-cache", openCache), "is open to other users (mode 0755)"},
		{"ACME directory CA without certificate", withACME("--acme-directory-ca", keyFile), "holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data}, tt.args...)
			err := run(context.Background(), args, nil, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("serve %v: %v, want an error containing %q", tt.args, err, tt.want)
			}
			if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("serve created its data directory before refusing (stat: %v)", err)
			}
		})
	}
}

// TestServeProduction: --production behind a TLS proxy starts with the
// https base URL and creates no demo apps, demo users or sample patients;
// a store holding the demo set is refused.
func TestServeProduction(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	base, stop := startServe(t, data, "--production", "--behind-tls-proxy", "--base-url", "https://smart.example.org")
	conf := getJSON(t, base+"/fhir/.well-known/smart-configuration")
	if conf["authorization_endpoint"] != "https://smart.example.org/authorize" {
		t.Errorf("authorization_endpoint = %v, want https://smart.example.org/authorize", conf["authorization_endpoint"])
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v after shutdown", err)
	}
	st, err := openStore(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, id := range []string{demo.PublicClientID, demo.ConfidentialClientID} {
		if _, err := st.GetClient(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("demo app %s: %v, want ErrNotFound", id, err)
		}
	}
	for _, u := range demo.Users() {
		if _, err := st.GetUserByUsername(ctx, u.Username); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("demo user %s: %v, want ErrNotFound", u.Username, err)
		}
	}
	if n, err := st.CountResources(ctx); err != nil || n != 0 {
		t.Errorf("resources = %d (%v), want 0", n, err)
	}

	// A store once served in demo mode holds published credentials.
	demoData := filepath.Join(t.TempDir(), "data")
	_, stop = startServe(t, demoData)
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v after shutdown", err)
	}
	err = run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", demoData, "--production",
		"--behind-tls-proxy", "--base-url", "https://smart.example.org"}, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "demo records with published credentials") {
		t.Errorf("serve --production on a demo store: %v, want a refusal naming the demo records", err)
	}
}

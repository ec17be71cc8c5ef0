package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"
)

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startDNS serves the A records in hosts (name to IPv4 address) over TCP
// on the loopback interface and returns its address: the resolver of the
// CA's validation authority, so that names it validates lead here.
func startDNS(t *testing.T, hosts map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{Listener: ln, Net: "tcp", Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		for _, q := range r.Question {
			if ip, ok := hosts[strings.TrimSuffix(q.Name, ".")]; ok && q.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{A: net.ParseIP(ip),
					Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}})
			}
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
}

// testACME is Pebble, the ACME test CA of Let's Encrypt, run in this
// process. Its directory is served at once; the CA itself is made by start,
// once the ports its validation authority must connect to are known.
type testACME struct {
	srv     *httptest.Server
	caFile  string // PEM of the certificate of srv, for --acme-directory-ca
	handler atomic.Pointer[http.Handler]
	log     lockedBuffer
	ca      *ca.CAImpl
}

func newTestACME(t *testing.T) *testACME {
	t.Helper()
	// Validate at once, without the random sleeps, and take every nonce
	// (by default Pebble rejects some, to exercise clients' retries).
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	t.Setenv("PEBBLE_AUTHZREUSE", "0")
	a := &testACME{}
	a.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := a.handler.Load()
		if h == nil {
			http.Error(w, "the CA is not started", http.StatusServiceUnavailable)
			return
		}
		(*h).ServeHTTP(w, r)
	}))
	t.Cleanup(a.srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Pebble's log:\n%s", a.log.String())
		}
	})
	a.caFile = filepath.Join(t.TempDir(), "acme-ca.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.srv.Certificate().Raw})
	if err := os.WriteFile(a.caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return a
}

// start starts the CA; its validation authority resolves names with the
// DNS server at resolver and connects to port httpPort for HTTP-01 and
// tlsPort for TLS-ALPN-01 challenges.
func (a *testACME) start(resolver string, httpPort, tlsPort int) {
	logger := log.New(&a.log, "pebble ", log.Lmicroseconds)
	store := db.NewMemoryStore()
	a.ca = ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "test"}})
	v := va.New(logger, httpPort, tlsPort, false, resolver, store)
	front := wfe.New(logger, store, v, a.ca, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)
	h := front.Handler()
	a.handler.Store(&h)
}

// root returns the CA's root certificate.
func (a *testACME) root() *x509.Certificate { return a.ca.GetRootCert(0).Cert }

// directory returns the URL of the ACME directory.
func (a *testACME) directory() string { return a.srv.URL + wfe.DirectoryPath }

// clientTo returns a client that connects to addr whatever the URL's host,
// as if DNS named addr, trusting roots.
func clientTo(addr string, roots *x509.CertPool) *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{RootCAs: roots},
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// port returns the port of a host:port address.
func port(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestServeACME: with --acme-domain, serve gets its certificates from a
// real ACME CA (Pebble, in-process): over TLS-ALPN-01 on the TLS listener,
// and over HTTP-01 on the --http-redirect-addr listener when TLS-ALPN-01
// cannot reach it. It serves them with the same TLS floor as certificate
// files, refuses names not in --acme-domain, keeps redirecting other
// plain-HTTP requests with 308, and after a restart serves the cached
// certificates without asking the CA.
//
// The CA resolves alpn.smart.test to 127.0.0.1, where serve's TLS
// listener is, and http01.smart.test to 127.0.0.2, where only the redirect
// listener is, so that name can only be validated over HTTP-01.
func TestServeACME(t *testing.T) {
	const alpnHost, httpHost = "alpn.smart.test", "http01.smart.test"
	acmeCA := newTestACME(t)
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"--production", "--http-redirect-addr", "127.0.0.2:0",
		"--acme-domain", alpnHost + "," + httpHost, "--acme-accept-tos", "--acme-email", "ops@smart.test",
		"--acme-directory-url", acmeCA.directory(), "--acme-directory-ca", acmeCA.caFile}
	var serveLog lockedBuffer
	lines, stop := startServeLog(t, data, 3, &serveLog, args...)
	stopped := false
	defer func() {
		if !stopped {
			_ = stop()
		}
	}()
	addr, ok := strings.CutPrefix(lines[0], "smartlaunch listening on https://")
	if !ok {
		t.Fatalf("first line = %q, want smartlaunch listening on https://ADDR", lines[0])
	}
	if want := "FHIR base: https://" + alpnHost + "/fhir"; lines[1] != want {
		t.Errorf("second line = %q, want %q (the base URL defaults to the first --acme-domain)", lines[1], want)
	}
	redirectAddr, ok := strings.CutPrefix(lines[2], "HTTP redirect listening on ")
	if !ok {
		t.Fatalf("third line = %q, want HTTP redirect listening on ADDR", lines[2])
	}
	resolver := startDNS(t, map[string]string{alpnHost: "127.0.0.1", httpHost: "127.0.0.2"})
	acmeCA.start(resolver, port(t, redirectAddr), port(t, addr))
	roots := x509.NewCertPool()
	roots.AddCert(acmeCA.root())
	client := clientTo(addr, roots)
	defer client.CloseIdleConnections()

	serials := map[string]string{}
	for _, host := range []string{alpnHost, httpHost} {
		t.Run("certificate for "+host, func(t *testing.T) {
			// Pebble logs each HTTP-01 request it makes; TLS-ALPN-01 ones it does not.
			wantHTTP01 := host == httpHost
			defer func() {
				if got := strings.Contains(acmeCA.log.String(), "validate w/ HTTP: http://"+host+":"); got != wantHTTP01 {
					t.Errorf("validated over HTTP-01: %t, want %t", got, wantHTTP01)
				}
			}()
			resp, err := client.Get("https://" + host + "/healthz")
			if err != nil {
				t.Fatalf("GET /healthz: %v", err)
			}
			resp.Body.Close()
			leaf := resp.TLS.PeerCertificates[0]
			if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != host {
				t.Errorf("certificate names %v, want [%s]", leaf.DNSNames, host)
			}
			if !strings.HasPrefix(leaf.Issuer.CommonName, "Pebble Intermediate CA") {
				t.Errorf("certificate issued by %q, want Pebble's intermediate", leaf.Issuer)
			}
			chain := resp.TLS.VerifiedChains[0]
			if !chain[len(chain)-1].Equal(acmeCA.root()) {
				t.Errorf("certificate chains to %q, want Pebble's root", chain[len(chain)-1].Subject)
			}
			serials[host] = leaf.SerialNumber.String()
		})
	}

	tests := []struct {
		name       string
		serverName string
		min, max   uint16
		suites     []uint16
		wantErr    string // in the handshake error; "" for success
	}{
		{name: "TLS 1.1 refused", serverName: alpnHost, min: tls.VersionTLS10, max: tls.VersionTLS11,
			wantErr: "remote error: tls: protocol version not supported"},
		{name: "TLS 1.2 with CBC only refused", serverName: alpnHost, min: tls.VersionTLS12, max: tls.VersionTLS12,
			suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}, wantErr: "remote error: tls: handshake failure"},
		{name: "TLS 1.2", serverName: alpnHost, min: tls.VersionTLS12, max: tls.VersionTLS12},
		// A client offering only TLS 1.3 suites would get a second
		// certificate, RSA, autocert's choice for clients that list no
		// ECDSA suite.
		{name: "TLS 1.3", serverName: httpHost, min: tls.VersionTLS12, max: tls.VersionTLS13},
		{name: "host not in --acme-domain refused", serverName: "other.smart.test", min: tls.VersionTLS12, max: tls.VersionTLS13,
			wantErr: "remote error: tls: internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: tt.serverName,
				MinVersion: tt.min, MaxVersion: tt.max, CipherSuites: tt.suites, NextProtos: []string{"h2", "http/1.1"}})
			if tt.wantErr != "" {
				if err == nil {
					conn.Close()
					t.Fatalf("handshake succeeded, want an error about %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("handshake: %v, want an error about %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			defer conn.Close()
			if cs := conn.ConnectionState(); cs.Version != tt.max || cs.NegotiatedProtocol != "h2" {
				t.Errorf("negotiated %s and %q, want %s and h2", tls.VersionName(cs.Version), cs.NegotiatedProtocol, tls.VersionName(tt.max))
			}
		})
	}

	t.Run("no server name", func(t *testing.T) {
		// Clients connecting by IP address send no server name; they get
		// the first --acme-domain's certificate.
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		defer conn.Close()
		if names := conn.ConnectionState().PeerCertificates[0].DNSNames; len(names) != 1 || names[0] != alpnHost {
			t.Errorf("certificate names %v, want [%s]", names, alpnHost)
		}
	})

	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	redirects := []struct {
		name, host, path string
		wantStatus       int
		wantLocation     string
	}{
		{"other paths redirected", httpHost, "/fhir/Patient?name=Jill", http.StatusPermanentRedirect, "https://" + alpnHost + "/fhir/Patient?name=Jill"},
		{"unknown HTTP-01 token", httpHost, "/.well-known/acme-challenge/unknown", http.StatusNotFound, ""},
		{"HTTP-01 for another host", "evil.example", "/.well-known/acme-challenge/unknown", http.StatusForbidden, ""},
	}
	for _, tt := range redirects {
		t.Run("redirect listener "+tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, "http://"+redirectAddr+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tt.host
			resp, err := plain.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Location") != tt.wantLocation {
				t.Errorf("GET %s: %s to %q, want %d to %q", tt.path, resp.Status, resp.Header.Get("Location"), tt.wantStatus, tt.wantLocation)
			}
		})
	}

	stopped = true
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v after shutdown", err)
	}
	if l := serveLog.String(); !strings.Contains(l, "other.smart.test") || !strings.Contains(l, "is not one of --acme-domain") {
		t.Errorf("serve's log does not say other.smart.test is not one of --acme-domain:\n%s", l)
	}
	if strings.Contains(acmeCA.log.String(), "other.smart.test") {
		t.Errorf("the CA was asked about other.smart.test")
	}
	cache := filepath.Join(data, "acme")
	fi, err := os.Stat(cache)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("%s has mode %04o, want 0700", cache, fi.Mode().Perm())
	}
	for _, name := range []string{"acme_account+key", alpnHost, httpHost} {
		if _, err := os.Stat(filepath.Join(cache, name)); err != nil {
			t.Errorf("cache: %v", err)
		}
	}

	t.Run("restart serves the cached certificates", func(t *testing.T) {
		var asked atomic.Int32
		h := http.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			asked.Add(1)
			http.Error(w, "the CA was asked", http.StatusInternalServerError)
		}))
		acmeCA.handler.Store(&h)
		lines, stop := startServeLines(t, data, 3, args...)
		addr := strings.TrimPrefix(lines[0], "smartlaunch listening on https://")
		client := clientTo(addr, roots)
		defer client.CloseIdleConnections()
		for _, host := range []string{alpnHost, httpHost} {
			resp, err := client.Get("https://" + host + "/healthz")
			if err != nil {
				t.Fatalf("GET /healthz from %s: %v", host, err)
			}
			resp.Body.Close()
			if got := resp.TLS.PeerCertificates[0].SerialNumber.String(); got != serials[host] {
				t.Errorf("%s: serial %s, want the cached certificate's %s", host, got, serials[host])
			}
		}
		if err := stop(); err != nil {
			t.Fatalf("serve returned %v after shutdown", err)
		}
		if n := asked.Load(); n != 0 {
			t.Errorf("the CA was asked %d times, want none", n)
		}
	})
}

// TestServeACMEConfigFile: the tls.acme_ settings of a configuration file
// reach serve's --acme- flags.
func TestServeACMEConfigFile(t *testing.T) {
	_, keyFile, _ := writeCert(t, t.TempDir())
	cache := filepath.Join(t.TempDir(), "acme")
	path := writeConfig(t, `version: 1
production: true
tls:
  acme_domains: [smart.example.org, fhir.example.org]
  acme_accept_tos: true
  acme_email: ops@example.org
  acme_directory_url: https://ca.example.org/acme/directory
  acme_cache: `+cache+`
  acme_directory_ca: `+keyFile+`
`)
	data := filepath.Join(t.TempDir(), "data")
	err := run(context.Background(), []string{"serve", "--config", path, "--addr", "127.0.0.1:0", "--data", data}, nil, io.Discard, io.Discard)
	if want := "--acme-directory-ca " + keyFile + " holds no PEM certificate"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("serve: %v, want an error containing %q", err, want)
	}
}

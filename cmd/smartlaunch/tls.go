package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/acme/autocert"

	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// tlsFlags are serve's flags for HTTPS and production mode.
type tlsFlags struct {
	cert, key    *string
	redirectAddr *string
	production   *bool
	behindProxy  *bool
	acme         *acmeFlags

	// manager, set by config with --acme-domain, gets the certificates.
	manager *autocert.Manager
}

func addTLSFlags(fs *flag.FlagSet) *tlsFlags {
	return &tlsFlags{
		cert:         fs.String("tls-cert", "", "PEM certificate chain file: serve HTTPS (TLS 1.2 and 1.3) on --addr (needs --tls-key)"),
		key:          fs.String("tls-key", "", "PEM private key file for --tls-cert"),
		redirectAddr: fs.String("http-redirect-addr", "", "also listen for plain HTTP on this address and answer every request with 308 to the https --base-url"),
		production:   fs.Bool("production", false, "production mode: refuse to start without TLS (or --behind-tls-proxy), and create no demo users, demo apps or sample patients"),
		behindProxy:  fs.Bool("behind-tls-proxy", false, "a proxy in front terminates TLS; --base-url must then be https://"),
		acme:         addACMEFlags(fs),
	}
}

// on reports whether serve itself terminates TLS.
func (f *tlsFlags) on() bool { return *f.cert != "" || f.acme.on() }

// check reports flag combinations that cannot work, given the
// --base-url flag as written ("" for the default).
func (f *tlsFlags) check(baseURL string) error {
	if (*f.cert == "") != (*f.key == "") {
		return errors.New("serve: --tls-cert and --tls-key go together")
	}
	u, err := url.Parse(baseURL)
	https := baseURL != "" && err == nil && u.Scheme == "https"
	switch {
	case *f.behindProxy && !https:
		return errors.New("serve: --behind-tls-proxy needs an https:// --base-url (the address clients reach through the proxy)")
	case *f.production && !f.on() && !*f.behindProxy:
		return errors.New("serve: --production refuses to serve without TLS: give --tls-cert and --tls-key, or --acme-domain, or --behind-tls-proxy with an https:// --base-url")
	case f.on() && baseURL != "" && !https:
		return fmt.Errorf("serve: --base-url %q must be https:// when serving TLS", baseURL)
	case *f.redirectAddr != "" && !f.on() && !https:
		return errors.New("serve: --http-redirect-addr needs TLS (--tls-cert and --tls-key, or --acme-domain) or an https:// --base-url")
	}
	return f.acme.check(*f.cert != "", *f.behindProxy, baseURL)
}

// config returns the server's TLS configuration, or nil when serve does
// not terminate TLS; with --acme-domain, the ACME cache defaults to
// dataDir/acme. Only TLS 1.2 and 1.3 are offered; for TLS 1.2, only
// ECDHE key exchange with AEAD ciphers (TLS 1.3 suites are all such and
// are not configurable).
func (f *tlsFlags) config(dataDir string) (*tls.Config, error) {
	if f.acme.on() {
		m, err := f.acme.manager(dataDir)
		if err != nil {
			return nil, err
		}
		f.manager = m
		return f.acme.tlsConfig(baseTLSConfig(), m), nil
	}
	if !f.on() {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(*f.cert, *f.key)
	if err != nil {
		return nil, fmt.Errorf("serve: load TLS certificate: %w", err)
	}
	cfg := baseTLSConfig()
	cfg.Certificates = []tls.Certificate{cert}
	return cfg, nil
}

// baseTLSConfig is TLS 1.2 and 1.3 only, ECDHE with AEAD ciphers for TLS
// 1.2, offering HTTP/2; certificates are left to the caller.
func baseTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		NextProtos: []string{"h2", "http/1.1"},
	}
}

// defaultBaseURL is the base URL when --base-url is not given:
// https://FIRST-NAME with --acme-domain, else SCHEME://HOST:PORT of the
// listener a.
func (f *tlsFlags) defaultBaseURL(scheme string, a net.Addr) string {
	if f.acme.on() {
		return "https://" + f.acme.names()[0]
	}
	return defaultBaseURL(scheme, a)
}

// redirect returns the handler of the --http-redirect-addr listener:
// redirectHandler(base), and with --acme-domain also the answers to the
// CA's HTTP-01 challenges (RFC 8555 section 8.3) under
// /.well-known/acme-challenge/. Call it before serving TLS, so that the
// manager knows it may use HTTP-01.
func (f *tlsFlags) redirect(base string) http.Handler {
	if f.manager != nil {
		return f.manager.HTTPHandler(redirectHandler(base))
	}
	return redirectHandler(base)
}

// refuseDemoSet fails when the store holds any of the demo apps or users,
// whose credentials are published: a store once served in demo mode is not
// fit for production.
func refuseDemoSet(ctx context.Context, st store.Store) error {
	var found []string
	for _, id := range []string{demo.PublicClientID, demo.ConfidentialClientID} {
		_, err := st.GetClient(ctx, id)
		switch {
		case err == nil:
			found = append(found, "app "+id)
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("serve: look for demo app %s: %w", id, err)
		}
	}
	for _, u := range demo.Users() {
		_, err := st.GetUser(ctx, u.ID)
		switch {
		case err == nil:
			found = append(found, "user "+u.Username)
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("serve: look for demo user %s: %w", u.Username, err)
		}
	}
	if len(found) > 0 {
		return fmt.Errorf("serve: --production: the store holds demo records with published credentials (%s); use a store never served without --production", strings.Join(found, ", "))
	}
	return nil
}

// redirectHandler answers every request with 308 Permanent Redirect to
// the same path and query under base, the configured https base URL (the
// request's Host header is never used).
func redirectHandler(base string) http.Handler {
	base = strings.TrimSuffix(base, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := base + r.URL.EscapedPath()
		if !strings.HasPrefix(r.URL.EscapedPath(), "/") {
			target = base + "/"
		}
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusPermanentRedirect)
	})
}

// runRedirect serves h, the plain-HTTP handler from redirect, on ln until
// ctx is done, then shuts down gracefully.
func runRedirect(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: http redirect: %w", err)
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			return fmt.Errorf("serve: http redirect: shutdown: %w", err)
		}
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: http redirect: %w", err)
		}
		return nil
	}
}

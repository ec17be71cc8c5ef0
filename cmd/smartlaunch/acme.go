package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/smartlaunch/smartlaunch/internal/config"
)

// acmeFlags are serve's flags for certificates from an ACME CA (RFC 8555),
// such as Let's Encrypt, obtained and renewed by autocert.
type acmeFlags struct {
	domains      *string
	email        *string
	directoryURL *string
	directoryCA  *string
	cache        *string
	acceptTOS    *bool
}

func addACMEFlags(fs *flag.FlagSet) *acmeFlags {
	return &acmeFlags{
		domains: fs.String("acme-domain", "", "public host names, comma-separated: get their certificates from an ACME CA and serve HTTPS on --addr, which the CA must reach on port 443 (or port 80 through --http-redirect-addr); no other name gets one. The default --base-url is https://FIRST-NAME"),
		email:   fs.String("acme-email", "", "contact address given to the ACME CA (expiry and policy notices)"),
		directoryURL: fs.String("acme-directory-url", autocert.DefaultACMEDirectory,
			"ACME directory: Let's Encrypt production unless changed to its staging directory or a private CA's"),
		directoryCA: fs.String("acme-directory-ca", "", "PEM file of CA certificates to trust for the ACME directory's HTTPS (a private ACME CA); empty for the system's"),
		cache:       fs.String("acme-cache", "", "directory (mode 0700) holding the ACME account key and the certificates with their private keys; empty for DATA/acme"),
		acceptTOS:   fs.Bool("acme-accept-tos", false, "agree to the terms of service of the ACME CA (required with --acme-domain)"),
	}
}

// on reports whether certificates come from an ACME CA.
func (a *acmeFlags) on() bool { return *a.domains != "" }

// names returns the --acme-domain host names.
func (a *acmeFlags) names() []string {
	var names []string
	for n := range strings.SplitSeq(*a.domains, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// check reports ACME flags that cannot work, given whether certificate
// files or a TLS proxy are configured and the --base-url as written.
func (a *acmeFlags) check(certFiles, behindProxy bool, baseURL string) error {
	if !a.on() {
		for _, s := range []struct {
			flag string
			set  bool
		}{
			{"acme-email", *a.email != ""},
			{"acme-directory-url", *a.directoryURL != autocert.DefaultACMEDirectory},
			{"acme-directory-ca", *a.directoryCA != ""},
			{"acme-cache", *a.cache != ""},
		} {
			if s.set {
				return fmt.Errorf("serve: --%s needs --acme-domain", s.flag)
			}
		}
		return nil
	}
	switch {
	case certFiles:
		return errors.New("serve: --acme-domain and --tls-cert exclude each other: certificates come from ACME or from files")
	case behindProxy:
		return errors.New("serve: --acme-domain and --behind-tls-proxy exclude each other: ACME needs serve to terminate TLS")
	case !*a.acceptTOS:
		return fmt.Errorf("serve: --acme-domain needs --acme-accept-tos: you agree to the terms of service of the ACME CA at %s", *a.directoryURL)
	}
	if len(a.names()) == 0 {
		return fmt.Errorf("serve: --acme-domain %q names no host", *a.domains)
	}
	for _, n := range a.names() {
		if p := config.ACMEDomainProblem(n); p != "" {
			return fmt.Errorf("serve: --acme-domain: %q %s", n, p)
		}
	}
	if p := config.ACMEDirectoryProblem(*a.directoryURL); p != "" {
		return fmt.Errorf("serve: --acme-directory-url %q %s", *a.directoryURL, p)
	}
	if *a.email != "" {
		if p := config.ACMEEmailProblem(*a.email); p != "" {
			return fmt.Errorf("serve: --acme-email %q %s", *a.email, p)
		}
	}
	if u, err := url.Parse(baseURL); baseURL != "" && err == nil {
		if host := strings.ToLower(u.Hostname()); !a.allowed(host) {
			return fmt.Errorf("serve: --base-url host %q is not one of --acme-domain (no certificate would name it)", host)
		}
	}
	return nil
}

// allowed reports whether host is one of the --acme-domain names.
func (a *acmeFlags) allowed(host string) bool {
	for _, n := range a.names() {
		if n == host {
			return true
		}
	}
	return false
}

// hostPolicy lets certificates be requested only for the --acme-domain
// names, so that a client cannot make serve ask the CA for any name it
// sends. A port in host (the Host header of an HTTP-01 request made to a
// port other than 80) is ignored.
func (a *acmeFlags) hostPolicy() autocert.HostPolicy {
	return func(_ context.Context, host string) error {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.TrimSuffix(strings.ToLower(host), ".")
		if !a.allowed(host) {
			return fmt.Errorf("serve: acme: host %q is not one of --acme-domain", host)
		}
		return nil
	}
}

// manager returns the certificate manager for the --acme- flags, its
// cache defaulting to dataDir/acme. A cache directory that exists must be
// private to its owner: it holds the account key and certificate keys.
func (a *acmeFlags) manager(dataDir string) (*autocert.Manager, error) {
	dir := *a.cache
	if dir == "" {
		dir = filepath.Join(dataDir, "acme")
	}
	switch fi, err := os.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		// autocert creates it, mode 0700, when it first stores a key.
	case err != nil:
		return nil, fmt.Errorf("serve: --acme-cache: %w", err)
	case !fi.IsDir():
		return nil, fmt.Errorf("serve: --acme-cache %s is not a directory", dir)
	case fi.Mode().Perm()&0o077 != 0:
		return nil, fmt.Errorf("serve: --acme-cache %s is open to other users (mode %04o) but holds private keys: chmod 700 it", dir, fi.Mode().Perm())
	}
	client := &acme.Client{DirectoryURL: *a.directoryURL, UserAgent: "smartlaunch"}
	if *a.directoryCA != "" {
		b, err := os.ReadFile(*a.directoryCA)
		if err != nil {
			return nil, fmt.Errorf("serve: --acme-directory-ca: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("serve: --acme-directory-ca %s holds no PEM certificate", *a.directoryCA)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		client.HTTPClient = &http.Client{Transport: tr}
	}
	return &autocert.Manager{
		Prompt:     autocert.AcceptTOS, // --acme-accept-tos, checked
		Cache:      autocert.DirCache(dir),
		HostPolicy: a.hostPolicy(),
		Email:      *a.email,
		Client:     client,
	}, nil
}

// tlsConfig returns cfg, the TLS settings shared with certificate files,
// taking its certificates from m: a client sending no server name (one
// connecting by IP address) gets the first --acme-domain's, and the CA's
// TLS-ALPN-01 challenge (RFC 8737) is answered.
func (a *acmeFlags) tlsConfig(cfg *tls.Config, m *autocert.Manager) *tls.Config {
	first := a.names()[0]
	cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if hello.ServerName == "" {
			h := *hello
			h.ServerName = first
			hello = &h
		}
		return m.GetCertificate(hello)
	}
	cfg.NextProtos = append(cfg.NextProtos, acme.ALPNProto)
	return cfg
}

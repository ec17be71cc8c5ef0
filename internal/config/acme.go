package config

import (
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
)

// LetsEncryptDirectoryURL is the ACME directory of Let's Encrypt's
// production CA, the default tls.acme_directory_url.
const LetsEncryptDirectoryURL = "https://acme-v02.api.letsencrypt.org/directory"

// hostName is a fully qualified DNS name in ASCII (internationalized names
// in their xn-- form): two labels or more, each 1 to 63 letters, digits or
// inner hyphens.
var hostName = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ACMEDomainProblem says what keeps name from being an ACME domain, a
// host name a certificate can be requested for over the TLS-ALPN-01 or
// HTTP-01 challenge (RFC 8555 section 8, RFC 8737), or "" when nothing does.
func ACMEDomainProblem(name string) string {
	switch {
	case strings.Contains(name, "*"):
		return "is a wildcard, which needs the DNS-01 challenge (not supported): list each host name"
	case net.ParseIP(name) != nil:
		return "is an IP address, not a host name"
	case len(name) > 253 || !hostName.MatchString(name):
		return "is not a fully qualified host name in lower case (no scheme, port or path; xn-- form for international names)"
	}
	return ""
}

// ACMEEmailProblem says what keeps email from being the plain address
// (such as ops@example.org) given to an ACME CA as contact, or "" when
// nothing does.
func ACMEEmailProblem(email string) string {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email {
		return "is not a plain email address (such as ops@example.org)"
	}
	return ""
}

// ACMEDirectoryProblem says what keeps u from being an ACME directory URL,
// which RFC 8555 section 6.1 requires to be https, or "" when nothing does.
func ACMEDirectoryProblem(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "https" || p.Host == "" || p.Fragment != "" {
		return "is not an absolute https:// URL"
	}
	return ""
}

// checkACME checks the tls.acme_ settings.
func (f *File) checkACME(add adder) {
	t := f.TLS
	if len(t.ACMEDomains) == 0 {
		for _, s := range []struct {
			key string
			set bool
		}{
			{"acme_email", t.ACMEEmail != ""},
			{"acme_directory_url", t.ACMEDirectoryURL != LetsEncryptDirectoryURL},
			{"acme_directory_ca", t.ACMEDirectoryCA != ""},
			{"acme_cache", t.ACMECache != ""},
		} {
			if s.set {
				add("tls.%s: needs tls.acme_domains", s.key)
			}
		}
		return
	}
	if t.Cert != "" || t.Key != "" {
		add("tls.acme_domains and tls.cert: give one, not both (certificates come from ACME or from files)")
	}
	if t.BehindTLSProxy {
		add("tls.acme_domains and tls.behind_tls_proxy: give one, not both (ACME needs the server to terminate TLS)")
	}
	for _, d := range t.ACMEDomains {
		if p := ACMEDomainProblem(d); p != "" {
			add("tls.acme_domains: %q %s", d, p)
		}
	}
	if !t.ACMEAcceptTOS {
		add("tls.acme_accept_tos: must be true with tls.acme_domains (you agree to the ACME CA's terms of service)")
	}
	if p := ACMEDirectoryProblem(t.ACMEDirectoryURL); p != "" {
		add("tls.acme_directory_url: %q %s", t.ACMEDirectoryURL, p)
	}
	if t.ACMEEmail != "" {
		if p := ACMEEmailProblem(t.ACMEEmail); p != "" {
			add("tls.acme_email: %q %s", t.ACMEEmail, p)
		}
	}
	if base, err := url.Parse(f.Server.BaseURL); f.Server.BaseURL != "" && err == nil && base.Scheme == "https" {
		host := strings.ToLower(base.Hostname())
		found := false
		for _, d := range t.ACMEDomains {
			found = found || d == host
		}
		if !found {
			add("server.base_url: host %q is not one of tls.acme_domains (no certificate would name it)", host)
		}
	}
}

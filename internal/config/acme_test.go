package config

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseACME: a file asking for certificates from an ACME CA, the
// other way the server terminates TLS itself.
func TestParseACME(t *testing.T) {
	f, err := Parse([]byte(`version: 1
server:
  addr: ":443"
  base_url: https://smart.example.org
tls:
  acme_domains: [smart.example.org, fhir.example.org]
  acme_email: ops@example.org
  acme_directory_url: https://acme-staging-v02.api.letsencrypt.org/directory
  acme_directory_ca: /etc/smartlaunch/acme-ca.pem
  acme_cache: /var/lib/smartlaunch-acme
  acme_accept_tos: true
  http_redirect_addr: ":80"
production: true
`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := TLS{
		HTTPRedirectAddr: ":80",
		ACMEDomains:      []string{"smart.example.org", "fhir.example.org"},
		ACMEEmail:        "ops@example.org",
		ACMEDirectoryURL: "https://acme-staging-v02.api.letsencrypt.org/directory",
		ACMEDirectoryCA:  "/etc/smartlaunch/acme-ca.pem",
		ACMECache:        "/var/lib/smartlaunch-acme",
		ACMEAcceptTOS:    true,
	}
	if diff := cmp.Diff(want, f.TLS); diff != "" {
		t.Errorf("tls (-want +got):\n%s", diff)
	}
}

func TestParseACMEBad(t *testing.T) {
	const acme = "version: 1\ntls:\n  acme_accept_tos: true\n  acme_domains: [smart.example.org]\n"
	tests := []struct {
		name string
		file string
		want []string // every problem, in order
	}{
		{"ACME settings without domains", "version: 1\ntls:\n  acme_email: ops@example.org\n  acme_directory_url: https://ca.example.org/dir\n  acme_directory_ca: ca.pem\n  acme_cache: /acme\n", []string{
			"tls.acme_email: needs tls.acme_domains",
			"tls.acme_directory_url: needs tls.acme_domains",
			"tls.acme_directory_ca: needs tls.acme_domains",
			"tls.acme_cache: needs tls.acme_domains",
		}},
		{"ACME and certificate files", acme + "  cert: c.pem\n  key: k.pem\n", []string{
			"tls.acme_domains and tls.cert: give one, not both (certificates come from ACME or from files)"}},
		{"ACME behind a proxy", acme + "  behind_tls_proxy: true\nserver:\n  base_url: https://smart.example.org\n", []string{
			"tls.acme_domains and tls.behind_tls_proxy: give one, not both (ACME needs the server to terminate TLS)"}},
		{"terms not accepted", "version: 1\ntls:\n  acme_domains: [smart.example.org]\n", []string{
			"tls.acme_accept_tos: must be true with tls.acme_domains (you agree to the ACME CA's terms of service)"}},
		{"bad domains", "version: 1\ntls:\n  acme_accept_tos: true\n  acme_domains: ['*.example.org', 10.0.0.1, localhost, 'https://smart.example.org', smart.example.org:443, Smart.Example.org]\n", []string{
			`tls.acme_domains: "*.example.org" is a wildcard, which needs the DNS-01 challenge (not supported): list each host name`,
			`tls.acme_domains: "10.0.0.1" is an IP address, not a host name`,
			`tls.acme_domains: "localhost" is not a fully qualified host name in lower case (no scheme, port or path; xn-- form for international names)`,
			`tls.acme_domains: "https://smart.example.org" is not a fully qualified host name in lower case (no scheme, port or path; xn-- form for international names)`,
			`tls.acme_domains: "smart.example.org:443" is not a fully qualified host name in lower case (no scheme, port or path; xn-- form for international names)`,
			`tls.acme_domains: "Smart.Example.org" is not a fully qualified host name in lower case (no scheme, port or path; xn-- form for international names)`,
		}},
		{"plain HTTP directory", acme + "  acme_directory_url: http://ca.example.org/dir\n", []string{
			`tls.acme_directory_url: "http://ca.example.org/dir" is not an absolute https:// URL`}},
		{"bad email", acme + "  acme_email: Ops <ops@example.org>\n", []string{
			`tls.acme_email: "Ops <ops@example.org>" is not a plain email address (such as ops@example.org)`}},
		{"base URL on another host", acme + "server:\n  base_url: https://other.example.org\n", []string{
			`server.base_url: host "other.example.org" is not one of tls.acme_domains (no certificate would name it)`}},
		{"http base URL", acme + "server:\n  base_url: http://smart.example.org\n", []string{
			"server.base_url: must be https:// when serving TLS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.file))
			var p Problems
			if !errors.As(err, &p) {
				t.Fatalf("Parse = %v, %v; want Problems", f, err)
			}
			if diff := cmp.Diff(tt.want, []string(p)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}

	// ACME alone satisfies production and the redirect listener.
	if _, err := Parse([]byte(acme + "  http_redirect_addr: \":80\"\nproduction: true\n")); err != nil {
		t.Errorf("production with ACME: %v", err)
	}
}

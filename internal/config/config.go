package config

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
)

// Version is the only file version this package reads.
const Version = 1

// File is one configuration file. Its zero value is not useful; start from
// Defaults, which holds the zero-config (demo) values.
type File struct {
	Version             int          `yaml:"version"`
	Server              Server       `yaml:"server"`
	Data                Data         `yaml:"data"`
	Database            Database     `yaml:"database"`
	TLS                 TLS          `yaml:"tls"`
	Production          bool         `yaml:"production"`
	Tokens              Tokens       `yaml:"tokens"`
	Registration        Registration `yaml:"registration"`
	Reminders           Reminders    `yaml:"reminders"`
	SMTP                SMTP         `yaml:"smtp"`
	FHIRUpstream        FHIRUpstream `yaml:"fhir_upstream"`
	RateLimits          RateLimits   `yaml:"rate_limits"`
	Keys                Keys         `yaml:"keys"`
	AllowPrivateJWKSURI bool         `yaml:"allow_private_jwks_uri"`
	UnexplainableScopes string       `yaml:"unexplainable_scopes"`
	Migrate             string       `yaml:"migrate"`
}

// Server is where and how the server listens and logs.
type Server struct {
	Addr      string `yaml:"addr"`
	BaseURL   string `yaml:"base_url"`
	LogLevel  string `yaml:"log_level"`
	LogFormat string `yaml:"log_format"`
	// TrustedProxies are the CIDR prefixes or addresses of reverse proxies
	// whose X-Forwarded-For names the client; empty ignores the header.
	TrustedProxies []string `yaml:"trusted_proxies,omitempty"`
}

// Data is the embedded store's directory and how long usage counts stay.
type Data struct {
	Dir             string        `yaml:"dir"`
	AccessRetention time.Duration `yaml:"access_retention"`
}

// Database names a PostgreSQL DSN (it usually holds a password); with
// neither field set, the SQLite store in Data.Dir is used.
type Database struct {
	URLFile string `yaml:"url_file"`
	URLEnv  string `yaml:"url_env"`
}

// TLS is HTTPS served by smartlaunch itself, with a certificate from files
// or from an ACME CA (RFC 8555), or by a proxy in front.
type TLS struct {
	Cert             string `yaml:"cert"`
	Key              string `yaml:"key"`
	HTTPRedirectAddr string `yaml:"http_redirect_addr"`
	BehindTLSProxy   bool   `yaml:"behind_tls_proxy"`
	// ACMEDomains are the public host names certificates are requested
	// for; setting any turns ACME on.
	ACMEDomains      []string `yaml:"acme_domains,omitempty"`
	ACMEEmail        string   `yaml:"acme_email"`
	ACMEDirectoryURL string   `yaml:"acme_directory_url"`
	// ACMEDirectoryCA is a PEM file of CA certificates trusted for the
	// ACME directory's HTTPS (a private ACME CA); empty for the system's.
	ACMEDirectoryCA string `yaml:"acme_directory_ca"`
	// ACMECache holds the ACME account key and the certificates with
	// their private keys; empty for acme under Data.Dir.
	ACMECache     string `yaml:"acme_cache"`
	ACMEAcceptTOS bool   `yaml:"acme_accept_tos"`
}

// Tokens are the lifetimes of tokens and authorizations.
type Tokens struct {
	AccessTokenTTL  time.Duration `yaml:"access_token_ttl"`
	RefreshIdleTTL  time.Duration `yaml:"refresh_idle_ttl"`
	OfflineLifetime time.Duration `yaml:"offline_lifetime"`
	OnlineLifetime  time.Duration `yaml:"online_lifetime"`
}

// Registration names the initial access token that turns on dynamic
// client registration (RFC 7591).
type Registration struct {
	TokenFile string `yaml:"token_file"`
	TokenEnv  string `yaml:"token_env"`
}

// Reminders is how often people are reminded of apps with offline access.
type Reminders struct {
	ReviewEvery  time.Duration `yaml:"review_every"`
	DormantAfter time.Duration `yaml:"dormant_after"`
}

// SMTP is the mail server for reminder digests; an empty Addr sends none.
type SMTP struct {
	Addr         string `yaml:"addr"`
	From         string `yaml:"from"`
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	PasswordEnv  string `yaml:"password_env"`
}

// FHIRUpstream is proxy mode: /fhir served in front of another FHIR R4
// server. An empty URL serves the embedded store.
type FHIRUpstream struct {
	URL              string        `yaml:"url"`
	BearerFile       string        `yaml:"bearer_file"`
	BearerEnv        string        `yaml:"bearer_env"`
	TokenURL         string        `yaml:"token_url"`
	ClientID         string        `yaml:"client_id"`
	ClientSecretFile string        `yaml:"client_secret_file"`
	ClientSecretEnv  string        `yaml:"client_secret_env"`
	Scopes           string        `yaml:"scopes"`
	Timeout          time.Duration `yaml:"timeout"`
}

// RateLimits bound failed sign-ins (every password form, counted
// together) and token-endpoint requests. A sign-in limit of 0 failures is
// off; so is a TokenRate of 0, the default.
type RateLimits struct {
	SignInPerAccountIP      int           `yaml:"signin_per_account_ip"`
	SignInPerIP             int           `yaml:"signin_per_ip"`
	SignInPerAccount        int           `yaml:"signin_per_account"`
	SignInWindow            time.Duration `yaml:"signin_window"`
	SignInLockout           time.Duration `yaml:"signin_lockout"`
	SignInLockoutPerAccount time.Duration `yaml:"signin_lockout_per_account"`
	// TokenRate is token-endpoint requests per second per client.
	TokenRate  float64 `yaml:"token_rate"`
	TokenBurst int     `yaml:"token_burst"`
}

// Keys is the schedule of the server's signing keys and the secret that
// encrypts them at rest (with neither file nor env, they are stored in the
// clear).
type Keys struct {
	// RotateEvery is how long a key signs before the next replaces it;
	// 0 turns scheduled rotation off.
	RotateEvery time.Duration `yaml:"rotate_every"`
	// PublishAhead is how long the next key is in the JWKS before it signs.
	PublishAhead      time.Duration `yaml:"publish_ahead"`
	EncryptionKeyFile string        `yaml:"encryption_key_file"`
	EncryptionKeyEnv  string        `yaml:"encryption_key_env"`
}

// Defaults returns the zero-config values: the demo on 127.0.0.1:8080
// with its state in ./smartlaunch-data. They are serve's flag defaults.
func Defaults() *File {
	const day = 24 * time.Hour
	signIn := ratelimit.DefaultSignInLimits
	return &File{
		Version: Version,
		Server:  Server{Addr: "127.0.0.1:8080", LogLevel: "info", LogFormat: "text"},
		Data:    Data{Dir: "./smartlaunch-data", AccessRetention: 90 * day},
		Tokens: Tokens{AccessTokenTTL: time.Hour, RefreshIdleTTL: 30 * day,
			OfflineLifetime: 180 * day, OnlineLifetime: 12 * time.Hour},
		Reminders:           Reminders{ReviewEvery: 182 * day, DormantAfter: 90 * day},
		TLS:                 TLS{ACMEDirectoryURL: LetsEncryptDirectoryURL},
		FHIRUpstream:        FHIRUpstream{Timeout: 30 * time.Second},
		UnexplainableScopes: "warn",
		Migrate:             "auto",
		Keys:                Keys{RotateEvery: 90 * day, PublishAhead: day},
		RateLimits: RateLimits{
			SignInPerAccountIP: signIn.PerAccountIP.Failures, SignInPerIP: signIn.PerIP.Failures,
			SignInPerAccount: signIn.PerAccount.Failures, SignInWindow: signIn.PerAccountIP.Window,
			SignInLockout: signIn.PerAccountIP.Lockout, SignInLockoutPerAccount: signIn.PerAccount.Lockout,
			TokenBurst: 10,
		},
	}
}

// Problems is every problem found in a configuration file, one a line.
type Problems []string

// Error joins the problems, one a line.
func (p Problems) Error() string { return strings.Join(p, "\n") }

// Load reads the file at path over Defaults and validates it. A file that
// cannot be read is an ordinary error; a file that can is either valid or
// reported with all its Problems (a [Problems] error), each prefixed with
// the path.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(b)
	var p Problems
	if errors.As(err, &p) {
		for i := range p {
			p[i] = path + ": " + p[i]
		}
		return nil, p
	}
	return f, err
}

// Parse decodes a configuration file over Defaults and validates it,
// returning every problem at once as [Problems].
func Parse(b []byte) (*File, error) {
	f := Defaults()
	f.Version = 0 // a file must say which version it is
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var p Problems
	err := dec.Decode(f)
	var te *yaml.TypeError
	switch {
	case err == nil, errors.Is(err, io.EOF):
	case errors.As(err, &te):
		for _, e := range te.Errors {
			p = append(p, decodeProblem(e))
		}
	default:
		// A syntax error stops the decoder: nothing else can be trusted.
		return nil, Problems{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if err := f.Validate(); err != nil {
		p = append(p, err.(Problems)...)
	}
	if len(p) > 0 {
		return nil, p
	}
	return f, nil
}

// decodeProblem words one of the YAML decoder's type errors for people:
// "line 3: field foo not found in type config.Server" becomes
// "line 3: unknown key foo".
func decodeProblem(e string) string {
	if before, rest, ok := strings.Cut(e, ": field "); ok {
		if key, _, ok := strings.Cut(rest, " not found in type "); ok {
			return before + ": unknown key " + key
		}
	}
	return strings.Replace(e, "time.Duration", "a duration (such as 90s, 12h)", 1)
}

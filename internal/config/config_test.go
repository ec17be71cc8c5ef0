package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// good is a file that sets every setting.
const good = `version: 1
server:
  addr: ":8443"
  base_url: https://smart.example.org
  log_level: debug
  log_format: json
  trusted_proxies: [10.0.0.0/8, 192.0.2.7]
data:
  dir: /var/lib/smartlaunch
  access_retention: 720h
database:
  url_file: /run/secrets/dsn
tls:
  cert: /etc/smartlaunch/tls.crt
  key: /etc/smartlaunch/tls.key
  http_redirect_addr: ":80"
production: true
tokens:
  access_token_ttl: 15m
  refresh_idle_ttl: 240h
  offline_lifetime: 2160h
  online_lifetime: 8h
registration:
  token_env: REG_TOKEN
reminders:
  review_every: 2160h
  dormant_after: 720h
smtp:
  addr: mail.example.org:587
  from: Health Record <no-reply@example.org>
  username: smartlaunch
  password_file: /run/secrets/smtp
fhir_upstream:
  url: https://fhir.example.org/r4
  token_url: https://fhir.example.org/token
  client_id: smartlaunch
  client_secret_env: UPSTREAM_SECRET
  scopes: system/*.rs
  timeout: 10s
rate_limits:
  signin_per_account_ip: 3
  signin_per_ip: 0
  signin_per_account: 10
  signin_window: 10m
  signin_lockout: 20m
  signin_lockout_per_account: 2m
  token_rate: 2.5
  token_burst: 5
keys:
  rotate_every: 720h
  publish_ahead: 12h
  encryption_key_file: /run/secrets/kek
allow_private_jwks_uri: true
unexplainable_scopes: refuse
migrate: "off"
`

func TestParseGood(t *testing.T) {
	f, err := Parse([]byte(good))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &File{
		Version:    1,
		Server:     Server{Addr: ":8443", BaseURL: "https://smart.example.org", LogLevel: "debug", LogFormat: "json", TrustedProxies: []string{"10.0.0.0/8", "192.0.2.7"}},
		Data:       Data{Dir: "/var/lib/smartlaunch", AccessRetention: 720 * time.Hour},
		Database:   Database{URLFile: "/run/secrets/dsn"},
		TLS:        TLS{Cert: "/etc/smartlaunch/tls.crt", Key: "/etc/smartlaunch/tls.key", HTTPRedirectAddr: ":80", ACMEDirectoryURL: LetsEncryptDirectoryURL},
		Production: true,
		Tokens: Tokens{AccessTokenTTL: 15 * time.Minute, RefreshIdleTTL: 240 * time.Hour,
			OfflineLifetime: 2160 * time.Hour, OnlineLifetime: 8 * time.Hour},
		Registration: Registration{TokenEnv: "REG_TOKEN"},
		Reminders:    Reminders{ReviewEvery: 2160 * time.Hour, DormantAfter: 720 * time.Hour},
		SMTP: SMTP{Addr: "mail.example.org:587", From: "Health Record <no-reply@example.org>",
			Username: "smartlaunch", PasswordFile: "/run/secrets/smtp"},
		FHIRUpstream: FHIRUpstream{URL: "https://fhir.example.org/r4", TokenURL: "https://fhir.example.org/token",
			ClientID: "smartlaunch", ClientSecretEnv: "UPSTREAM_SECRET", Scopes: "system/*.rs", Timeout: 10 * time.Second},
		AllowPrivateJWKSURI: true,
		UnexplainableScopes: "refuse",
		Migrate:             "off",
		Keys:                Keys{RotateEvery: 720 * time.Hour, PublishAhead: 12 * time.Hour, EncryptionKeyFile: "/run/secrets/kek"},
		RateLimits: RateLimits{SignInPerAccountIP: 3, SignInPerIP: 0, SignInPerAccount: 10, SignInWindow: 10 * time.Minute,
			SignInLockout: 20 * time.Minute, SignInLockoutPerAccount: 2 * time.Minute, TokenRate: 2.5, TokenBurst: 5},
	}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}

	// Round trip: what is written back reads the same.
	b, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse(Marshal(f)): %v\n%s", err, b)
	}
	if diff := cmp.Diff(f, again); diff != "" {
		t.Errorf("round trip (-first +second):\n%s", diff)
	}
}

// TestParseMinimal: a file with only its version is the zero-config demo.
func TestParseMinimal(t *testing.T) {
	f, err := Parse([]byte("version: 1\n"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if diff := cmp.Diff(Defaults(), f); diff != "" {
		t.Errorf("Parse (-Defaults +got):\n%s", diff)
	}
	if err := Defaults().Validate(); err != nil {
		t.Errorf("Defaults().Validate() = %v", err)
	}
}

func TestParseBad(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string // every problem, in order
	}{
		{"empty file", "", []string{"version: missing (want version: 1)"}},
		{"version missing", "server:\n  addr: :80\n", []string{"version: missing (want version: 1)"}},
		{"version 2", "version: 2\n", []string{"version: 2 is not supported (want 1)"}},
		{"unknown key", "version: 1\nserver:\n  adress: :80\n", []string{"line 3: unknown key adress"}},
		{"unknown top-level key", "version: 1\nlisten: :80\n", []string{"line 2: unknown key listen"}},
		{"inline secret refused", "version: 1\nregistration:\n  token: s3cret\n", []string{"line 3: unknown key token"}},
		{"bad duration", "version: 1\ntokens:\n  access_token_ttl: 1 hour\n",
			[]string{"line 3: cannot unmarshal !!str `1 hour` into a duration (such as 90s, 12h)"}},
		{"number as duration", "version: 1\ntokens:\n  online_lifetime: 3600\n",
			[]string{"line 3: cannot unmarshal !!int `3600` into a duration (such as 90s, 12h)"}},
		{"too short", "version: 1\ntokens:\n  access_token_ttl: 10ms\n",
			[]string{"tokens.access_token_ttl: 10ms is shorter than 1s"}},
		{"both file and env", "version: 1\nsmtp:\n  addr: m:25\n  from: a@b\n  password_file: /p\n  password_env: P\n",
			[]string{"smtp.password_file and smtp.password_env: give one, not both"}},
		{"bad enums", "version: 1\nmigrate: sometimes\nunexplainable_scopes: ignore\nserver:\n  log_format: xml\n", []string{
			`server.log_format: "xml" is not text or json`,
			`unexplainable_scopes: "ignore" is not warn or refuse`,
			`migrate: "sometimes" is not auto or off`,
		}},
		{"bad rate limits", `version: 1
server:
  trusted_proxies: [10.0.0.0/33, proxy.internal, 192.0.2.7]
rate_limits:
  signin_per_ip: -1
  signin_lockout: 0s
  token_rate: -1
  token_burst: 0
`, []string{
			"rate_limits.signin_per_ip: -1 is negative (0 turns the limit off)",
			"rate_limits.signin_lockout: 0s is shorter than 1s",
			"rate_limits.token_rate: -1 is not a number of requests per second, 0 or more",
			"rate_limits.token_burst: 0 is less than 1",
			`server.trusted_proxies: "10.0.0.0/33" is not an address or CIDR prefix`,
			`server.trusted_proxies: "proxy.internal" is not an address or CIDR prefix`,
		}},
		{"bad key schedule", "version: 1\nkeys:\n  rotate_every: 24h\n  publish_ahead: 24h\n  encryption_key_file: /k\n  encryption_key_env: K\n",
			[]string{"keys.encryption_key_file and keys.encryption_key_env: give one, not both",
				"keys.publish_ahead: 24h0m0s is not shorter than keys.rotate_every (24h0m0s)"}},
		{"negative key rotation", "version: 1\nkeys:\n  rotate_every: -1h\n  publish_ahead: 0s\n", []string{
			"keys.publish_ahead: 0s is shorter than 1s",
			"keys.rotate_every: -1h0m0s is negative (0 turns scheduled rotation off)"}},
		{"key rotation off", "version: 1\nkeys:\n  rotate_every: 0s\n  encryption_key_env: \"NOT A NAME\"\n", []string{
			`keys.encryption_key_env: "NOT A NAME" is not an environment variable name`}},
		{"cert without key", "version: 1\ntls:\n  cert: c.pem\n", []string{"tls.cert and tls.key: give both or neither"}},
		{"production without TLS", "version: 1\nproduction: true\n", []string{
			"production: refuses to serve without TLS: set tls.cert and tls.key, tls.acme_domains, or tls.behind_tls_proxy with an https:// server.base_url"}},
		{"syntax error", "version: 1\n  server: [\n", []string{"line 2: mapping values are not allowed in this context"}},
		{"every problem at once", `server:
  log_level: loud
  base_url: ftp://example.org
tokens:
  refresh_idle_ttl: soon
database:
  url_file: /run/dsn
  url_env: DSN
colour: blue
production: true
`, []string{
			"line 5: cannot unmarshal !!str `soon` into a duration (such as 90s, 12h)",
			"line 9: unknown key colour",
			"version: missing (want version: 1)",
			`server.log_level: "loud" is not debug, info, warn or error`,
			`server.base_url: "ftp://example.org" is not an absolute http(s) URL without query or fragment`,
			"database.url_file and database.url_env: give one, not both",
			"production: refuses to serve without TLS: set tls.cert and tls.key, tls.acme_domains, or tls.behind_tls_proxy with an https:// server.base_url",
		}},
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
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(ok, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("version: 1\nfoo: 1\nbar: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ok); err != nil {
		t.Errorf("Load(good) = %v", err)
	}
	_, err := Load(bad)
	want := bad + ": line 2: unknown key foo\n" + bad + ": line 3: unknown key bar"
	if err == nil || err.Error() != want {
		t.Errorf("Load(bad) = %v, want\n%s", err, want)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || errors.As(err, new(Problems)) {
		t.Errorf("Load(missing) = %v, want a plain error", err)
	}
}

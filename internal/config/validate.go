package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Validate reports every problem of f at once, as [Problems], or nil.
// Settings are named by their YAML path, such as tokens.access_token_ttl.
func (f *File) Validate() error {
	var p Problems
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	https := f.checkPlain(add)
	f.checkDurations(add)
	f.checkSecrets(add)
	f.checkTogether(add, https)
	f.checkLimits(add)
	f.checkACME(add)
	if len(p) == 0 {
		return nil
	}
	return p
}

// adder records one problem.
type adder func(format string, args ...any)

// checkPlain checks the version, the enumerations and the base URL, and
// reports whether the base URL is https.
func (f *File) checkPlain(add adder) (https bool) {
	switch f.Version {
	case Version:
	case 0:
		add("version: missing (want version: %d)", Version)
	default:
		add("version: %d is not supported (want %d)", f.Version, Version)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(f.Server.LogLevel)); err != nil {
		add("server.log_level: %q is not debug, info, warn or error", f.Server.LogLevel)
	}
	oneOf := func(key, v string, allowed ...string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		add("%s: %q is not %s", key, v, strings.Join(allowed, " or "))
	}
	oneOf("server.log_format", f.Server.LogFormat, "text", "json")
	oneOf("unexplainable_scopes", f.UnexplainableScopes, "warn", "refuse")
	oneOf("migrate", f.Migrate, "auto", "off")
	if f.Server.Addr == "" {
		add("server.addr: empty")
	}
	if f.Data.Dir == "" {
		add("data.dir: empty")
	}

	if f.Server.BaseURL != "" {
		u, err := url.Parse(f.Server.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			add("server.base_url: %q is not an absolute http(s) URL without query or fragment", f.Server.BaseURL)
		} else {
			https = u.Scheme == "https"
		}
	}
	return https
}

// checkDurations checks that every duration is at least a second.
func (f *File) checkDurations(add adder) {
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"data.access_retention", f.Data.AccessRetention},
		{"tokens.access_token_ttl", f.Tokens.AccessTokenTTL},
		{"tokens.refresh_idle_ttl", f.Tokens.RefreshIdleTTL},
		{"tokens.offline_lifetime", f.Tokens.OfflineLifetime},
		{"tokens.online_lifetime", f.Tokens.OnlineLifetime},
		{"reminders.review_every", f.Reminders.ReviewEvery},
		{"reminders.dormant_after", f.Reminders.DormantAfter},
		{"fhir_upstream.timeout", f.FHIRUpstream.Timeout},
		{"keys.publish_ahead", f.Keys.PublishAhead},
	} {
		if d.v < time.Second {
			add("%s: %v is shorter than 1s", d.key, d.v)
		}
	}
}

// checkSecrets checks that each secret is named at most once.
func (f *File) checkSecrets(add adder) {
	for _, s := range []struct{ key, file, env string }{
		{"database.url", f.Database.URLFile, f.Database.URLEnv},
		{"registration.token", f.Registration.TokenFile, f.Registration.TokenEnv},
		{"smtp.password", f.SMTP.PasswordFile, f.SMTP.PasswordEnv},
		{"fhir_upstream.bearer", f.FHIRUpstream.BearerFile, f.FHIRUpstream.BearerEnv},
		{"fhir_upstream.client_secret", f.FHIRUpstream.ClientSecretFile, f.FHIRUpstream.ClientSecretEnv},
		{"keys.encryption_key", f.Keys.EncryptionKeyFile, f.Keys.EncryptionKeyEnv},
	} {
		if s.file != "" && s.env != "" {
			add("%s_file and %s_env: give one, not both", s.key, s.key)
		}
		if strings.ContainsAny(s.env, "= \t") {
			add("%s_env: %q is not an environment variable name", s.key, s.env)
		}
	}
}

// checkTogether checks settings that need or exclude others.
func (f *File) checkTogether(add adder, https bool) {
	fileTLS := f.TLS.Cert != ""
	if fileTLS != (f.TLS.Key != "") {
		add("tls.cert and tls.key: give both or neither")
	}
	tlsOn := fileTLS || len(f.TLS.ACMEDomains) > 0
	if f.TLS.BehindTLSProxy && !https {
		add("tls.behind_tls_proxy: needs an https:// server.base_url (the address clients reach through the proxy)")
	}
	if f.Production && !tlsOn && !f.TLS.BehindTLSProxy {
		add("production: refuses to serve without TLS: set tls.cert and tls.key, tls.acme_domains, or tls.behind_tls_proxy with an https:// server.base_url")
	}
	if tlsOn && f.Server.BaseURL != "" && !https {
		add("server.base_url: must be https:// when serving TLS")
	}
	if f.TLS.HTTPRedirectAddr != "" && !tlsOn && !https {
		add("tls.http_redirect_addr: needs TLS (tls.cert and tls.key, or tls.acme_domains) or an https:// server.base_url")
	}

	switch k := f.Keys; {
	case k.RotateEvery < 0:
		add("keys.rotate_every: %v is negative (0 turns scheduled rotation off)", k.RotateEvery)
	case k.RotateEvery > 0 && k.PublishAhead >= k.RotateEvery:
		add("keys.publish_ahead: %v is not shorter than keys.rotate_every (%v)", k.PublishAhead, k.RotateEvery)
	}

	if f.SMTP.Addr != "" && f.SMTP.From == "" {
		add("smtp.from: required with smtp.addr")
	}
	up := f.FHIRUpstream
	if up.URL == "" && (up.BearerFile != "" || up.BearerEnv != "" || up.TokenURL != "" || up.ClientID != "") {
		add("fhir_upstream.url: required with the other fhir_upstream settings")
	}
}

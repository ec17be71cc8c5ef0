package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/smartlaunch/smartlaunch/internal/config"
)

// configFlag is one setting of a configuration file and the serve flag
// it stands for.
type configFlag struct {
	flag  string
	value func(*config.File) string
}

// configFlags maps each plain setting of a configuration file to its
// serve flag. Secrets named by environment variable are not flags;
// configSecretEnvs wires those.
func configFlags() []configFlag {
	return []configFlag{
		{"addr", func(f *config.File) string { return f.Server.Addr }},
		{"base-url", func(f *config.File) string { return f.Server.BaseURL }},
		{"log-level", func(f *config.File) string { return f.Server.LogLevel }},
		{"log-format", func(f *config.File) string { return f.Server.LogFormat }},
		{"data", func(f *config.File) string { return f.Data.Dir }},
		{"access-retention", func(f *config.File) string { return f.Data.AccessRetention.String() }},
		{"tls-cert", func(f *config.File) string { return f.TLS.Cert }},
		{"tls-key", func(f *config.File) string { return f.TLS.Key }},
		{"http-redirect-addr", func(f *config.File) string { return f.TLS.HTTPRedirectAddr }},
		{"behind-tls-proxy", func(f *config.File) string { return strconv.FormatBool(f.TLS.BehindTLSProxy) }},
		{"acme-domain", func(f *config.File) string { return strings.Join(f.TLS.ACMEDomains, ",") }},
		{"acme-email", func(f *config.File) string { return f.TLS.ACMEEmail }},
		{"acme-directory-url", func(f *config.File) string { return f.TLS.ACMEDirectoryURL }},
		{"acme-directory-ca", func(f *config.File) string { return f.TLS.ACMEDirectoryCA }},
		{"acme-cache", func(f *config.File) string { return f.TLS.ACMECache }},
		{"acme-accept-tos", func(f *config.File) string { return strconv.FormatBool(f.TLS.ACMEAcceptTOS) }},
		{"production", func(f *config.File) string { return strconv.FormatBool(f.Production) }},
		{"access-token-ttl", func(f *config.File) string { return f.Tokens.AccessTokenTTL.String() }},
		{"refresh-idle-ttl", func(f *config.File) string { return f.Tokens.RefreshIdleTTL.String() }},
		{"offline-lifetime", func(f *config.File) string { return f.Tokens.OfflineLifetime.String() }},
		{"online-lifetime", func(f *config.File) string { return f.Tokens.OnlineLifetime.String() }},
		{"registration-token-file", func(f *config.File) string { return f.Registration.TokenFile }},
		{"reminder-review-every", func(f *config.File) string { return f.Reminders.ReviewEvery.String() }},
		{"reminder-dormant-after", func(f *config.File) string { return f.Reminders.DormantAfter.String() }},
		{"smtp-addr", func(f *config.File) string { return f.SMTP.Addr }},
		{"smtp-from", func(f *config.File) string { return f.SMTP.From }},
		{"smtp-username", func(f *config.File) string { return f.SMTP.Username }},
		{"smtp-password-file", func(f *config.File) string { return f.SMTP.PasswordFile }},
		{"fhir-upstream", func(f *config.File) string { return f.FHIRUpstream.URL }},
		{"fhir-upstream-bearer-file", func(f *config.File) string { return f.FHIRUpstream.BearerFile }},
		{"fhir-upstream-token-url", func(f *config.File) string { return f.FHIRUpstream.TokenURL }},
		{"fhir-upstream-client-id", func(f *config.File) string { return f.FHIRUpstream.ClientID }},
		{"fhir-upstream-client-secret-file", func(f *config.File) string { return f.FHIRUpstream.ClientSecretFile }},
		{"fhir-upstream-scopes", func(f *config.File) string { return f.FHIRUpstream.Scopes }},
		{"fhir-upstream-timeout", func(f *config.File) string { return f.FHIRUpstream.Timeout.String() }},
		{"allow-private-jwks-uri", func(f *config.File) string { return strconv.FormatBool(f.AllowPrivateJWKSURI) }},
		{"unexplainable-scopes", func(f *config.File) string { return f.UnexplainableScopes }},
		{"migrate", func(f *config.File) string { return f.Migrate }},
		{"key-rotation-every", func(f *config.File) string { return f.Keys.RotateEvery.String() }},
		{"key-publish-ahead", func(f *config.File) string { return f.Keys.PublishAhead.String() }},
		{"key-encryption-key-file", func(f *config.File) string { return f.Keys.EncryptionKeyFile }},
		{"trusted-proxies", func(f *config.File) string { return strings.Join(f.Server.TrustedProxies, ",") }},
		{"signin-limit-per-account-ip", func(f *config.File) string { return strconv.Itoa(f.RateLimits.SignInPerAccountIP) }},
		{"signin-limit-per-ip", func(f *config.File) string { return strconv.Itoa(f.RateLimits.SignInPerIP) }},
		{"signin-limit-per-account", func(f *config.File) string { return strconv.Itoa(f.RateLimits.SignInPerAccount) }},
		{"signin-limit-window", func(f *config.File) string { return f.RateLimits.SignInWindow.String() }},
		{"signin-lockout", func(f *config.File) string { return f.RateLimits.SignInLockout.String() }},
		{"signin-lockout-per-account", func(f *config.File) string { return f.RateLimits.SignInLockoutPerAccount.String() }},
		{"token-rate-limit", func(f *config.File) string { return strconv.FormatFloat(f.RateLimits.TokenRate, 'g', -1, 64) }},
		{"token-rate-burst", func(f *config.File) string { return strconv.Itoa(f.RateLimits.TokenBurst) }},
	}
}

// configSecretEnvs are the secrets a configuration file may name by
// environment variable (the …_env keys), each with the variable serve
// itself reads and the flag naming a file instead.
func configSecretEnvs(f *config.File) []struct{ name, builtin, fileFlag string } {
	return []struct{ name, builtin, fileFlag string }{
		{f.Database.URLEnv, "SMARTLAUNCH_DATABASE_URL", ""},
		{f.Registration.TokenEnv, "SMARTLAUNCH_REGISTRATION_TOKEN", "registration-token-file"},
		{f.SMTP.PasswordEnv, "SMARTLAUNCH_SMTP_PASSWORD", "smtp-password-file"},
		{f.FHIRUpstream.BearerEnv, "SMARTLAUNCH_FHIR_UPSTREAM_BEARER", "fhir-upstream-bearer-file"},
		{f.FHIRUpstream.ClientSecretEnv, "SMARTLAUNCH_FHIR_UPSTREAM_CLIENT_SECRET", "fhir-upstream-client-secret-file"},
		{f.Keys.EncryptionKeyEnv, keyEncryptionEnv, "key-encryption-key-file"},
	}
}

// applyConfigFile loads the configuration file at path ("" for none) into
// serve's flag set: every setting becomes its flag's value, unless the
// flag was given on the command line, so the command line overrides the
// file and serve's own checks run unchanged.
//
// The database and the secrets named by environment variable reach serve
// through the SMARTLAUNCH_ variables it already reads; one already set in
// the environment, like a flag, overrides the file.
func applyConfigFile(fs *flag.FlagSet, path string) error {
	if path == "" {
		return nil
	}
	f, err := config.Load(path)
	if err != nil {
		return fmt.Errorf("serve: --config:\n%w", err)
	}
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	for _, c := range configFlags() {
		if given[c.flag] {
			continue
		}
		if err := fs.Set(c.flag, c.value(f)); err != nil {
			return fmt.Errorf("serve: --config: --%s: %w", c.flag, err)
		}
	}
	if f.Database.URLFile != "" && os.Getenv("SMARTLAUNCH_DATABASE_URL") == "" {
		if err := setenvUnlessSet("SMARTLAUNCH_DATABASE_URL_FILE", f.Database.URLFile); err != nil {
			return err
		}
	}
	for _, s := range configSecretEnvs(f) {
		if s.name == "" || s.name == s.builtin || given[s.fileFlag] {
			continue
		}
		if s.builtin == "SMARTLAUNCH_DATABASE_URL" && os.Getenv("SMARTLAUNCH_DATABASE_URL_FILE") != "" {
			continue
		}
		if err := setenvUnlessSet(s.builtin, os.Getenv(s.name)); err != nil {
			return err
		}
	}
	return nil
}

// setenvUnlessSet sets the environment variable key to v unless it
// already has a value.
func setenvUnlessSet(key, v string) error {
	if os.Getenv(key) != "" {
		return nil
	}
	return os.Setenv(key, v)
}

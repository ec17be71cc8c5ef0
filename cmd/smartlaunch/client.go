package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/oauth"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// defaultClientScope is what a new app may be granted unless --scope says.
const defaultClientScope = "openid fhirUser launch/patient offline_access online_access patient/*.rs"

// clientFlags are the registration flags shared by client add and update.
type clientFlags struct {
	fs                            *flag.FlagSet
	data, name, typ, scope        *string
	jwksFile, jwksURI, launchURL  *string
	accessTTL, idleTTL, offline   *time.Duration
	requireDPoP                   *bool
	logo, publisher, home, policy *string
	terms, conduct, conductURI    *string
	redirects                     stringsFlag
}

func newClientFlags(name string, stderr io.Writer) *clientFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &clientFlags{fs: fs}
	f.data = fs.String("data", defaultData, "data directory")
	f.name = fs.String("name", "", "the app's name, shown to users")
	f.typ = fs.String("type", "public", "client type: public, confidential-symmetric or confidential-asymmetric")
	f.scope = fs.String("scope", defaultClientScope, "space-separated scopes the app may be granted")
	f.jwksFile = fs.String("jwks", "", "file holding the app's public JSON Web Key Set (confidential-asymmetric)")
	f.jwksURI = fs.String("jwks-uri", "", "https URL of the app's public JSON Web Key Set (confidential-asymmetric)")
	f.launchURL = fs.String("launch-url", "", "the app's EHR launch URL")
	f.accessTTL = fs.Duration("access-token-ttl", 0, "access-token lifetime for this app, at most the server's (default: the server's)")
	f.idleTTL = fs.Duration("refresh-idle-ttl", 0, "how long an unused refresh token stays valid (default: the server's)")
	f.offline = fs.Duration("offline-lifetime", 0, "absolute lifetime of an offline authorization (default: the server's)")
	f.requireDPoP = fs.Bool("require-dpop", false, "require DPoP-bound access tokens (RFC 9449)")
	f.logo = fs.String("logo-uri", "", "https URL of the app's logo")
	f.publisher = fs.String("publisher", "", "who makes the app")
	f.home = fs.String("client-uri", "", "the app's home page")
	f.policy = fs.String("policy-uri", "", "the app's privacy policy")
	f.terms = fs.String("tos-uri", "", "the app's terms of service")
	f.conduct = fs.String("code-of-conduct", "", "a code of conduct the publisher attests to, such as the CARIN Alliance Code of Conduct")
	f.conductURI = fs.String("code-of-conduct-uri", "", "the code of conduct's text")
	fs.Var(&f.redirects, "redirect-uri", "an exact redirect URI (repeatable)")
	return f
}

// apply copies the flags the user set (all of them for a new client) onto c.
func (f *clientFlags) apply(c *store.Client, all bool) error {
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	use := func(name string) bool { return all || set[name] }
	if use("name") && *f.name != "" {
		c.Name = *f.name
	}
	if use("type") {
		c.Type = store.ClientType(*f.typ)
	}
	if use("scope") {
		c.Scope = *f.scope
	}
	if use("redirect-uri") {
		c.RedirectURIs = f.redirects
	}
	if set["jwks"] {
		b, err := os.ReadFile(*f.jwksFile)
		if err != nil {
			return fmt.Errorf("--jwks: %w", err)
		}
		c.JWKS, c.JWKSURI = string(b), ""
	}
	if set["jwks-uri"] {
		c.JWKSURI, c.JWKS = *f.jwksURI, ""
	}
	for _, m := range []struct {
		name     string
		dst, src *string
	}{
		{"launch-url", &c.LaunchURL, f.launchURL}, {"logo-uri", &c.Info.LogoURI, f.logo},
		{"publisher", &c.Info.Publisher, f.publisher}, {"client-uri", &c.Info.ClientURI, f.home},
		{"policy-uri", &c.Info.PolicyURI, f.policy}, {"tos-uri", &c.Info.TOSURI, f.terms},
		{"code-of-conduct", &c.Info.CodeOfConduct, f.conduct}, {"code-of-conduct-uri", &c.Info.CodeOfConductURI, f.conductURI},
	} {
		if use(m.name) {
			*m.dst = *m.src
		}
	}
	for name, d := range map[string]*time.Duration{"access-token-ttl": f.accessTTL, "refresh-idle-ttl": f.idleTTL, "offline-lifetime": f.offline} {
		if *d < 0 || (*d > 0 && *d < time.Second) {
			return fmt.Errorf("--%s must be at least 1s", name)
		}
	}
	if use("access-token-ttl") {
		c.AccessTokenTTL = *f.accessTTL
	}
	if use("refresh-idle-ttl") {
		c.RefreshIdleTTL = *f.idleTTL
	}
	if use("offline-lifetime") {
		c.OfflineLifetime = *f.offline
	}
	if use("require-dpop") {
		c.RequireDPoP = *f.requireDPoP
	}
	return nil
}

func clientAdd(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	f := newClientFlags("client add", stderr)
	id := f.fs.String("id", "", "client id (default: generated)")
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	if *id == "" {
		*id = randomString(16)
	}
	c := store.Client{ID: *id, Name: *id, CreatedAt: time.Now()}
	if err := f.apply(&c, true); err != nil {
		return fmt.Errorf("client add: %w", err)
	}
	if c.Type != store.ClientConfidentialAsymmetric && len(c.RedirectURIs) == 0 {
		return errors.New("client add: at least one --redirect-uri is required")
	}
	out := secretOutput{ClientID: c.ID}
	if c.Type == store.ClientConfidentialSymmetric {
		out.ClientSecret = randomString(32)
		c.SecretHash = store.Hash(out.ClientSecret)
	}
	if err := oauth.CheckClient(c); err != nil {
		return fmt.Errorf("client add: %w", err)
	}
	st, err := openStore(ctx, *f.data)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.CreateClient(ctx, c); err != nil {
		return fmt.Errorf("client add: %w", err)
	}
	recordAudit(ctx, st, store.AuditEvent{Type: audit.ClientRegistered, ClientID: c.ID, Detail: "cli"})
	return json.NewEncoder(stdout).Encode(out)
}

// secretOutput is what add and rotate-secret print: the secret, once.
type secretOutput struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
}

func clientUpdate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	f := newClientFlags("client update", stderr)
	id := f.fs.String("id", "", "the client to change (required)")
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	st, c, err := loadClient(ctx, *f.data, *id)
	if err != nil {
		return fmt.Errorf("client update: %w", err)
	}
	defer st.Close()
	if err := f.apply(&c, false); err != nil {
		return fmt.Errorf("client update: %w", err)
	}
	if err := oauth.CheckClient(c); err != nil {
		return fmt.Errorf("client update: %w", err)
	}
	if err := st.UpdateClient(ctx, c); err != nil {
		return fmt.Errorf("client update: %w", err)
	}
	recordAudit(ctx, st, store.AuditEvent{Type: audit.ClientChanged, ClientID: c.ID, Detail: "updated"})
	return printClient(stdout, c)
}

func clientShow(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("client show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", defaultData, "data directory")
	id := fs.String("id", "", "the client (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, c, err := loadClient(ctx, *data, *id)
	if err != nil {
		return fmt.Errorf("client show: %w", err)
	}
	defer st.Close()
	return printClient(stdout, c)
}

func clientRemove(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("client remove", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", defaultData, "data directory")
	id := fs.String("id", "", "the client (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, _, err := loadClient(ctx, *data, *id)
	if err != nil {
		return fmt.Errorf("client remove: %w", err)
	}
	defer st.Close()
	if err := st.DeleteClient(ctx, *id); err != nil {
		return fmt.Errorf("client remove: %w", err)
	}
	recordAudit(ctx, st, store.AuditEvent{Type: audit.ClientChanged, ClientID: *id, Detail: "removed"})
	fmt.Fprintf(stdout, "removed %s\n", *id)
	return nil
}

// clientRotateSecret gives a confidential-symmetric client a new secret;
// the old one keeps working for the overlap period, so the app can be
// redeployed without downtime.
func clientRotateSecret(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("client rotate-secret", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", defaultData, "data directory")
	id := fs.String("id", "", "the client (required)")
	overlap := fs.Duration("overlap", 24*time.Hour, "how long the old secret keeps working (0 ends it now)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, c, err := loadClient(ctx, *data, *id)
	if err != nil {
		return fmt.Errorf("client rotate-secret: %w", err)
	}
	defer st.Close()
	if c.Type != store.ClientConfidentialSymmetric {
		return errors.New("client rotate-secret: only confidential-symmetric clients have secrets")
	}
	if *overlap < 0 {
		return errors.New("client rotate-secret: --overlap cannot be negative")
	}
	out := secretOutput{ClientID: c.ID, ClientSecret: randomString(32)}
	c.PreviousSecretHash, c.PreviousSecretExpiresAt = c.SecretHash, time.Now().Add(*overlap)
	c.SecretHash = store.Hash(out.ClientSecret)
	if *overlap == 0 {
		c.PreviousSecretHash, c.PreviousSecretExpiresAt = "", time.Time{}
	}
	if err := st.UpdateClient(ctx, c); err != nil {
		return fmt.Errorf("client rotate-secret: %w", err)
	}
	recordAudit(ctx, st, store.AuditEvent{Type: audit.ClientChanged, ClientID: c.ID, Detail: "secret_rotated"})
	return json.NewEncoder(stdout).Encode(out)
}

func clientList(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("client list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", defaultData, "data directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	cs, err := st.ListClients(ctx)
	if err != nil {
		return fmt.Errorf("client list: %w", err)
	}
	for _, c := range cs {
		if err := printClient(stdout, c); err != nil {
			return err
		}
	}
	return nil
}

func loadClient(ctx context.Context, data, id string) (interface {
	store.Clients
	store.AuditEvents
	Close() error
}, store.Client, error) {
	if id == "" {
		return nil, store.Client{}, errors.New("--id is required")
	}
	st, err := openStore(ctx, data)
	if err != nil {
		return nil, store.Client{}, err
	}
	c, err := st.GetClient(ctx, id)
	if err != nil {
		st.Close()
		return nil, store.Client{}, err
	}
	return st, c, nil
}

// printClient prints a client as one JSON object, without secrets.
func printClient(w io.Writer, c store.Client) error {
	return json.NewEncoder(w).Encode(map[string]any{
		"client_id": c.ID, "name": c.Name, "type": c.Type, "redirect_uris": c.RedirectURIs, "scope": c.Scope,
		"jwks_uri": c.JWKSURI, "has_jwks": c.JWKS != "", "launch_url": c.LaunchURL, "info": c.Info,
		"require_dpop": c.RequireDPoP, "access_token_ttl": c.AccessTokenTTL.String(),
		"refresh_idle_ttl": c.RefreshIdleTTL.String(), "offline_lifetime": c.OfflineLifetime.String(),
		"previous_secret_valid_until": c.PreviousSecretExpiresAt,
	})
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/oauth"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// defaultClientScope is what a new app may be granted unless --scope says.
const defaultClientScope = "openid fhirUser launch/patient offline_access online_access patient/*.rs"

func clientAdd(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("client add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", defaultData, "data directory")
	id := fs.String("id", "", "client id (default: generated)")
	name := fs.String("name", "", "the app's name, shown to users")
	typ := fs.String("type", "public", "client type: public or confidential-symmetric")
	scope := fs.String("scope", defaultClientScope, "space-separated scopes the app may be granted")
	accessTTL := fs.Duration("access-token-ttl", 0, "access-token lifetime for this app, at most the server's (default: the server's)")
	idleTTL := fs.Duration("refresh-idle-ttl", 0, "how long an unused refresh token stays valid (default: the server's)")
	offline := fs.Duration("offline-lifetime", 0, "absolute lifetime of an offline authorization (default: the server's)")
	requireDPoP := fs.Bool("require-dpop", false, "require DPoP-bound access tokens (RFC 9449)")
	var redirects stringsFlag
	fs.Var(&redirects, "redirect-uri", "an exact redirect URI (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ct := store.ClientType(*typ)
	if ct != store.ClientPublic && ct != store.ClientConfidentialSymmetric {
		return fmt.Errorf("client add: --type must be public or confidential-symmetric")
	}
	if len(redirects) == 0 {
		return fmt.Errorf("client add: at least one --redirect-uri is required")
	}
	for _, r := range redirects {
		if err := oauth.CheckRedirectURI(r); err != nil {
			return fmt.Errorf("client add: --redirect-uri %q: %w", r, err)
		}
	}
	if err := smart.ParseScopes(*scope).Err(); err != nil {
		return fmt.Errorf("client add: invalid scopes: %w", err)
	}
	if *id == "" {
		*id = randomString(16)
	}
	if *name == "" {
		*name = *id
	}
	for name, d := range map[string]time.Duration{"access-token-ttl": *accessTTL, "refresh-idle-ttl": *idleTTL, "offline-lifetime": *offline} {
		if d < 0 || (d > 0 && d < time.Second) {
			return fmt.Errorf("client add: --%s must be at least 1s", name)
		}
	}
	c := store.Client{ID: *id, Name: *name, Type: ct, RedirectURIs: redirects, Scope: *scope, CreatedAt: time.Now(),
		AccessTokenTTL: *accessTTL, RefreshIdleTTL: *idleTTL, OfflineLifetime: *offline, RequireDPoP: *requireDPoP}
	out := struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret,omitempty"`
	}{ClientID: c.ID}
	if ct == store.ClientConfidentialSymmetric {
		out.ClientSecret = randomString(32)
		c.SecretHash = store.Hash(out.ClientSecret)
	}
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.CreateClient(ctx, c); err != nil {
		return fmt.Errorf("client add: %w", err)
	}
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
	enc := json.NewEncoder(stdout)
	for _, c := range cs {
		if err := enc.Encode(map[string]any{
			"client_id": c.ID, "name": c.Name, "type": c.Type, "redirect_uris": c.RedirectURIs, "scope": c.Scope,
		}); err != nil {
			return err
		}
	}
	return nil
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

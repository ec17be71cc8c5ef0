package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/smartlaunch/smartlaunch/internal/fhir/upstream"
)

// upstreamFlags are the serve flags of proxy mode.
type upstreamFlags struct {
	base, bearerFile, tokenURL, clientID, secretFile, scopes *string
	timeout                                                  *time.Duration
}

func addUpstreamFlags(fs *flag.FlagSet) upstreamFlags {
	return upstreamFlags{
		base:       fs.String("fhir-upstream", "", "serve /fhir as a proxy in front of this FHIR R4 base URL, enforcing SMART scopes (empty: serve the embedded store)"),
		bearerFile: fs.String("fhir-upstream-bearer-file", "", "file holding a static bearer token for the upstream; also $SMARTLAUNCH_FHIR_UPSTREAM_BEARER"),
		tokenURL:   fs.String("fhir-upstream-token-url", "", "token endpoint for the upstream's OAuth client-credentials grant"),
		clientID:   fs.String("fhir-upstream-client-id", "", "client id for the upstream's client-credentials grant"),
		secretFile: fs.String("fhir-upstream-client-secret-file", "", "file holding the client secret for the upstream; also $SMARTLAUNCH_FHIR_UPSTREAM_CLIENT_SECRET"),
		scopes:     fs.String("fhir-upstream-scopes", "", "space-separated scopes asked of the upstream's token endpoint"),
		timeout:    fs.Duration("fhir-upstream-timeout", upstream.DefaultTimeout, "how long one upstream request may take"),
	}
}

// client builds the upstream client the flags describe; nil without
// --fhir-upstream.
func (f upstreamFlags) client() (*upstream.Client, error) {
	if *f.base == "" {
		return nil, nil
	}
	cfg := upstream.Config{Base: *f.base, Timeout: *f.timeout}
	bearer, err := secret(*f.bearerFile, "SMARTLAUNCH_FHIR_UPSTREAM_BEARER", "--fhir-upstream-bearer-file")
	if err != nil {
		return nil, err
	}
	cfg.Bearer = bearer
	if *f.tokenURL != "" || *f.clientID != "" {
		sec, err := secret(*f.secretFile, "SMARTLAUNCH_FHIR_UPSTREAM_CLIENT_SECRET", "--fhir-upstream-client-secret-file")
		if err != nil {
			return nil, err
		}
		cfg.ClientCredentials = &clientcredentials.Config{ClientID: *f.clientID, ClientSecret: sec,
			TokenURL: *f.tokenURL, Scopes: strings.Fields(*f.scopes)}
	}
	c, err := upstream.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("serve: --fhir-upstream: %w", err)
	}
	return c, nil
}

// secret reads a secret from a file (flag), or else from the environment
// variable env; "" when neither is set.
func secret(file, env, flag string) (string, error) {
	if file == "" {
		return os.Getenv(env), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	return strings.TrimSpace(string(b)), nil
}

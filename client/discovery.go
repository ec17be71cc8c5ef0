package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/smartlaunch/smartlaunch/smart"
)

// Discovery is the part of a server's SMART configuration
// (SMART App Launch §2.2, <fhirBase>/.well-known/smart-configuration)
// the client uses.
type Discovery struct {
	Issuer                string
	AuthorizationEndpoint string
	TokenEndpoint         string
	IntrospectionEndpoint string
	RevocationEndpoint    string
	JWKSURI               string
	Capabilities          []string
	ScopesSupported       []string
	CodeChallengeMethods  []string
	DPoPAlgs              []string
	// IssParameter says that every authorization response carries iss
	// (RFC 9207), so Exchange refuses a callback without it.
	IssParameter bool
}

// Discover reads <fhirBase>/.well-known/smart-configuration. hc nil means
// http.DefaultClient.
func Discover(ctx context.Context, hc *http.Client, fhirBase string) (*Discovery, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	u := strings.TrimSuffix(fhirBase, "/") + "/.well-known/smart-configuration"
	var sc smart.Configuration
	if err := getJSON(ctx, hc, u, &sc); err != nil {
		return nil, fmt.Errorf("client: discovery: %w", err)
	}
	if sc.AuthorizationEndpoint == "" || sc.TokenEndpoint == "" {
		return nil, fmt.Errorf("client: discovery: %s lacks authorization_endpoint or token_endpoint", u)
	}
	return &Discovery{
		Issuer: sc.Issuer, AuthorizationEndpoint: sc.AuthorizationEndpoint, TokenEndpoint: sc.TokenEndpoint,
		IntrospectionEndpoint: sc.IntrospectionEndpoint, RevocationEndpoint: sc.RevocationEndpoint, JWKSURI: sc.JWKSURI,
		Capabilities: sc.Capabilities, ScopesSupported: sc.ScopesSupported, CodeChallengeMethods: sc.CodeChallengeMethodsSupported,
		DPoPAlgs: sc.DPoPSigningAlgValuesSupported, IssParameter: sc.AuthorizationResponseIssParameterSupported,
	}, nil
}

// getJSON GETs u and decodes a 200 JSON body into v.
func getJSON(ctx context.Context, hc *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

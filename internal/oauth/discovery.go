package oauth

import (
	"encoding/json"
	"github.com/smartlaunch/smartlaunch/internal/dpop"
	"net/http"

	"github.com/smartlaunch/smartlaunch/smart"
)

// smartConfiguration serves <fhir-base>/.well-known/smart-configuration:
// always application/json whatever Accept says (R-DISC-07, R-DISC-08),
// absolute URLs (R-DISC-09), S256 and never plain (R-DISC-13), and only
// the capabilities this server really has (I-DISC-01..10).
func (s *Server) smartConfiguration(w http.ResponseWriter, r *http.Request) {
	c := smart.Configuration{
		DPoPSigningAlgValuesSupported: s.dpopAlgs(),
		Issuer:                        s.issuer,
		// Every authorization response, success or error, names the issuer.
		AuthorizationResponseIssParameterSupported: true,
		JWKSURI:                           s.jwksURL(),
		AuthorizationEndpoint:             s.authorizeURL(),
		TokenEndpoint:                     s.tokenURL(),
		GrantTypesSupported:               []string{"authorization_code", "client_credentials", "refresh_token"},
		TokenEndpointAuthMethodsSupported: authMethods,
		TokenEndpointAuthSigningAlgValuesSupported: assertionAlgNames(),
		IntrospectionEndpoint:                      s.introspectURL(),
		RevocationEndpoint:                         s.revokeURL(),
		RegistrationEndpoint:                       s.registerURL(),
		SMARTAppStateEndpoint:                      s.appStateEndpoint,
		ManagementEndpoint:                         s.managementEndpoint,
		ScopesSupported:                            s.scopesSupported(),
		ResponseTypesSupported:                     []string{"code"},
		CodeChallengeMethodsSupported:              []string{"S256"},
		ConsentDocumentation:                       s.consentDocs,
		Capabilities: []string{
			smart.CapLaunchEHR,
			smart.CapLaunchStandalone,
			smart.CapAuthorizePost,
			smart.CapClientPublic,
			smart.CapClientConfidentialSymmetric,
			smart.CapClientConfidentialAsymmetric,
			smart.CapSSOOpenIDConnect,
			smart.CapContextStandalonePatient,
			smart.CapContextEHRPatient,
			smart.CapContextEHREncounter,
			smart.CapContextBanner,
			smart.CapContextStyle,
			smart.CapPermissionOffline,
			smart.CapPermissionOnline,
			smart.CapPermissionPatient,
			smart.CapPermissionUser,
			smart.CapPermissionV1,
			smart.CapPermissionV2,
		},
	}
	if s.appStateEndpoint != "" {
		c.Capabilities = append(c.Capabilities, smart.CapSMARTAppState)
	}
	writeDiscovery(w, c)
}

// openIDConfiguration serves the OpenID Provider metadata (OpenID Connect
// Discovery 1.0 §3) at <issuer>/.well-known/openid-configuration.
func (s *Server) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	doc := map[string]any{
		"issuer":                                           s.issuer,
		"authorization_endpoint":                           s.authorizeURL(),
		"token_endpoint":                                   s.tokenURL(),
		"jwks_uri":                                         s.jwksURL(),
		"response_types_supported":                         []string{"code"},
		"subject_types_supported":                          []string{"public"},
		"id_token_signing_alg_values_supported":            []string{"RS256"},
		"scopes_supported":                                 []string{"openid", "fhirUser", "profile", "offline_access"},
		"token_endpoint_auth_methods_supported":            authMethods,
		"token_endpoint_auth_signing_alg_values_supported": assertionAlgNames(),
		"introspection_endpoint":                           s.introspectURL(),
		"revocation_endpoint":                              s.revokeURL(),
		"claims_supported":                                 []string{"iss", "sub", "aud", "exp", "iat", "nonce", "fhirUser"},
		"code_challenge_methods_supported":                 []string{"S256"},
		"grant_types_supported":                            []string{"authorization_code", "client_credentials", "refresh_token"},
		"dpop_signing_alg_values_supported":                s.dpopAlgs(),
		"authorization_response_iss_parameter_supported":   true,
	}
	if u := s.registerURL(); u != "" {
		doc["registration_endpoint"] = u
	}
	writeDiscovery(w, doc)
}

// jwks serves the public signing keys (RFC 7517 §5).
func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	writeDiscovery(w, s.keys.JWKS())
}

func writeDiscovery(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(append(b, '\n'))
}

func (s *Server) dpopAlgs() []string {
	if s.dpop == nil {
		return nil
	}
	return dpop.SigningAlgs()
}

// scopesSupported lists the scopes advertised in discovery: those the
// plain-language catalog can explain, less the ones this server cannot
// grant yet. The server supports every one of them (R-DISC-12) and more:
// any resource scope a client is registered for.
func (s *Server) scopesSupported() []string {
	var out []string
	for _, sc := range s.texts.SupportedScopes() {
		if sc == "launch/encounter" {
			continue // no standalone encounter picker
		}
		out = append(out, sc)
	}
	return out
}

// authMethods are the client authentication methods the token,
// introspection and revocation endpoints accept.
var authMethods = []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}

func assertionAlgNames() []string {
	out := make([]string, len(assertionAlgs))
	for i, a := range assertionAlgs {
		out[i] = string(a)
	}
	return out
}

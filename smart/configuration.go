package smart

// Configuration is the document served at
// <fhir-base>/.well-known/smart-configuration (SMART App Launch 2.1 §3.5).
type Configuration struct {
	Issuer                                     string   `json:"issuer,omitempty"`
	JWKSURI                                    string   `json:"jwks_uri,omitempty"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	RegistrationEndpoint                       string   `json:"registration_endpoint,omitempty"`
	SMARTAppStateEndpoint                      string   `json:"smart_app_state_endpoint,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported,omitempty"`
	ManagementEndpoint                         string   `json:"management_endpoint,omitempty"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint,omitempty"`
	RevocationEndpoint                         string   `json:"revocation_endpoint,omitempty"`
	Capabilities                               []string `json:"capabilities"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	// DPoPSigningAlgValuesSupported lists the DPoP proof algorithms
	// (RFC 9449 §5.1).
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
	// AuthorizationResponseIssParameterSupported says that every
	// authorization response carries iss (RFC 9207 §3), so a client must
	// refuse one without it.
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`
	// ConsentDocumentation is an extension member: the absolute URL of the
	// server's consent design documentation, which shows app makers what
	// people see for each scope and links the scope description metadata.
	ConsentDocumentation string `json:"consent_documentation,omitempty"`
}

// Capability strings of SMART App Launch 2.1 §3.3.
const (
	CapLaunchEHR                    = "launch-ehr"
	CapLaunchStandalone             = "launch-standalone"
	CapAuthorizePost                = "authorize-post"
	CapClientPublic                 = "client-public"
	CapClientConfidentialSymmetric  = "client-confidential-symmetric"
	CapClientConfidentialAsymmetric = "client-confidential-asymmetric"
	CapSSOOpenIDConnect             = "sso-openid-connect"
	CapContextStandalonePatient     = "context-standalone-patient"
	CapContextEHRPatient            = "context-ehr-patient"
	CapContextEHREncounter          = "context-ehr-encounter"
	CapContextBanner                = "context-banner"
	CapContextStyle                 = "context-style"
	CapSMARTAppState                = "smart-app-state"
	CapPermissionOffline            = "permission-offline"
	CapPermissionOnline             = "permission-online"
	CapPermissionPatient            = "permission-patient"
	CapPermissionUser               = "permission-user"
	CapPermissionV1                 = "permission-v1"
	CapPermissionV2                 = "permission-v2"
)

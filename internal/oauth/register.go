package oauth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// registrationRequest is the client metadata of RFC 7591 §2 that this
// server understands, plus RFC 9449's dpop_bound_access_tokens and
// smartlaunch's descriptive extensions. Other members are ignored, as
// RFC 7591 §2 requires.
type registrationRequest struct {
	RedirectURIs            []string        `json:"redirect_uris"`
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method"`
	ClientName              string          `json:"client_name"`
	Scope                   string          `json:"scope"`
	JWKS                    json.RawMessage `json:"jwks"`
	JWKSURI                 string          `json:"jwks_uri"`
	LogoURI                 string          `json:"logo_uri"`
	ClientURI               string          `json:"client_uri"`
	PolicyURI               string          `json:"policy_uri"`
	TOSURI                  string          `json:"tos_uri"`
	DPoPBound               bool            `json:"dpop_bound_access_tokens"`
	Publisher               string          `json:"publisher"`
	CodeOfConduct           string          `json:"code_of_conduct"`
	CodeOfConductURI        string          `json:"code_of_conduct_uri"`
	LaunchURL               string          `json:"launch_url"`
}

// registrationResponse is RFC 7591 §3.2.1's answer.
type registrationResponse struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at,omitempty"`
	RedirectURIs            []string `json:"redirect_uris,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	ClientName              string   `json:"client_name,omitempty"`
	Scope                   string   `json:"scope"`
	JWKSURI                 string   `json:"jwks_uri,omitempty"`
	DPoPBound               bool     `json:"dpop_bound_access_tokens,omitempty"`
}

// defaultRegisteredScope is what a dynamically registered app may be
// granted when it names no scope.
const defaultRegisteredScope = "openid fhirUser launch/patient offline_access online_access patient/*.rs"

// register is the dynamic client registration endpoint (RFC 7591). It is
// off unless the operator configures an initial access token, which every
// request must carry as a bearer token (RFC 7591 §3).
func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	resp, err := s.registration(w, r)
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	writeNoStore(w, http.StatusCreated, resp)
}

func (s *Server) registration(w http.ResponseWriter, r *http.Request) (*registrationResponse, error) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") ||
		subtle.ConstantTimeCompare([]byte(store.Hash(strings.TrimSpace(tok))), []byte(s.registrationTokenHash)) != 1 {
		return nil, &Error{Code: "invalid_token", Description: "registration needs the initial access token", Status: http.StatusUnauthorized}
	}
	var req registrationRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	if err := dec.Decode(&req); err != nil {
		return nil, newError("invalid_client_metadata", "the body must be a JSON object of client metadata")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, newError("invalid_client_metadata", "the body must hold one JSON object")
	}
	c := store.Client{ID: randomToken()[:22], Name: req.ClientName, RedirectURIs: req.RedirectURIs,
		Scope: req.Scope, JWKSURI: req.JWKSURI, LaunchURL: req.LaunchURL, RequireDPoP: req.DPoPBound, CreatedAt: s.now(),
		Info: store.ClientInfo{LogoURI: req.LogoURI, Publisher: req.Publisher, ClientURI: req.ClientURI,
			PolicyURI: req.PolicyURI, TOSURI: req.TOSURI, CodeOfConduct: req.CodeOfConduct, CodeOfConductURI: req.CodeOfConductURI}}
	if c.Scope == "" {
		c.Scope = defaultRegisteredScope
	}
	if len(req.JWKS) > 0 {
		c.JWKS = string(req.JWKS)
	}
	resp := &registrationResponse{ClientID: c.ID, ClientIDIssuedAt: c.CreatedAt.Unix(), RedirectURIs: c.RedirectURIs,
		TokenEndpointAuthMethod: req.TokenEndpointAuthMethod, ClientName: c.Name, Scope: c.Scope, JWKSURI: c.JWKSURI, DPoPBound: c.RequireDPoP}
	switch req.TokenEndpointAuthMethod {
	case "none":
		c.Type = store.ClientPublic
	case "", "client_secret_basic", "client_secret_post":
		c.Type = store.ClientConfidentialSymmetric
		resp.ClientSecret = randomToken()
		c.SecretHash = store.Hash(resp.ClientSecret)
		never := int64(0)
		resp.ClientSecretExpiresAt = &never
		if resp.TokenEndpointAuthMethod == "" {
			resp.TokenEndpointAuthMethod = "client_secret_basic" // RFC 7591 §2 default
		}
	case "private_key_jwt":
		c.Type = store.ClientConfidentialAsymmetric
	default:
		return nil, newError("invalid_client_metadata", "token_endpoint_auth_method must be none, client_secret_basic, client_secret_post or private_key_jwt")
	}
	if c.Name == "" {
		c.Name = c.ID
	}
	if c.Type != store.ClientConfidentialAsymmetric && len(c.RedirectURIs) == 0 {
		return nil, newError("invalid_redirect_uri", "redirect_uris is required")
	}
	if err := CheckClient(c); err != nil {
		code := "invalid_client_metadata"
		if strings.Contains(err.Error(), "redirect URI") {
			code = "invalid_redirect_uri"
		}
		return nil, newError(code, oneLine(err.Error()))
	}
	if err := s.st.CreateClient(r.Context(), c); err != nil {
		return nil, serverError(err)
	}
	s.logger.InfoContext(r.Context(), "client registered", "client", c.ID, "type", c.Type)
	s.audit.Record(r.Context(), store.AuditEvent{Type: audit.ClientRegistered, ClientID: c.ID, Detail: "dynamic_registration"})
	return resp, nil
}

// oneLine keeps an error description to one printable line (RFC 6749 §5.2
// allows only printable ASCII).
func oneLine(s string) string {
	b := []byte(strings.ReplaceAll(s, "\n", "; "))
	for i, c := range b {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			b[i] = '?'
		}
	}
	if len(b) > 300 {
		b = b[:300]
	}
	return string(b)
}

// NewRegistrationToken returns a fresh initial access token for dynamic
// registration, for operators to hand out.
func NewRegistrationToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

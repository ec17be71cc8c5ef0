package oauth

import "github.com/smartlaunch/smartlaunch/internal/dpop"

// Metrics counts authorization events for monitoring; internal/server hands
// the server one. Its methods must be safe for concurrent use.
type Metrics interface {
	// TokenIssued counts an access token issued with grant:
	// "authorization_code", "refresh_token" or "client_credentials".
	TokenIssued(grant string)
	// AuthorizationEnded counts an authorization ended for reason, a
	// store.EndReason.
	AuthorizationEnded(reason string)
	// DPoPFailure counts a request refused for its DPoP proof, at the
	// token endpoint or a resource server (RFC 9449).
	DPoPFailure(reason dpop.Reason)
}

// grant names the grant type an issue comes from.
func (in issue) grant() string {
	switch {
	case in.system:
		return "client_credentials"
	case in.first:
		return "authorization_code"
	}
	return "refresh_token"
}

// tokenIssued reports an issued token to the metrics, if any.
func (s *Server) tokenIssued(in issue) {
	if s.metrics != nil {
		s.metrics.TokenIssued(in.grant())
	}
}

// dpopFailed reports a refused DPoP proof to the metrics, if any.
func (s *Server) dpopFailed(reason dpop.Reason) {
	if s.metrics != nil && reason != "" {
		s.metrics.DPoPFailure(reason)
	}
}

// authorizationEnded reports an ended authorization to the metrics, if any.
func (s *Server) authorizationEnded(reason string) {
	if s.metrics != nil {
		s.metrics.AuthorizationEnded(reason)
	}
}

package oauth

// Metrics counts authorization events for monitoring; internal/server hands
// the server one. Its methods must be safe for concurrent use.
type Metrics interface {
	// TokenIssued counts an access token issued with grant:
	// "authorization_code", "refresh_token" or "client_credentials".
	TokenIssued(grant string)
	// AuthorizationEnded counts an authorization ended for reason, a
	// store.EndReason.
	AuthorizationEnded(reason string)
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

// authorizationEnded reports an ended authorization to the metrics, if any.
func (s *Server) authorizationEnded(reason string) {
	if s.metrics != nil {
		s.metrics.AuthorizationEnded(reason)
	}
}

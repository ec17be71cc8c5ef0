package oauth

import (
	"errors"
	"net/http"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// revoke is the revocation endpoint (RFC 7009). A client may revoke its
// own tokens: revoking a refresh token, or an access token of a person's
// authorization, ends that whole authorization; revoking a backend
// access token ends just that token in this process (it lives at most
// five minutes). Unknown tokens and other clients' tokens get 200 and
// change nothing (RFC 7009 §2.2, D-5).
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if !s.postOnly(w, r) {
		return
	}
	if err := s.revocation(w, r); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func (s *Server) revocation(w http.ResponseWriter, r *http.Request) error {
	p, err := readForm(w, r)
	if err != nil {
		return err
	}
	client, err := s.authenticateClient(r, p)
	if err != nil {
		return err
	}
	token := p.get("token")
	if token == "" {
		return newError(ErrInvalidRequest, "token is required")
	}
	ctx := r.Context()
	if c, err := s.VerifyAccessToken(ctx, token); err == nil {
		switch {
		case c.ClientID != client.ID:
		case c.Subject == c.ClientID && c.AuthorizationID == "system:"+c.ClientID:
			s.ended.add("jti:"+c.ID, s.now())
		default:
			s.EndAuthorization(ctx, c.AuthorizationID, store.EndClientRevoked)
		}
		return nil
	}
	rt, err := s.st.GetRefreshToken(ctx, store.Hash(token))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return serverError(err)
	case rt.ClientID == client.ID:
		s.EndAuthorization(ctx, rt.AuthorizationID, store.EndClientRevoked)
	}
	return nil
}

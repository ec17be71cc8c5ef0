package oauth

import (
	"errors"
	"golang.org/x/text/language"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// pkceChallenge matches a base64url SHA-256 digest (RFC 7636 §4.2).
var pkceChallenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// authorize is the authorization endpoint (RFC 6749 §4.1.1, SMART App
// Launch §2.1.5 "authorize-post"). Until the client and redirect URI are
// validated, every error is a page and never a redirect; after that, errors
// go back to the client's redirect URI (RFC 6749 §4.1.2.1).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	var raw url.Values
	switch r.Method {
	case http.MethodGet:
		raw = r.URL.Query()
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		if err := r.ParseForm(); err != nil {
			s.pages.Error(w, http.StatusBadRequest, "The app sent a request this server cannot read.")
			return
		}
		raw = r.PostForm
	default:
		w.Header().Set("Allow", "GET, POST")
		s.pages.Error(w, http.StatusMethodNotAllowed, "This address only takes GET and POST.")
		return
	}
	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(raw[k]) > 1 {
			s.pages.Error(w, http.StatusBadRequest, "The app's request names its "+k+" more than once.")
			return
		}
	}
	client, err := s.st.GetClient(r.Context(), raw.Get("client_id"))
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.logger.ErrorContext(r.Context(), "authorize: get client", "err", err)
			s.pages.Error(w, http.StatusInternalServerError, "Something went wrong on our side.")
			return
		}
		s.pages.Error(w, http.StatusBadRequest, "The app is not registered with this server.")
		return
	}
	redirectURI := raw.Get("redirect_uri")
	if !matchRedirect(client.RedirectURIs, redirectURI) {
		s.pages.Error(w, http.StatusBadRequest, "The app's return address is not registered with this server.")
		return
	}
	p, err := parseValues(raw)
	state := raw.Get("state")
	if err == nil {
		state = p.get("state")
		err = s.startRequest(w, r, client, redirectURI, p)
	}
	if err != nil {
		s.redirectError(w, r, redirectURI, state, err)
	}
}

// startRequest validates the rest of the request, stores it, and sends the
// browser to sign in.
func (s *Server) startRequest(w http.ResponseWriter, r *http.Request, client store.Client, redirectURI string, p params) error {
	if p.get("response_type") != "code" {
		return newError(ErrUnsupportedResponseType, "response_type must be code")
	}
	if p.get("state") == "" {
		return newError(ErrInvalidRequest, "state is required")
	}
	if m := p.get("code_challenge_method"); m != "S256" {
		return newError(ErrInvalidRequest, "PKCE with code_challenge_method S256 is required")
	}
	if !pkceChallenge.MatchString(p.get("code_challenge")) {
		return newError(ErrInvalidRequest, "code_challenge must be a base64url SHA-256 digest")
	}
	if p.get("aud") != s.fhirBase {
		// Byte-exact: the app must name this very server.
		return newError(ErrInvalidRequest, "aud must be this server's FHIR base URL, "+s.fhirBase)
	}
	launchID, err := s.checkLaunch(r, client, p)
	if err != nil {
		return err
	}
	// Features this server does not implement are refused explicitly rather
	// than half-processed (A-08; OpenID Connect Core §6).
	if _, ok := p["request"]; ok {
		return newError(ErrRequestNotSupported, "request objects are not supported")
	}
	if _, ok := p["request_uri"]; ok {
		return newError(ErrRequestURINotSupported, "request_uri is not supported")
	}
	if m, ok := p["response_mode"]; ok && m != "query" {
		return newError(ErrInvalidRequest, "response_mode must be query")
	}
	if err := smart.ParseScopes(p.get("scope")).Err(); err != nil {
		var se *smart.ScopeError
		errors.As(err, &se)
		return newError(ErrInvalidScope, "malformed scope "+safeScope(se.Scope)+": "+se.Reason)
	}
	scopes := smart.Permit(p.get("scope"), client.Scope)
	if launchID != "" && !contains(scopes, smart.ScopeLaunch) {
		return newError(ErrInvalidScope, "an EHR launch needs the launch scope")
	}
	if s.refuseUnexplainable {
		for _, sc := range scopes {
			if !s.texts.Explain(sc, language.English).Explainable {
				return newError(ErrInvalidScope, "scope "+safeScope(sc)+" cannot be explained to the user in plain words, and this server refuses such scopes")
			}
		}
	}
	if len(smart.ParseScopes(strings.Join(scopes, " ")).Resources) == 0 && !contains(scopes, "openid") {
		return newError(ErrInvalidScope, "none of the requested scopes may be granted to this app")
	}
	now := s.now()
	req := store.AuthRequest{
		ID:            randomToken(),
		ClientID:      client.ID,
		RedirectURI:   redirectURI,
		Scope:         strings.Join(scopes, " "),
		State:         p.get("state"),
		CodeChallenge: p.get("code_challenge"),
		Nonce:         p.get("nonce"),
		Aud:           s.fhirBase,
		LaunchID:      launchID,
		CreatedAt:     now,
		ExpiresAt:     now.Add(s.requestTTL),
	}
	if err := s.st.CreateAuthRequest(r.Context(), req); err != nil {
		return serverError(err)
	}
	http.Redirect(w, r, s.login+"?request="+url.QueryEscape(req.ID), http.StatusSeeOther)
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// redirectError sends err to a redirect URI that has already been validated.
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, redirectURI, state string, err error) {
	oe := asError(err)
	s.log(r, oe)
	q := url.Values{"error": {oe.Code}, "iss": {s.issuer}}
	if oe.Description != "" {
		q.Set("error_description", oe.Description)
	}
	if state != "" {
		q.Set("state", state)
	}
	http.Redirect(w, r, withQuery(redirectURI, q), http.StatusSeeOther)
}

// withQuery adds q to uri's query, keeping any query it already has.
func withQuery(uri string, q url.Values) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	existing := u.Query()
	for k, vs := range q {
		existing[k] = vs
	}
	u.RawQuery = existing.Encode()
	return u.String()
}

// safeScope quotes a scope for an error description, shortened and with
// anything outside printable ASCII replaced, since descriptions are limited
// to that set (RFC 6749 §5.2).
func safeScope(s string) string {
	const max = 80
	b := []byte(s)
	if len(b) > max {
		b = append(b[:max], "..."...)
	}
	for i, c := range b {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			b[i] = '?'
		}
	}
	return `"` + string(b) + `"`
}

// checkLaunch resolves an EHR launch parameter (R-LAUNCH-*): it must name a
// live launch made for this very client. Any failure is one answer, so an
// unknown, expired or foreign launch id reveals no context.
func (s *Server) checkLaunch(r *http.Request, client store.Client, p params) (string, error) {
	raw := p.get("launch")
	if raw == "" {
		return "", nil
	}
	id := store.Hash(raw)
	l, err := s.st.GetLaunch(r.Context(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", serverError(err)
	}
	if err != nil || l.ClientID != client.ID || !s.now().Before(l.ExpiresAt) {
		return "", newError(ErrInvalidRequest, "the launch is unknown, expired or made for another app")
	}
	return id, nil
}

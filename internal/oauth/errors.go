package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
)

// Error codes of RFC 6749 §4.1.2.1 and §5.2.
const (
	ErrInvalidRequest          = "invalid_request"
	ErrInvalidClient           = "invalid_client"
	ErrInvalidGrant            = "invalid_grant"
	ErrUnauthorizedClient      = "unauthorized_client"
	ErrUnsupportedGrantType    = "unsupported_grant_type"
	ErrUnsupportedResponseType = "unsupported_response_type"
	ErrInvalidScope            = "invalid_scope"
	ErrAccessDenied            = "access_denied"
	ErrServerError             = "server_error"
	// OpenID Connect Core §3.1.2.6.
	ErrRequestNotSupported    = "request_not_supported"
	ErrRequestURINotSupported = "request_uri_not_supported"
)

// Error is an OAuth error response. Code and Description are sent to the
// client; Cause is logged and never sent.
type Error struct {
	Code        string
	Description string
	Status      int
	Cause       error
	// DPoPNonce, when set, is sent in a DPoP-Nonce header (RFC 9449 §8).
	DPoPNonce string
	// RetryAfter, when set, is sent in a Retry-After header in seconds
	// (RFC 9110 §10.2.3), with status 429.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("oauth: %s: %s: %v", e.Code, e.Description, e.Cause)
	}
	return fmt.Sprintf("oauth: %s: %s", e.Code, e.Description)
}

func (e *Error) Unwrap() error { return e.Cause }

func newError(code, desc string) *Error {
	status := http.StatusBadRequest
	if code == ErrInvalidClient {
		status = http.StatusUnauthorized
	}
	return &Error{Code: code, Description: desc, Status: status}
}

func serverError(cause error) *Error {
	return &Error{Code: ErrServerError, Description: "internal error", Status: http.StatusInternalServerError, Cause: cause}
}

// asError converts any error to an *Error, hiding unknown ones as server_error.
func asError(err error) *Error {
	var oe *Error
	if errors.As(err, &oe) {
		return oe
	}
	return serverError(err)
}

// writeJSONError writes err as the JSON body of RFC 6749 §5.2, logging once.
func (s *Server) writeJSONError(w http.ResponseWriter, r *http.Request, err error) {
	oe := asError(err)
	s.log(r, oe)
	h := w.Header()
	if oe.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm="smartlaunch"`)
	}
	if oe.DPoPNonce != "" {
		h.Set("DPoP-Nonce", oe.DPoPNonce)
	}
	if oe.RetryAfter > 0 {
		ratelimit.SetRetryAfter(h, oe.RetryAfter)
	}
	writeNoStore(w, oe.Status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{oe.Code, oe.Description})
}

// writeNoStore writes v as JSON with the headers every response carrying
// tokens or token metadata needs: never cached (RFC 6749 §5.1, I-TOKEN-11).
func writeNoStore(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) log(r *http.Request, oe *Error) {
	args := []any{"path", r.URL.Path, "error", oe.Code, "description", oe.Description}
	if oe.Cause != nil {
		args = append(args, "cause", oe.Cause.Error())
	}
	if oe.Status >= 500 {
		s.logger.ErrorContext(r.Context(), "oauth error", args...)
		return
	}
	s.logger.InfoContext(r.Context(), "oauth error", args...)
}

var (
	errNoKey     = errors.New("oauth: no matching client key")
	errAssertion = errors.New("oauth: assertion claims")
)

// postOnly answers a request that is not a POST with 405 and an OAuth
// error, and reports whether the request may go on.
func (s *Server) postOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPost {
		return true
	}
	w.Header().Set("Allow", "POST, OPTIONS")
	s.writeJSONError(w, r, &Error{Code: ErrInvalidRequest, Description: "use POST", Status: http.StatusMethodNotAllowed})
	return false
}

package appstate

import (
	"net/http"

	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
)

// apiError is an error answered with an OperationOutcome. Diagnostics is
// sent to the client and must be safe, fixed text; Cause is only logged.
type apiError = fhirwire.Error

// AuthError refuses a request's credentials and names the challenge to
// send (RFC 6750 §3, RFC 9449 §7.1).
type AuthError = fhirwire.AuthError

const contentType = fhirwire.ContentType

func invalid(msg string) error {
	return &apiError{Status: http.StatusBadRequest, Code: "invalid", Diagnostics: msg}
}

func forbidden(msg string) error {
	return &apiError{Status: http.StatusForbidden, Code: "forbidden", Diagnostics: msg}
}

// notFound is the answer for an unknown id and, alike, for an id the
// caller may not use (D-4).
func notFound() error {
	return &apiError{Status: http.StatusNotFound, Code: "not-found", Diagnostics: "no such App State resource"}
}

// preconditionFailed is the answer to a stale, missing or unusable
// If-Match, to a change of subject or code, and to any request about a
// deleted id (R-STATE-20, R-STATE-23, R-STATE-24).
func preconditionFailed(msg string) error {
	return &apiError{Status: http.StatusPreconditionFailed, Code: "conflict", Diagnostics: msg}
}

// writeError answers err as an OperationOutcome. Errors that are not an
// *apiError are internal: they are logged and answered with a fixed text.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	fhirwire.WriteError(w, r, h.log, "appstate", err)
}

// writeAuthError answers refused credentials: 401 with the challenge (no
// error attribute when none were sent, RFC 6750 §3.1) and an
// OperationOutcome; any other error is internal (500).
func (h *Handler) writeAuthError(w http.ResponseWriter, r *http.Request, err error) {
	fhirwire.WriteAuthError(w, r, h.log, "appstate", err)
}

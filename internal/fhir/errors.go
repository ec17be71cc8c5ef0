package fhir

import (
	"errors"
	"net/http"

	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
)

var errBadToken = errors.New("malformed token or reference")

// apiError is an error answered with an OperationOutcome. Diagnostics is
// sent to the client and must be safe, fixed text; Cause is only logged.
type apiError = fhirwire.Error

// AuthError refuses a request's credentials and names the challenge to
// send (RFC 6750 §3, RFC 9449 §7.1).
type AuthError = fhirwire.AuthError

const contentType = fhirwire.ContentType

func notFound(msg string) error {
	return &apiError{Status: http.StatusNotFound, Code: "not-found", Diagnostics: msg}
}

func forbidden(msg string) error {
	return &apiError{Status: http.StatusForbidden, Code: "forbidden", Diagnostics: msg}
}

// writeError answers err as an OperationOutcome. Errors that are not an
// *apiError are internal: they are logged and answered with a fixed text.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	fhirwire.WriteError(w, r, s.log, "fhir", err)
}

// writeAuthError answers refused credentials: 401 with the challenge
// (no error attribute when none were sent, RFC 6750 §3.1) and an
// OperationOutcome; an internal error is 500.
func (s *Server) writeAuthError(w http.ResponseWriter, r *http.Request, err error) {
	fhirwire.WriteAuthError(w, r, s.log, "fhir", err)
}

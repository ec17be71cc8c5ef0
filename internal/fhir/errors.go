package fhir

import (
	"encoding/json"
	"errors"
	"net/http"
)

var errBadToken = errors.New("malformed token or reference")

// apiError is an error answered with an OperationOutcome. Diagnostics is
// sent to the client and must be safe, fixed text; cause is only logged.
type apiError struct {
	Status      int
	Code        string // OperationOutcome issue type: not-found, forbidden, login, ...
	Diagnostics string
	cause       error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return e.Diagnostics + ": " + e.cause.Error()
	}
	return e.Diagnostics
}

func (e *apiError) Unwrap() error { return e.cause }

func notFound(msg string) error {
	return &apiError{Status: http.StatusNotFound, Code: "not-found", Diagnostics: msg}
}

func forbidden(msg string) error {
	return &apiError{Status: http.StatusForbidden, Code: "forbidden", Diagnostics: msg}
}

// operationOutcome is the FHIR R4 OperationOutcome with one issue.
type operationOutcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []issue `json:"issue"`
}

type issue struct {
	Severity    string `json:"severity"`
	Code        string `json:"code"`
	Diagnostics string `json:"diagnostics,omitempty"`
}

// writeError answers err as an OperationOutcome. Errors that are not an
// *apiError are internal: they are logged and answered with a fixed text.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		s.log.ErrorContext(r.Context(), "fhir request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = &apiError{Status: http.StatusInternalServerError, Code: "exception", Diagnostics: "internal error"}
	} else if ae.cause != nil {
		s.log.WarnContext(r.Context(), "fhir request refused", "method", r.Method, "path", r.URL.Path,
			"status", ae.Status, "err", ae.cause)
	}
	writeOutcome(w, ae.Status, ae.Code, ae.Diagnostics)
}

// writeOutcome writes an OperationOutcome with one error issue.
func writeOutcome(w http.ResponseWriter, status int, code, diagnostics string) {
	writeJSON(w, status, operationOutcome{
		ResourceType: "OperationOutcome",
		Issue:        []issue{{Severity: "error", Code: code, Diagnostics: diagnostics}},
	})
}

// writeJSON writes v as application/fhir+json.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception"}]}`)
	}
	writeBody(w, status, b)
}

// writeBody writes an already encoded FHIR JSON body.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(b)
}

const contentType = "application/fhir+json"

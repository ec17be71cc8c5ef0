package appstate

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
)

// apiError is an error answered with an OperationOutcome. Diagnostics is
// sent to the client and must be safe, fixed text; cause is only logged.
type apiError struct {
	Status      int
	Code        string // OperationOutcome issue type: invalid, forbidden, conflict, ...
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
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		h.log.ErrorContext(r.Context(), "appstate request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = &apiError{Status: http.StatusInternalServerError, Code: "exception", Diagnostics: "internal error"}
	} else if ae.cause != nil {
		h.log.WarnContext(r.Context(), "appstate request refused", "method", r.Method, "path", r.URL.Path,
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

// writeJSON writes v as application/fhir+json. HTML characters are not
// escaped, so that stored resources inside a Bundle keep their bytes.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	var b []byte
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception"}]}`)
	} else {
		b = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
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

package fhirwire

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
)

// ContentType is the media type of FHIR JSON.
const ContentType = "application/fhir+json"

// Error is a request the endpoint refuses, answered as an OperationOutcome
// with Status. Diagnostics is sent; Cause is logged, never sent.
type Error struct {
	Status int
	// Code is the OperationOutcome issue type: not-found, forbidden,
	// invalid, conflict, login, ...
	Code        string
	Diagnostics string
	Cause       error
}

// Error returns the diagnostics and, when set, the cause.
func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Diagnostics + ": " + e.Cause.Error()
	}
	return e.Diagnostics
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// OperationOutcome is the FHIR R4 OperationOutcome resource, reduced to
// what the servers send.
type OperationOutcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []Issue `json:"issue"`
}

// Issue is one OperationOutcome issue.
type Issue struct {
	Severity    string `json:"severity"`
	Code        string `json:"code"`
	Diagnostics string `json:"diagnostics,omitempty"`
}

// WriteError answers err as an OperationOutcome. An error that is not an
// *Error is internal: logged, and answered 500 with a fixed text.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, component string, err error) {
	var fe *Error
	if !errors.As(err, &fe) {
		log.ErrorContext(r.Context(), component+" request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		fe = &Error{Status: http.StatusInternalServerError, Code: "exception", Diagnostics: "internal error"}
	} else if fe.Cause != nil {
		log.WarnContext(r.Context(), component+" request refused", "method", r.Method, "path", r.URL.Path,
			"status", fe.Status, "err", fe.Cause)
	}
	WriteOutcome(w, fe.Status, fe.Code, fe.Diagnostics)
}

// WriteOutcome writes an OperationOutcome with one error issue.
func WriteOutcome(w http.ResponseWriter, status int, code, diagnostics string) {
	WriteJSON(w, status, OperationOutcome{
		ResourceType: "OperationOutcome",
		Issue:        []Issue{{Severity: "error", Code: code, Diagnostics: diagnostics}},
	})
}

// WriteJSON writes v as FHIR JSON. HTML characters are not escaped, so
// stored resources inside a Bundle keep their bytes.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	b := []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception"}]}`)
	if err := enc.Encode(v); err == nil {
		b = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	} else {
		status = http.StatusInternalServerError
	}
	WriteBody(w, status, b)
}

// WriteBody writes an already encoded FHIR JSON body.
func WriteBody(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// AuthError refuses a request's credentials and names the challenge to
// send (RFC 6750 §3, RFC 9449 §7.1).
type AuthError struct {
	// Scheme is "Bearer" (the default when empty) or "DPoP".
	Scheme string
	// Code is the challenge's error attribute, such as "invalid_token";
	// "" when no credentials were sent.
	Code string
	// Nonce, when set, is sent in a DPoP-Nonce header.
	Nonce string
}

// Error names the scheme and the challenge's error code.
func (e *AuthError) Error() string { return "fhirwire: " + e.Scheme + " " + e.Code }

// WriteAuthError answers refused credentials: 401 with the challenge (no
// error attribute when none were sent, RFC 6750 §3.1) in realm, and an
// OperationOutcome; an error that is not an *AuthError is internal (500).
func WriteAuthError(w http.ResponseWriter, r *http.Request, log *slog.Logger, realm string, err error) {
	var ae *AuthError
	if !errors.As(err, &ae) {
		log.ErrorContext(r.Context(), realm+": verify credentials", "err", err)
		WriteOutcome(w, http.StatusInternalServerError, "exception", "internal error")
		return
	}
	scheme := ae.Scheme
	if scheme == "" {
		scheme = "Bearer"
	}
	challenge := scheme + ` realm="` + realm + `"`
	msg := "an access token is required"
	if ae.Code != "" {
		challenge += `, error="` + ae.Code + `"`
		msg = "the access token or its proof was refused"
		log.InfoContext(r.Context(), realm+": credentials refused", "scheme", scheme, "error", ae.Code)
	}
	w.Header().Set("WWW-Authenticate", challenge)
	if ae.Nonce != "" {
		w.Header().Set("DPoP-Nonce", ae.Nonce)
	}
	WriteOutcome(w, http.StatusUnauthorized, "login", msg)
}

// CORS names what an endpoint allows browsers: the methods and request
// headers of a preflight answer and the response headers scripts may read.
type CORS struct {
	Methods, Headers, Expose string
}

// Public sets the CORS headers (the caller's origin, echoed, except for
// the CapabilityStatement, which is open to all) and answers the requests
// that need no token: preflights, and GET or HEAD /metadata with
// capability. It reports whether it answered.
func Public(w http.ResponseWriter, r *http.Request, cors CORS, capability []byte) bool {
	h := w.Header()
	if origin := r.Header.Get("Origin"); origin != "" && r.URL.Path != "/metadata" {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	} else {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	h.Set("Access-Control-Expose-Headers", cors.Expose)
	switch {
	case r.Method == http.MethodOptions:
		h.Set("Access-Control-Allow-Methods", cors.Methods)
		h.Set("Access-Control-Allow-Headers", cors.Headers)
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return true
	case r.URL.Path == "/metadata":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD, OPTIONS")
			WriteOutcome(w, http.StatusMethodNotAllowed, "not-supported", "method not allowed")
			return true
		}
		WriteBody(w, http.StatusOK, capability)
		return true
	}
	return false
}

package fhirwire

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func outcome(t *testing.T, rec *httptest.ResponseRecorder) Issue {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != ContentType {
		t.Fatalf("Content-Type = %q, want %q", ct, ContentType)
	}
	var oo OperationOutcome
	if err := json.Unmarshal(rec.Body.Bytes(), &oo); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if oo.ResourceType != "OperationOutcome" || len(oo.Issue) != 1 {
		t.Fatalf("body = %s, want an OperationOutcome with one issue", rec.Body)
	}
	return oo.Issue[0]
}

func TestWriteError(t *testing.T) {
	secret := errors.New("db password is hunter2")
	tests := []struct {
		name       string
		err        error
		status     int
		code, diag string
	}{
		{"refusal", &Error{Status: 404, Code: "not-found", Diagnostics: "no such Patient"}, 404, "not-found", "no such Patient"},
		{"wrapped refusal keeps its status",
			fmt.Errorf("read: %w", &Error{Status: 403, Code: "forbidden", Diagnostics: "scope", Cause: secret}), 403, "forbidden", "scope"},
		{"internal error is 500 with fixed text", secret, 500, "exception", "internal error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logged strings.Builder
			log := slog.New(slog.NewTextHandler(&logged, nil))
			rec := httptest.NewRecorder()
			WriteError(rec, httptest.NewRequest("GET", "/Patient/x", nil), log, "fhir", tc.err)
			if rec.Code != tc.status {
				t.Errorf("status = %d, want %d", rec.Code, tc.status)
			}
			is := outcome(t, rec)
			if is.Severity != "error" || is.Code != tc.code || is.Diagnostics != tc.diag {
				t.Errorf("issue = %+v, want error/%s/%q", is, tc.code, tc.diag)
			}
			if strings.Contains(rec.Body.String(), "hunter2") {
				t.Errorf("the cause reached the client: %s", rec.Body)
			}
			if errors.Is(tc.err, secret) && !strings.Contains(logged.String(), "hunter2") {
				t.Errorf("the cause was not logged: %q", logged.String())
			}
		})
	}
}

func TestWriteAuthError(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		status    int
		challenge string
		nonce     string
	}{
		{"no credentials: no error attribute (RFC 6750 §3.1)", &AuthError{}, 401, `Bearer realm="fhir"`, ""},
		{"bad bearer token", &AuthError{Scheme: "Bearer", Code: "invalid_token"}, 401, `Bearer realm="fhir", error="invalid_token"`, ""},
		{"DPoP nonce required (RFC 9449 §9)", &AuthError{Scheme: "DPoP", Code: "use_dpop_nonce", Nonce: "n-1"}, 401,
			`DPoP realm="fhir", error="use_dpop_nonce"`, "n-1"},
		{"verifier failure is internal", errors.New("store down"), 500, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			WriteAuthError(rec, httptest.NewRequest("GET", "/Patient", nil), log, "fhir", tc.err)
			if rec.Code != tc.status {
				t.Errorf("status = %d, want %d", rec.Code, tc.status)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.challenge)
			}
			if got := rec.Header().Get("DPoP-Nonce"); got != tc.nonce {
				t.Errorf("DPoP-Nonce = %q, want %q", got, tc.nonce)
			}
			want := "login"
			if tc.status == 500 {
				want = "exception"
			}
			if is := outcome(t, rec); is.Code != want {
				t.Errorf("issue code = %q, want %q", is.Code, want)
			}
		})
	}
}

// Stored resources keep their bytes: narrative XHTML is not rewritten to
// \u003c escapes, and the body has no trailing newline.
func TestWriteJSONKeepsHTML(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteJSON(rec, http.StatusOK, map[string]string{"div": "<div>a & b</div>"})
	if got, want := rec.Body.String(), `{"div":"<div>a & b</div>"}`; got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
}

func TestWriteJSONUnencodable(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteJSON(rec, http.StatusOK, func() {})
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", rec.Code)
	}
	if is := outcome(t, rec); is.Code != "exception" {
		t.Errorf("issue code = %q, want exception", is.Code)
	}
}

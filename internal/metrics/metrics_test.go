package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/dpop"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

func TestRoute(t *testing.T) {
	tests := []struct {
		name, path, want string
	}{
		{"root", "/", "/"},
		{"empty", "", "other"},
		{"token", "/token", "/token"},
		{"authorize continue", "/authorize/continue", "/authorize"},
		{"fhir base", "/fhir", "/fhir"},
		{"fhir resource", "/fhir/Patient/123", "/fhir"},
		{"well-known", "/.well-known/jwks.json", "/.well-known"},
		{"account app", "/account/apps/abc/end", "/account"},
		{"unknown", "/wp-admin/setup.php", "other"},
		{"prefix lookalike", "/tokens", "other"},
		{"no leading slash", "token", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Route(tt.path); got != tt.want {
				t.Errorf("Route(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	m := New()
	m.ObserveRequest("/fhir/Patient/1", http.MethodGet, http.StatusOK, 3*time.Millisecond)
	m.ObserveRequest("/x", "BREW", http.StatusNotFound, time.Millisecond)
	m.TokenIssued("refresh_token")
	m.AuthorizationEnded("user_revoked")
	m.AuthorizationEnded(string(store.EndRefreshTokenReuse))
	m.DPoPFailure(dpop.ReasonReplay)
	m.DPoPFailure("a reason nobody defined")

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d, want 200", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`smartlaunch_http_requests_total{method="GET",route="/fhir",status="200"} 1`,
		`smartlaunch_http_requests_total{method="other",route="other",status="404"} 1`,
		`smartlaunch_http_request_duration_seconds_count{method="GET",route="/fhir"} 1`,
		`smartlaunch_tokens_issued_total{grant="refresh_token"} 1`,
		`smartlaunch_authorizations_ended_total{reason="user_revoked"} 1`,
		`smartlaunch_authorizations_ended_total{reason="refresh_token_reuse"} 1`,
		`smartlaunch_refresh_reuse_detected_total 1`,
		`smartlaunch_dpop_failures_total{reason="replayed_jti"} 1`,
		`smartlaunch_dpop_failures_total{reason="htu_mismatch"} 0`,
		`smartlaunch_dpop_failures_total{reason="other"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q; got:\n%s", want, body)
		}
	}
}

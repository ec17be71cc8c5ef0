package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/smartlaunch/smartlaunch/internal/server"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// get performs a plain GET of rel with optional headers and returns the
// response and its body.
func (e *env) get(rel string, header http.Header) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.base+rel, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestMetrics: after a standalone launch, a refresh and a replay of the
// used refresh token, GET /metrics shows the token requests, the issued
// tokens by grant and the authorization ended for refresh-token reuse.
func TestMetrics(t *testing.T) {
	e := newEnv(t)
	tok := launchOffline(t, e)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {"test-public"}}
	if resp, body := e.postToken(refresh, "", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d %v, want 200", resp.StatusCode, body)
	}
	if resp, body := e.postToken(refresh, "", ""); resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("replayed refresh token: %d %v, want 400 invalid_grant", resp.StatusCode, body)
	}

	resp, body := e.get("/metrics", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d, want 200", resp.StatusCode)
	}
	for _, want := range []string{
		`smartlaunch_http_requests_total{method="POST",route="/token",status="200"} 2`,
		`smartlaunch_http_requests_total{method="POST",route="/token",status="400"} 1`,
		`smartlaunch_http_request_duration_seconds_count{method="POST",route="/token"} 3`,
		`smartlaunch_tokens_issued_total{grant="authorization_code"} 1`,
		`smartlaunch_tokens_issued_total{grant="refresh_token"} 1`,
		`smartlaunch_authorizations_ended_total{reason="refresh_token_reuse"} 1`,
		`smartlaunch_refresh_reuse_detected_total 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("GET /metrics:\n%s", body)
	}
}

// TestMetricsRouteLabelsBounded: requests for paths the server does not
// serve share one route label, so clients cannot grow the metric's series.
func TestMetricsRouteLabelsBounded(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/nope-1", "/nope-2/x", "/tokens"} {
		e.get(p, nil)
	}
	_, body := e.get("/metrics", nil)
	if want := `smartlaunch_http_requests_total{method="GET",route="other",status="404"} 3`; !strings.Contains(body, want) {
		t.Errorf("GET /metrics lacks %q", want)
	}
	if strings.Contains(body, "nope") || strings.Contains(body, `route="/tokens"`) {
		t.Errorf("GET /metrics has a label from a request path:\n%s", body)
	}
}

// downStore is a store whose ListKeys fails while down is set: a database
// that went away after the server started.
type downStore struct {
	store.Store
	down *atomic.Bool
}

func (s downStore) ListKeys(ctx context.Context) ([]store.SigningKey, error) {
	if s.down.Load() {
		return nil, errors.New("database is down")
	}
	return s.Store.ListKeys(ctx)
}

// TestReadyz: /readyz is 200 while the store answers and 503 when it
// does not; /healthz stays 200 either way.
func TestReadyz(t *testing.T) {
	down := &atomic.Bool{}
	e := newEnvWith(t, func(c *server.Config) { c.Store = downStore{Store: c.Store, down: down} })
	tests := []struct {
		name       string
		down       bool
		path       string
		wantStatus int
		wantBody   string
	}{
		{"ready", false, "/readyz", http.StatusOK, "ready\n"},
		{"healthy", false, "/healthz", http.StatusOK, "ok\n"},
		{"store down", true, "/readyz", http.StatusServiceUnavailable, "not ready\n"},
		{"healthy with store down", true, "/healthz", http.StatusOK, "ok\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			down.Store(tt.down)
			resp, body := e.get(tt.path, nil)
			if resp.StatusCode != tt.wantStatus || body != tt.wantBody {
				t.Errorf("GET %s: %d %q, want %d %q", tt.path, resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// TestRequestID: every response carries an X-Request-ID; a well-formed
// incoming one is kept, anything else is replaced by 16 random hex
// characters; the request's log line names it.
func TestRequestID(t *testing.T) {
	e := newEnv(t)
	generated := regexp.MustCompile(`^[0-9a-f]{16}$`)
	tests := []struct {
		name string
		in   string // "" sends no header
		keep bool
	}{
		{"none", "", false},
		{"valid", "proxy-4f1c_9.a", true},
		{"max length", strings.Repeat("a", 64), true},
		{"too long", strings.Repeat("a", 65), false},
		{"space", "two words", false},
		{"injection", `x" level=ERROR`, false},
		{"non-ascii", "réq", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.in != "" {
				h.Set("X-Request-ID", tt.in)
			}
			resp, _ := e.get("/healthz", h)
			got := resp.Header.Get("X-Request-ID")
			switch {
			case tt.keep && got != tt.in:
				t.Errorf("X-Request-ID = %q, want the incoming %q", got, tt.in)
			case !tt.keep && !generated.MatchString(got):
				t.Errorf("X-Request-ID = %q, want 16 hex characters", got)
			}
			if line := "request_id=" + got + " method=GET path=/healthz"; !strings.Contains(e.logs.String(), line) {
				t.Errorf("logs lack %q:\n%s", line, e.logs.String())
			}
		})
	}
}

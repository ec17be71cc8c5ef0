package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"

	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/dpop"
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
// tokens by grant, the authorization ended for refresh-token reuse, the
// store calls timed by operation and the DPoP failure counter.
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
		// Store latency by operation, the same on every backend.
		`smartlaunch_store_duration_seconds_count{op="ConsumeCode"} 1`,
		`smartlaunch_store_duration_seconds_count{op="RotateRefreshToken"} 1`,
		`smartlaunch_store_duration_seconds_bucket{op="RotateRefreshToken",le="+Inf"} 1`,
		// DPoP failures by reason: each reason shows before it happens.
		`smartlaunch_dpop_failures_total{reason="replayed_jti"} 0`,
		`smartlaunch_dpop_failures_total{reason="nonce_missing"} 0`,
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

// metric returns the value of one series, such as
// `smartlaunch_dpop_failures_total{reason="missing"}`, from GET /metrics,
// and the sum of every series of the same metric name.
func (e *env) metric(series string) (value, sum float64) {
	e.t.Helper()
	_, body := e.get("/metrics", nil)
	name, _, _ := strings.Cut(series, "{")
	found := false
	for line := range strings.Lines(body) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if n, _, _ := strings.Cut(k, "{"); n != name {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			e.t.Fatalf("GET /metrics: %q: %v", line, err)
		}
		sum += f
		if k == series {
			value, found = f, true
		}
	}
	if !found {
		e.t.Fatalf("GET /metrics lacks %s:\n%s", series, body)
	}
	return value, sum
}

// TestDPoPFailureMetrics: each DPoP proof refused at the token endpoint or
// the FHIR API counts once, under the reason it failed for and no other.
func TestDPoPFailureMetrics(t *testing.T) {
	e := newEnv(t)
	p := newProver(t, e)
	conf := e.oauthConfig("test-public", "launch/patient", "patient/*.rs", "offline_access")
	v := oauth2.GenerateVerifier()
	q := e.authorize(launch{conf: conf, verifier: v, username: "patient", password: "patient-demo"})
	p.nonce = "" // the first proof, without the server's nonce, is refused and counted
	if before, _ := e.metric(`smartlaunch_dpop_failures_total{reason="nonce_missing"}`); before != 0 {
		t.Fatalf("nonce_missing before any request = %v, want 0", before)
	}
	_, body := p.token(url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {testRedirect},
		"client_id": {"test-public"}, "code_verifier": {v}})
	token, _ := body["access_token"].(string)
	rt, _ := body["refresh_token"].(string)
	if body["token_type"] != "DPoP" || rt == "" {
		t.Fatalf("token response %v, want DPoP-bound tokens with a refresh token", body)
	}
	if got, _ := e.metric(`smartlaunch_dpop_failures_total{reason="nonce_missing"}`); got != 1 {
		t.Errorf("nonce_missing after the first proof = %v, want 1", got)
	}

	rel := "Patient/" + demo.PatientJill
	u := e.fhir + "/" + rel
	used := p.proof(http.MethodGet, u, token)
	if status, _ := p.fhirDPoP(token, rel, used); status != http.StatusOK {
		t.Fatalf("DPoP read: %d, want 200", status)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"test-public"}}
	thief := newProver(t, e)
	thief.nonce = p.nonce
	postWithProof := func(proof string) {
		req, _ := http.NewRequest(http.MethodPost, e.base+"/token", strings.NewReader(refresh.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("DPoP", proof)
		if resp, body := e.doJSON(req); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("token request: %d %v, want 400", resp.StatusCode, body)
		}
	}
	tests := []struct {
		name   string
		reason dpop.Reason
		do     func()
	}{
		{"token: proof without a nonce", dpop.ReasonNonceMissing, func() {
			nonceless := newProver(t, e)
			postWithProof(nonceless.proof(http.MethodPost, e.base+"/token", ""))
		}},
		{"token: forged nonce", dpop.ReasonNonceInvalid, func() {
			forger := newProver(t, e)
			forger.nonce = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			postWithProof(forger.proof(http.MethodPost, e.base+"/token", ""))
		}},
		{"token: not a JWS", dpop.ReasonMalformed, func() { postWithProof("abc") }},
		{"token: proof for another URL", dpop.ReasonHTU, func() { postWithProof(p.proof(http.MethodPost, e.base+"/other", "")) }},
		{"token: bound refresh token without a proof", dpop.ReasonMissing, func() { e.postToken(refresh, "", "") }},
		{"token: bound refresh token with another key", dpop.ReasonKeyMismatch, func() { thief.token(refresh) }},
		{"fhir: replayed proof", dpop.ReasonReplay, func() { p.fhirDPoP(token, rel, used) }},
		{"fhir: proof without the token's hash", dpop.ReasonATH, func() { p.fhirDPoP(token, rel, p.proof(http.MethodGet, u, "")) }},
		{"fhir: proof for another method", dpop.ReasonHTM, func() { p.fhirDPoP(token, rel, p.proof(http.MethodPost, u, token)) }},
		{"fhir: proof by another key", dpop.ReasonKeyMismatch, func() { p.fhirDPoP(token, rel, thief.proof(http.MethodGet, u, token)) }},
		{"fhir: bound token as a bearer token", dpop.ReasonBoundAsBearer, func() { e.fhirGet(token, rel) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			series := `smartlaunch_dpop_failures_total{reason="` + string(tt.reason) + `"}`
			before, sumBefore := e.metric(series)
			tt.do()
			after, sumAfter := e.metric(series)
			if after != before+1 || sumAfter != sumBefore+1 {
				t.Errorf("%s went %v -> %v and all reasons %v -> %v; want one more of this reason and no other",
					series, before, after, sumBefore, sumAfter)
			}
		})
	}
}

// TestRequestIDInEveryLogLine: every line logged while serving a request,
// by the access log and by the feature packages (oauth, audit) alike,
// names the request id of its X-Request-ID response header, exactly once,
// in text and in JSON logs.
func TestRequestIDInEveryLogLine(t *testing.T) {
	textID := regexp.MustCompile(`(?:^| )request_id=(\S+)`)
	textComponent := regexp.MustCompile(`(?:^| )component=(\S+)`)
	formats := []struct {
		name      string
		newLogger func(io.Writer) *slog.Logger
		// parse returns a line's request id, how many it names, and its component.
		parse func(t *testing.T, line string) (id string, ids int, component string)
	}{
		{"text", func(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) },
			func(t *testing.T, line string) (string, int, string) {
				var id, comp string
				ids := textID.FindAllStringSubmatch(line, -1)
				if len(ids) > 0 {
					id = ids[0][1]
				}
				if m := textComponent.FindStringSubmatch(line); m != nil {
					comp = m[1]
				}
				return id, len(ids), comp
			}},
		{"json", func(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) },
			func(t *testing.T, line string) (string, int, string) {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("log line is not JSON: %v: %s", err, line)
				}
				id, _ := m["request_id"].(string)
				comp, _ := m["component"].(string)
				return id, strings.Count(line, `"request_id":`), comp
			}},
	}
	requests := []struct {
		name string
		// do makes the request whose log lines are checked, calling mark
		// just before it, after any setup.
		do             func(t *testing.T, e *env, mark func()) *http.Response
		wantComponents []string
	}{
		{"refresh token replay", func(t *testing.T, e *env, mark func()) *http.Response {
			tok := launchOffline(t, e)
			refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {"test-public"}}
			if resp, body := e.postToken(refresh, "", ""); resp.StatusCode != http.StatusOK {
				t.Fatalf("refresh: %d %v", resp.StatusCode, body)
			}
			mark()
			resp, _ := e.postToken(refresh, "", "")
			return resp
		}, []string{"oauth", "audit"}},
		{"failed client authentication", func(t *testing.T, e *env, mark func()) *http.Response {
			mark()
			resp, _ := e.postToken(url.Values{"grant_type": {"client_credentials"}}, "test-confidential", "wrong")
			return resp
		}, []string{"oauth"}},
	}
	for _, f := range formats {
		for _, rq := range requests {
			t.Run(f.name+"/"+rq.name, func(t *testing.T) {
				logs := &lockedBuffer{}
				e := newEnvWith(t, func(c *server.Config) { c.Logger = f.newLogger(logs) })
				start := -1
				resp := rq.do(t, e, func() { start = len(logs.String()) })
				want := resp.Header.Get("X-Request-ID")
				if want == "" || start < 0 {
					t.Fatalf("X-Request-ID = %q (mark called: %v), want an id", want, start >= 0)
				}
				// The handler, and so every line of the request, is done
				// before the response is sent.
				during := logs.String()[start:]
				components := map[string]bool{}
				lines := 0
				for line := range strings.Lines(during) {
					lines++
					id, n, comp := f.parse(t, line)
					components[comp] = true
					if id != want || n != 1 {
						t.Errorf("log line names request id %q %d times, want %q once: %s", id, n, want, line)
					}
				}
				for _, c := range rq.wantComponents {
					if !components[c] {
						t.Errorf("no line from component %q among the request's %d log lines:\n%s", c, lines, during)
					}
				}
			})
		}
	}
}

// TestErrorPageShowsRequestID: the reference an error page shows a person
// is the request id, so an operator finds every log line of the request
// from it.
func TestErrorPageShowsRequestID(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.base + "/consent?request=no-such-request")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	id := resp.Header.Get("X-Request-ID")
	if resp.StatusCode < 400 || id == "" || !strings.Contains(string(body), id) {
		t.Fatalf("status %d, X-Request-ID %q; want an error page showing the id; body:\n%s", resp.StatusCode, id, body)
	}
	if !strings.Contains(e.logs.String(), "ref="+id) {
		t.Errorf("logs lack ref=%s:\n%s", id, e.logs.String())
	}
}

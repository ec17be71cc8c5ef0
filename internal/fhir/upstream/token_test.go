package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// tokenServer is an OAuth token endpoint issuing "tok-1", "tok-2", ...
// to client "proxy" with secret "s3cret", and an upstream that accepts
// only the token named by accept.
type tokenServer struct {
	tokens    atomic.Int32 // token requests served
	upstreams atomic.Int32 // upstream requests served
	expiresIn int          // seconds, in every token response
	accept    atomic.Value // string: the one token the upstream accepts; "" accepts none

	mu     sync.Mutex
	bodies []string // request bodies seen by the upstream
}

func startTokenServer(t *testing.T, expiresIn int) (*tokenServer, Config) {
	t.Helper()
	ts := &tokenServer{expiresIn: expiresIn}
	ts.accept.Store("tok-1")
	auth := httptest.NewServer(http.HandlerFunc(ts.token))
	t.Cleanup(auth.Close)
	fhir := httptest.NewServer(http.HandlerFunc(ts.upstream))
	t.Cleanup(fhir.Close)
	return ts, Config{
		Base: fhir.URL,
		ClientCredentials: &clientcredentials.Config{
			ClientID: "proxy", ClientSecret: "s3cret", TokenURL: auth.URL + "/token",
			Scopes: []string{"system/*.rs"}, AuthStyle: oauth2.AuthStyleInHeader,
		},
	}
}

func (ts *tokenServer) token(w http.ResponseWriter, r *http.Request) {
	id, secret, _ := r.BasicAuth()
	if r.PostFormValue("grant_type") != "client_credentials" || id != "proxy" || secret != "s3cret" ||
		r.PostFormValue("scope") != "system/*.rs" {
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	n := ts.tokens.Add(1)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"bearer","expires_in":%d}`, n, ts.expiresIn)
}

func (ts *tokenServer) upstream(w http.ResponseWriter, r *http.Request) {
	ts.upstreams.Add(1)
	body, _ := io.ReadAll(r.Body)
	ts.mu.Lock()
	ts.bodies = append(ts.bodies, string(body))
	ts.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+ts.accept.Load().(string) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"resourceType":"OperationOutcome"}`)
		return
	}
	io.WriteString(w, `{"resourceType":"Patient"}`)
}

// call makes one request and returns its status.
func call(t *testing.T, c *Client, body []byte) int {
	t.Helper()
	resp, err := c.Do(context.Background(), http.MethodPost, "Patient/$validate", nil, body)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestClientCredentials(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn int
		accept    []string // the token the upstream accepts, per call
		wantCodes []int
		wantToken int32 // token requests in all
		wantUp    int32 // upstream requests in all
	}{
		{"token reused across calls", 3600, []string{"tok-1", "tok-1", "tok-1"},
			[]int{200, 200, 200}, 1, 3},
		// Valid for 5 s, inside the oauth2 library's 10 s early expiry:
		// a new token for every call.
		{"token renewed before it expires", 5, []string{"tok-1", "tok-2", "tok-3"},
			[]int{200, 200, 200}, 3, 3},
		{"token renewed once after 401", 3600, []string{"tok-1", "tok-2", "tok-2"},
			[]int{200, 200, 200}, 2, 4},
		{"upstream refusing every token", 3600, []string{"", ""},
			[]int{401, 401}, 3, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, cfg := startTokenServer(t, tt.expiresIn)
			c := newClient(t, cfg)
			for i, accept := range tt.accept {
				ts.accept.Store(accept)
				body := fmt.Sprintf(`{"call":%d}`, i)
				if got := call(t, c, []byte(body)); got != tt.wantCodes[i] {
					t.Errorf("call %d: status %d, want %d", i, got, tt.wantCodes[i])
				}
			}
			if got := ts.tokens.Load(); got != tt.wantToken {
				t.Errorf("token requests = %d, want %d", got, tt.wantToken)
			}
			if got := ts.upstreams.Load(); got != tt.wantUp {
				t.Errorf("upstream requests = %d, want %d", got, tt.wantUp)
			}
			for i, b := range ts.bodies {
				if b == "" {
					t.Errorf("upstream request %d had an empty body: the retry did not replay it", i)
				}
			}
		})
	}
}

// TestClientCredentialsConcurrent401 checks that requests refused at the
// same time renew the token once, not once each.
func TestClientCredentialsConcurrent401(t *testing.T) {
	ts, cfg := startTokenServer(t, 3600)
	c := newClient(t, cfg)
	call(t, c, nil) // caches tok-1
	ts.accept.Store("tok-2")

	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Go(func() {
			resp, err := c.Do(context.Background(), http.MethodGet, "Patient/1", nil, nil)
			if err != nil {
				t.Errorf("Do: %v", err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusOK {
			t.Errorf("request %d: status %d, want 200", i, code)
		}
	}
	if got := ts.tokens.Load(); got != 2 {
		t.Errorf("token requests = %d, want 2 (one at start, one renewal)", got)
	}
}

func TestClientCredentialsTokenFailure(t *testing.T) {
	ts, cfg := startTokenServer(t, 3600)
	cfg.ClientCredentials.ClientSecret = "wrong"
	c := newClient(t, cfg)
	resp, err := c.Do(context.Background(), http.MethodGet, "Patient/1", nil, nil)
	if err == nil {
		resp.Body.Close()
		t.Fatal("Do succeeded with a refused client, want an error")
	}
	var re *oauth2.RetrieveError
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &re) || re.Response.StatusCode != http.StatusUnauthorized {
		t.Errorf("Do error = %v, want ErrUnavailable wrapping the token endpoint's 401", err)
	}
	if got := ts.upstreams.Load(); got != 0 {
		t.Errorf("upstream requests = %d without a token, want 0", got)
	}
}

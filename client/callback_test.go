package client_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/smartlaunch/smartlaunch/client"
	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// TestCallbackRefused: a callback with the wrong state or iss (RFC 9207
// §2.4) is refused before the code is used, and an error response
// becomes *AuthError; the code then still works for the right launch.
func TestCallbackRefused(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	c := newClient(t, e, client.Config{ClientID: secretApp, ClientSecret: appSecret})
	if !c.Discovery().IssParameter {
		t.Fatal("smartlaunch does not advertise authorization_response_iss_parameter_supported, so a missing iss would pass")
	}
	l, err := c.AuthorizeURL("")
	if err != nil {
		t.Fatal(err)
	}
	cb := signIn(t, l.URL, "patient", "patient-demo")
	with := func(k, v string) *url.URL {
		u := *cb
		q := u.Query()
		q.Set(k, v)
		u.RawQuery = q.Encode()
		return &u
	}
	for _, tc := range []struct {
		name string
		cb   *url.URL
		want error
	}{
		{"state mismatch", with("state", "forged"), client.ErrStateMismatch},
		{"iss mismatch", with("iss", "https://evil.example"), client.ErrIssuerMismatch},
		{"iss missing", with("iss", ""), client.ErrIssuerMismatch},
	} {
		if _, err := c.Exchange(ctx, l, tc.cb); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	denied := &url.URL{RawQuery: url.Values{"state": {l.State}, "iss": {c.Discovery().Issuer},
		"error": {"access_denied"}, "error_description": {"no"}}.Encode()}
	var ae *client.AuthError
	if _, err := c.Exchange(ctx, l, denied); !errors.As(err, &ae) || ae.Code != "access_denied" {
		t.Errorf("error response: err = %v, want *AuthError access_denied", err)
	}
	s, err := c.Exchange(ctx, l, cb)
	if err != nil || s.Token.TokenType != "Bearer" || s.Patient != demo.PatientJill {
		t.Fatalf("right callback: %v %+v", err, s)
	}
}

// TestIDTokenNonce: the id_token is verified; one whose nonce is not the
// launch's is refused.
func TestIDTokenNonce(t *testing.T) {
	e := newEnv(t, nil)
	c := newClient(t, e, client.Config{})
	l, err := c.AuthorizeURL("")
	if err != nil {
		t.Fatal(err)
	}
	cb := signIn(t, l.URL, "patient", "patient-demo")
	l.Nonce = "another-nonce"
	if _, err := c.Exchange(context.Background(), l, cb); !errors.Is(err, client.ErrInvalidIDToken) {
		t.Errorf("err = %v, want ErrInvalidIDToken", err)
	}
}

// TestAuthorizationEnded: after the user ends the app's access, the next
// refresh gets invalid_grant; TokenSource reports ErrAuthorizationEnded
// with the server's description, marks the store, and never presents the
// token again.
func TestAuthorizationEnded(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	st := client.NewMemoryStore()
	c := newClient(t, e, client.Config{Store: st, RefreshBefore: 2 * time.Hour})
	s := login(t, c)
	e.endAll()
	ts := c.TokenSource(s)
	_, err := ts.Token(ctx)
	var ae *client.AuthError
	if !errors.Is(err, client.ErrAuthorizationEnded) || !errors.As(err, &ae) || ae.Code != "invalid_grant" || ae.Description == "" {
		t.Fatalf("err = %v, want ErrAuthorizationEnded wrapping invalid_grant with a description", err)
	}
	if tok, _, _ := st.Load(ctx); tok.Ended == "" {
		t.Error("the store does not say the authorization ended")
	}
	if _, err := ts.Token(ctx); !errors.Is(err, client.ErrAuthorizationEnded) {
		t.Errorf("second call: %v, want ErrAuthorizationEnded from the store", err)
	}
}

// dropRefresh is a transport that sends refresh requests and then loses
// the answers.
type dropRefresh struct{ sent int }

func (d *dropRefresh) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/token") && d.sent >= 1 {
		resp.Body.Close()
		return nil, errors.New("connection reset (simulated)")
	}
	if r.Method == http.MethodPost {
		d.sent++
	}
	return resp, err
}

// TestRefreshLost: a refresh whose response is lost spends the token:
// ErrRefreshLost (also ErrAuthorizationEnded), the store marked, and no
// second presentation, so the server records no reuse.
func TestRefreshLost(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	c := newClient(t, e, client.Config{HTTPClient: &http.Client{Transport: &dropRefresh{}}, RefreshBefore: 2 * time.Hour})
	ts := c.TokenSource(login(t, c))
	if _, err := ts.Token(ctx); !errors.Is(err, client.ErrRefreshLost) || !errors.Is(err, client.ErrAuthorizationEnded) {
		t.Fatalf("err = %v, want ErrRefreshLost", err)
	}
	if _, err := ts.Token(ctx); !errors.Is(err, client.ErrAuthorizationEnded) {
		t.Fatalf("second call: %v, want ErrAuthorizationEnded", err)
	}
	if n := e.reuseEndings(); n != 0 {
		t.Errorf("server recorded %d reuse endings, want 0", n)
	}
}

// TestBackendServices: client_credentials with private_key_jwt signed by
// crypto.Signers, ES384 (P-384) and RS384 (RSA), then a FHIR read.
func TestBackendServices(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	ec, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: ec.Public(), KeyID: "ec", Algorithm: "ES384", Use: "sig"},
		{Key: rk.Public(), KeyID: "rsa", Algorithm: "RS384", Use: "sig"},
	}}
	b, _ := json.Marshal(set)
	if err := e.st.CreateClient(ctx, store.Client{ID: "client-test-backend", Name: "Backend", Type: store.ClientConfidentialAsymmetric,
		Scope: "system/*.rs", JWKS: string(b)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		kid  string
	}{{"ES384", ec, "ec"}, {"RS384", rk, "rsa"}} {
		ts, err := client.BackendTokenSource(ctx, e.fhir, "client-test-backend", tc.key, tc.kid, []string{"system/Patient.rs"})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ts.Token(ctx)
		if err != nil || tok.RefreshToken != "" || tok.Scope != "system/Patient.rs" {
			t.Fatalf("%s: token %+v, %v", tc.name, tok, err)
		}
		c, err := client.New(ctx, e.fhir, client.Config{ClientID: "client-test-backend"})
		if err != nil {
			t.Fatal(err)
		}
		var p map[string]any
		if err := c.Get(ctx, ts, "Patient/"+demo.PatientJill, &p); err != nil || p["id"] != demo.PatientJill {
			t.Errorf("%s: GET Patient: %v", tc.name, err)
		}
	}
}

// TestRefreshServerUnreachable: a refresh that cannot even connect did
// not use the token, so it is not spent: the error is not
// ErrAuthorizationEnded, the claim is released, and once the server is
// reachable again the same authorization refreshes, with no reuse.
func TestRefreshServerUnreachable(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	// A port nothing listens on: dials there are refused for real.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	var unreachable atomic.Bool
	var d net.Dialer
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if unreachable.Load() {
			addr = closed
		}
		return d.DialContext(ctx, network, addr)
	}}
	st := client.NewFileStore(filepath.Join(t.TempDir(), "token.json"))
	c := newClient(t, e, client.Config{HTTPClient: &http.Client{Transport: tr}, Store: st, RefreshBefore: 2 * time.Hour})
	s := login(t, c)
	ts := c.TokenSource(s)

	unreachable.Store(true)
	if _, err := ts.Token(ctx); err == nil || errors.Is(err, client.ErrAuthorizationEnded) {
		t.Fatalf("refresh while unreachable: %v; want an error that is not ErrAuthorizationEnded", err)
	}
	stored, _, err := st.Load(ctx)
	if err != nil || stored.Claim != nil || stored.Ended != "" || stored.RefreshToken != s.Token.RefreshToken {
		t.Fatalf("stored after the failed dial = %+v, %v; want the same unclaimed, live token", stored, err)
	}

	unreachable.Store(false)
	tok, err := ts.Token(ctx)
	if err != nil || tok.RefreshToken == s.Token.RefreshToken {
		t.Fatalf("refresh once reachable: %v (rotated: %t)", err, err == nil && tok.RefreshToken != s.Token.RefreshToken)
	}
	if n := e.reuseEndings(); n != 0 {
		t.Errorf("server recorded %d reuse endings, want 0", n)
	}
}

// rewriteRefresh forwards every request; for refresh requests it first
// runs before (if set), and replaces the server's real answer with
// answer (if set), as a gateway might after the server used the grant.
type rewriteRefresh struct {
	before func()
	answer string
}

func (rw *rewriteRefresh) RoundTrip(r *http.Request) (*http.Response, error) {
	refresh := r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/token") && r.Body != nil && bodyHas(r, "grant_type=refresh_token")
	if refresh && rw.before != nil {
		rw.before()
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || !refresh || rw.answer == "" {
		return resp, err
	}
	resp.Body.Close()
	return &http.Response{StatusCode: 400, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(rw.answer)), Request: r}, nil
}

// bodyHas reports whether r's form body contains s, leaving the body
// readable.
func bodyHas(r *http.Request, s string) bool {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	return strings.Contains(string(b), s)
}

// TestRefreshSurvivesCallerCancel: a caller that gives up while its
// refresh is in flight does not turn the refresh into a lost one: the
// request finishes on its own context, the rotated token is stored, and
// the authorization lives on with no reuse.
func TestRefreshSurvivesCallerCancel(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	st := client.NewFileStore(filepath.Join(t.TempDir(), "token.json"))
	c := newClient(t, e, client.Config{HTTPClient: &http.Client{Transport: &rewriteRefresh{before: cancel}}, Store: st, RefreshBefore: 2 * time.Hour})
	s := login(t, c)
	ts := c.TokenSource(s)
	_, _ = ts.Token(ctx) // the caller's context is cancelled mid-refresh
	stored, _, err := st.Load(context.Background())
	if err != nil || stored.Ended != "" || stored.Claim != nil || stored.RefreshToken == s.Token.RefreshToken {
		t.Fatalf("stored after a cancelled caller = %+v, %v; want the rotated, live token", stored, err)
	}
	if n := e.reuseEndings(); n != 0 {
		t.Errorf("server recorded %d reuse endings, want 0", n)
	}
}

// TestRefreshErrorAfterUse: an error other than the few a server gives
// before reading the grant (here invalid_request, as from a gateway after
// the server rotated the token) spends the token: ErrAuthorizationEnded,
// and the token is never presented again, so the server records no reuse.
func TestRefreshErrorAfterUse(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	c := newClient(t, e, client.Config{HTTPClient: &http.Client{Transport: &rewriteRefresh{answer: `{"error":"invalid_request"}`}},
		RefreshBefore: 2 * time.Hour})
	ts := c.TokenSource(login(t, c))
	if _, err := ts.Token(ctx); !errors.Is(err, client.ErrAuthorizationEnded) {
		t.Fatalf("err = %v, want ErrAuthorizationEnded", err)
	}
	if _, err := ts.Token(ctx); !errors.Is(err, client.ErrAuthorizationEnded) {
		t.Fatalf("second call: %v, want ErrAuthorizationEnded without a request", err)
	}
	if n := e.reuseEndings(); n != 0 {
		t.Errorf("server recorded %d reuse endings, want 0", n)
	}
}

// TestDPoPKeyMismatch: a process whose DPoP key is not the one the stored
// token is bound to neither presents the refresh token nor sends FHIR
// requests with it: an error that is not ErrAuthorizationEnded, and the
// stored token untouched.
func TestDPoPKeyMismatch(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	st := client.NewFileStore(filepath.Join(t.TempDir(), "token.json"))
	s := login(t, newClient(t, e, client.Config{DPoP: newP256(t), Store: st}))
	other := newClient(t, e, client.Config{DPoP: newP256(t), Store: st, RefreshBefore: 2 * time.Hour})
	ts := other.TokenSource(nil)
	if _, err := ts.Token(ctx); err == nil || errors.Is(err, client.ErrAuthorizationEnded) {
		t.Fatalf("refresh with another key: %v; want a key error", err)
	}
	stored, _, err := st.Load(ctx)
	if err != nil || stored.RefreshToken != s.Token.RefreshToken || stored.Claim != nil || stored.Ended != "" {
		t.Fatalf("stored = %+v, %v; want the original token untouched", stored, err)
	}
	fresh := newClient(t, e, client.Config{DPoP: newP256(t), Store: st})
	if err := fresh.Get(ctx, fresh.TokenSource(nil), "Patient/"+s.Patient, nil); err == nil || !strings.Contains(err.Error(), "DPoP key") {
		t.Errorf("FHIR read with another key: %v; want a key error", err)
	}
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"

	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/testserver"
)

// freshDatabase creates an empty PostgreSQL database on the server
// SMARTLAUNCH_TEST_POSTGRES names and returns its DSN; the test is skipped
// without one, unless SMARTLAUNCH_REQUIRE_TOOLS=1 (CI) makes that a
// failure.
func freshDatabase(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("SMARTLAUNCH_TEST_POSTGRES")
	if admin == "" {
		if os.Getenv("SMARTLAUNCH_REQUIRE_TOOLS") == "1" {
			t.Fatal("SMARTLAUNCH_TEST_POSTGRES is not set (see .ci/postgres.sh)")
		}
		t.Skip("SMARTLAUNCH_TEST_POSTGRES is not set (see .ci/postgres.sh)")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "smartlaunch_cmd_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err == nil {
			c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestMultiInstance runs two "smartlaunch serve" on one PostgreSQL
// (issue 11): a refresh token used on instance A and replayed on B ends
// the authorization on both, and a revocation on B makes A refuse the
// access token within one second. Tokens A signs verify on B: the keys
// are shared.
func TestMultiInstance(t *testing.T) {
	dsn := freshDatabase(t)
	t.Setenv("SMARTLAUNCH_DATABASE_URL", dsn)
	// The instances sit behind one public base URL, as behind a load
	// balancer; the test's balancer sends each request where it is told.
	var target atomic.Pointer[url.URL]
	lb := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target.Load())
		r.Out.Host = r.In.Host
	}})
	defer lb.Close()
	dir := t.TempDir()
	a, stopA := startServe(t, filepath.Join(dir, "a"), "--base-url", lb.URL)
	defer stopA()
	b, stopB := startServe(t, filepath.Join(dir, "b"), "--base-url", lb.URL)
	defer stopB()
	on := func(instance string) string {
		target.Store(must(url.Parse(instance)))
		return lb.URL
	}
	ctx := context.Background()

	tokA := launch(t, on(a))
	if got := fhirStatus(t, on(b), tokA.AccessToken); got != http.StatusOK {
		t.Fatalf("A's access token on B: %d, want 200 (shared keys and authorizations)", got)
	}
	// Rotate on A, replay the used refresh token on B: B refuses and ends
	// the authorization, and A refuses the rotated refresh token and,
	// within a second, the access token.
	rotated, err := oauthConfig(on(a)).TokenSource(ctx, &oauth2.Token{RefreshToken: tokA.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh on A: %v", err)
	}
	if _, err := oauthConfig(on(b)).TokenSource(ctx, &oauth2.Token{RefreshToken: tokA.RefreshToken}).Token(); err == nil ||
		!strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("replay on B: %v, want invalid_grant", err)
	}
	if _, err := oauthConfig(on(a)).TokenSource(ctx, &oauth2.Token{RefreshToken: rotated.RefreshToken}).Token(); err == nil {
		t.Error("the rotated refresh token still works on A after the replay on B")
	}
	within(t, time.Second, "A refuses the access token of the ended authorization", func() bool {
		return fhirStatus(t, on(a), rotated.AccessToken) == http.StatusUnauthorized
	})

	// Revoke on B: A refuses the access token within a second.
	tok := launch(t, on(a))
	if got := fhirStatus(t, on(a), tok.AccessToken); got != http.StatusOK {
		t.Fatalf("fresh token on A: %d", got)
	}
	resp, err := http.PostForm(on(b)+"/revoke", url.Values{"token": {tok.RefreshToken}, "client_id": {demo.PublicClientID}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke on B: %v %v", err, resp)
	}
	resp.Body.Close()
	within(t, time.Second, "A refuses the revoked authorization's access token", func() bool {
		return fhirStatus(t, on(a), tok.AccessToken) == http.StatusUnauthorized
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// within polls cond until it holds, failing the test if it does not within
// d: it measures how fast a change made by another instance shows, which
// no event here would signal.
func within(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		<-tick.C
	}
	t.Logf("%s after %v", what, time.Since(start).Round(time.Millisecond))
}

func oauthConfig(base string) *oauth2.Config {
	return &oauth2.Config{ClientID: demo.PublicClientID, RedirectURL: demo.RedirectURIs[0],
		Scopes:   []string{"launch/patient", "offline_access", "patient/*.rs"},
		Endpoint: oauth2.Endpoint{AuthURL: base + "/authorize", TokenURL: base + "/token", AuthStyle: oauth2.AuthStyleInParams}}
}

// launch runs a standalone launch of the demo public app on base, signed
// in as the demo patient, and returns its tokens.
func launch(t *testing.T, base string) *oauth2.Token {
	t.Helper()
	conf := oauthConfig(base)
	v := oauth2.GenerateVerifier()
	u := testserver.SignIn(t, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v),
		oauth2.SetAuthURLParam("aud", base+"/fhir")), "patient", "patient-demo")
	tok, err := conf.Exchange(context.Background(), u.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("exchange on %s: %v", base, err)
	}
	return tok
}

// fhirStatus reads the demo patient with an access token.
func fhirStatus(t *testing.T, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/fhir/Patient/"+demo.PatientJill, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

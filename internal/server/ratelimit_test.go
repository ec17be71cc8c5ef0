package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/consent"
	"github.com/smartlaunch/smartlaunch/internal/oauth"
	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
	"github.com/smartlaunch/smartlaunch/internal/server"
)

// signIn submits the sign-in form of login as b would, and returns the
// status and Retry-After of the answer and the page it led to.
func signIn(t *testing.T, b *browser, login page, username, password string) (int, string, page) {
	t.Helper()
	f := parseForm(t, login.Body)
	f.values.Set("username", username)
	f.values.Set("password", password)
	action, err := login.URL.Parse(f.action)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(f.values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", login.URL.Scheme+"://"+login.URL.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), page{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(body)}
}

// fromOtherAddress makes b connect from 127.0.0.2, another client IP on
// the loopback network; it skips the test where that address is missing.
func fromOtherAddress(t *testing.T, e *env, b *browser) {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
	c, err := d.DialContext(context.Background(), "tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Skipf("cannot connect from 127.0.0.2: %v", err)
	}
	c.Close()
	b.c.Transport = &http.Transport{DialContext: d.DialContext}
}

// TestSignInLockout: with the default limits, the sixth sign-in after five
// failures for one account from one address is refused with 429 and
// Retry-After without its password being checked (it is the right one);
// the right password from another address still works; the lockout ends
// after its fixed window, which attempts made meanwhile do not extend.
func TestSignInLockout(t *testing.T) {
	e := newEnv(t)
	limit := consent.DefaultSignInLimits.PerAccountIP
	attacker := newBrowser(t, testRedirect)
	login := attacker.get(authorizeURL(e, nil))
	for i := 1; i < limit.Failures; i++ {
		if status, _, _ := signIn(t, attacker, login, "patient", "wrong-password"); status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i, status)
		}
	}
	if status, _, _ := signIn(t, attacker, login, "patient", "wrong-password"); status != http.StatusUnauthorized {
		t.Fatalf("failure %d: status %d, want 401 (the limit counts it)", limit.Failures, status)
	}
	status, retry, p := signIn(t, attacker, login, "patient", "patient-demo")
	if wantRetry := "900"; status != http.StatusTooManyRequests || retry != wantRetry || !strings.Contains(p.Body, "too many failed sign-ins") {
		t.Fatalf("attempt after %d failures: status %d, Retry-After %q; want 429, %q and the explanation; body:\n%s",
			limit.Failures, status, retry, wantRetry, p.Body)
	}

	owner := newBrowser(t, testRedirect)
	fromOtherAddress(t, e, owner)
	if status, _, p := signIn(t, owner, owner.get(authorizeURL(e, nil)), "patient", "patient-demo"); status != http.StatusOK || p.URL.Path != "/consent" {
		t.Fatalf("right password from another address: %d %v, want the consent page", status, p)
	}

	e.clock.Advance(limit.Lockout - time.Minute)
	if status, retry, _ := signIn(t, attacker, login, "patient", "wrong-password"); status != http.StatusTooManyRequests || retry != "60" {
		t.Fatalf("a minute before the lockout ends: status %d, Retry-After %q; want 429, 60", status, retry)
	}
	e.clock.Advance(time.Minute)
	if status, _, p := signIn(t, attacker, attacker.get(authorizeURL(e, nil)), "patient", "patient-demo"); status != http.StatusOK || p.URL.Path != "/consent" {
		t.Fatalf("after the lockout: %d %v, want the consent page", status, p)
	}
}

// TestSignInSuccessClearsFailures: a successful sign-in clears the
// failures of that account from that address.
func TestSignInSuccessClearsFailures(t *testing.T) {
	e := newEnv(t)
	n := consent.DefaultSignInLimits.PerAccountIP.Failures - 1
	b := newBrowser(t, testRedirect)
	login := b.get(authorizeURL(e, nil))
	for range n {
		signIn(t, b, login, "patient", "wrong-password")
	}
	if status, _, _ := signIn(t, b, login, "patient", "patient-demo"); status != http.StatusOK {
		t.Fatalf("right password: status %d, want 200", status)
	}
	for i := range n + 1 {
		if status, _, _ := signIn(t, b, login, "patient", "wrong-password"); status != http.StatusUnauthorized {
			t.Fatalf("failure %d after a success: status %d, want 401", i+1, status)
		}
	}
}

// TestSignInPerAddressLimit: failures from one address count across
// usernames, known or not.
func TestSignInPerAddressLimit(t *testing.T) {
	e := newEnvWith(t, func(c *server.Config) {
		c.SignInLimits.PerIP = ratelimit.Policy{Failures: 3, Window: time.Minute, Lockout: time.Minute}
	})
	b := newBrowser(t, testRedirect)
	login := b.get(authorizeURL(e, nil))
	for i, user := range []string{"patient", "nobody", "clinician"} {
		if status, _, _ := signIn(t, b, login, user, "wrong-password"); status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, status)
		}
	}
	if status, retry, _ := signIn(t, b, login, "someone-else", "wrong-password"); status != http.StatusTooManyRequests || retry != "60" {
		t.Fatalf("fourth username: status %d, Retry-After %q; want 429, 60", status, retry)
	}
}

// TestTokenLimit: with a per-client limit configured, the request past
// the burst is refused 429 with Retry-After and an OAuth error body; a
// confidential client's budget is spent only by requests carrying its
// credentials; a public client's is counted per address.
func TestTokenLimit(t *testing.T) {
	e := newEnvWith(t, func(c *server.Config) { c.TokenLimit = oauth.TokenLimit{Rate: 0.5, Burst: 2} })
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"not-a-token"}}
	for i := range 2 {
		if resp, m := e.postToken(refresh, "test-confidential", "test-secret"); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("request %d: %d %v, want 400 invalid_grant within the burst", i+1, resp.StatusCode, m)
		}
	}
	resp, m := e.postToken(refresh, "test-confidential", "test-secret")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" ||
		m["error"] != "invalid_request" || m["error_description"] != "too many requests" {
		t.Fatalf("past the burst: %d, Retry-After %q, %v; want 429, 2, invalid_request", resp.StatusCode, resp.Header.Get("Retry-After"), m)
	}
	if resp, m := e.postToken(refresh, "test-confidential", "wrong-secret"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong credentials while limited: %d %v, want 401 invalid_client", resp.StatusCode, m)
	}
	public := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"not-a-token"}, "client_id": {"test-public"}}
	for i := range 2 {
		if resp, m := e.postToken(public, "", ""); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("public client request %d: %d %v, want 400: it has its own budget", i+1, resp.StatusCode, m)
		}
	}
	if resp, _ := e.postToken(public, "", ""); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("public client past the burst: %d, want 429", resp.StatusCode)
	}
	e.clock.Advance(2 * time.Second)
	if resp, m := e.postToken(refresh, "test-confidential", "test-secret"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("after the refill: %d %v, want 400", resp.StatusCode, m)
	}
}

package server_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/oauth"
	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
	"github.com/smartlaunch/smartlaunch/internal/server"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// signIn submits the sign-in form of login as b would, and returns the
// status and Retry-After of the answer and the page it led to.
func signIn(t *testing.T, b *browser, login page, username, password string) (int, string, page) {
	t.Helper()
	return signInForwarded(t, b, login, username, password, "")
}

// signInForwarded is signIn with an X-Forwarded-For header, unless xff is
// empty.
func signInForwarded(t *testing.T, b *browser, login page, username, password, xff string) (int, string, page) {
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
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
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
	limit := ratelimit.DefaultSignInLimits.PerAccountIP
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
	n := ratelimit.DefaultSignInLimits.PerAccountIP.Failures - 1
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

// signInForm is one of the server's password forms.
type signInForm struct {
	name string
	form string // its name in the audit trail
	// open returns the URL of the page showing the form.
	open func(e *env) string
	// signedIn reports whether p is where a successful sign-in leads.
	signedIn func(p page) bool
}

// signInForms are every form that checks a password.
var signInForms = []signInForm{
	{"authorization sign-in", audit.FormAuthorize, func(e *env) string { return authorizeURL(e, nil) },
		func(p page) bool { return p.Status == http.StatusOK && p.URL.Path == "/consent" }},
	{"account pages", audit.FormAccount, func(e *env) string { return e.base + "/account" },
		func(p page) bool {
			return p.Status == http.StatusOK && p.URL.Path == "/account" && !strings.Contains(p.Body, `type="password"`)
		}},
	{"EHR simulator", audit.FormEHR, func(e *env) string { return e.base + "/ehr" },
		func(p page) bool {
			return p.Status == http.StatusOK && p.URL.Path == "/ehr" && !strings.Contains(p.Body, `type="password"`)
		}},
}

// TestSignInLimitEveryForm: every password form is limited like the
// authorization sign-in: after the per-account-and-address limit of
// failures, the right password from that address gets 429 with
// Retry-After; from another address it still works. Each attempt is in
// the audit trail, with the form and the address (issue 12 item 6).
func TestSignInLimitEveryForm(t *testing.T) {
	limit := ratelimit.DefaultSignInLimits.PerAccountIP
	for _, f := range signInForms {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t)
			attacker := newBrowser(t, testRedirect)
			login := attacker.get(f.open(e))
			for i := range limit.Failures {
				if status, _, _ := signIn(t, attacker, login, "patient", "wrong-password"); status != http.StatusUnauthorized {
					t.Fatalf("failure %d: status %d, want 401", i+1, status)
				}
			}
			status, retry, p := signIn(t, attacker, login, "patient", "patient-demo")
			if status != http.StatusTooManyRequests || retry != "900" || !strings.Contains(p.Body, "too many failed sign-ins") {
				t.Fatalf("right password after %d failures: status %d, Retry-After %q; want 429, 900 and the explanation; body:\n%s",
					limit.Failures, status, retry, p.Body)
			}
			owner := newBrowser(t, testRedirect)
			fromOtherAddress(t, e, owner)
			if status, _, p := signIn(t, owner, owner.get(f.open(e)), "patient", "patient-demo"); !f.signedIn(p) {
				t.Fatalf("right password from another address: status %d, %v; want signed in", status, p)
			}
			evs, err := e.st.ListAuditEvents(context.Background(), store.AuditQuery{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ev := range evs {
				if ev.Detail != f.form {
					t.Errorf("event %+v: detail %q, want the form %q", ev, ev.Detail, f.form)
				}
				got = append(got, ev.Type+" "+ev.UserID+" "+ev.Address)
			}
			want := slices.Repeat([]string{"signin.failed user-patient 127.0.0.1"}, limit.Failures)
			want = append(want, "signin.limited  127.0.0.1", "signin.succeeded user-patient 127.0.0.2")
			if !slices.Equal(got, want) {
				t.Errorf("audit trail:\n%q\nwant:\n%q", got, want)
			}
		})
	}
}

// TestSignInLimitSharedAcrossForms: the forms share one limiter, so
// failures spread over them add up: an attacker does not get the limit
// once per form.
func TestSignInLimitSharedAcrossForms(t *testing.T) {
	e := newEnv(t)
	limit := ratelimit.DefaultSignInLimits.PerAccountIP
	attacker := newBrowser(t, testRedirect)
	var logins []page
	for _, f := range signInForms {
		logins = append(logins, attacker.get(f.open(e)))
	}
	for i := range limit.Failures {
		if status, _, _ := signIn(t, attacker, logins[i%len(logins)], "patient", "wrong-password"); status != http.StatusUnauthorized {
			t.Fatalf("failure %d on the %s: status %d, want 401", i+1, signInForms[i%len(logins)].name, status)
		}
	}
	for i, f := range signInForms {
		if status, retry, _ := signIn(t, attacker, logins[i], "patient", "patient-demo"); status != http.StatusTooManyRequests || retry == "" {
			t.Errorf("%s after %d failures spread over every form: status %d, Retry-After %q; want 429 with Retry-After",
				f.name, limit.Failures, status, retry)
		}
	}
}

// TestForwardedForIgnoredWithoutTrustedProxies: a client cannot escape
// its per-address limit by writing X-Forwarded-For, neither when no proxy
// is trusted nor when its own address is not among the trusted ones.
func TestForwardedForIgnoredWithoutTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies string
	}{
		{"no trusted proxies", ""},
		{"peer not trusted", "10.0.0.0/8, 192.0.2.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxies, err := ratelimit.ParseProxies(tc.proxies)
			if err != nil {
				t.Fatal(err)
			}
			e := newEnvWith(t, func(c *server.Config) {
				c.TrustedProxies = proxies
				c.SignInLimits.PerIP = ratelimit.Policy{Failures: 3, Window: time.Minute, Lockout: time.Minute}
			})
			b := newBrowser(t, testRedirect)
			login := b.get(authorizeURL(e, nil))
			for i, user := range []string{"patient", "nobody", "clinician"} {
				xff := fmt.Sprintf("203.0.113.%d", i+1) // a new address each time
				if status, _, _ := signInForwarded(t, b, login, user, "wrong-password", xff); status != http.StatusUnauthorized {
					t.Fatalf("failure %d: status %d, want 401", i+1, status)
				}
			}
			if status, retry, _ := signInForwarded(t, b, login, "patient", "patient-demo", "203.0.113.99"); status != http.StatusTooManyRequests || retry != "60" {
				t.Fatalf("after 3 failures, with yet another X-Forwarded-For: status %d, Retry-After %q; want 429, 60", status, retry)
			}
			if !strings.Contains(e.logs.String(), "client=127.0.0.1") || strings.Contains(e.logs.String(), "client=203.0.113.") {
				t.Errorf("access log: want the peer as client, never the forwarded address:\n%s", e.logs.String())
			}
		})
	}
}

// TestTrustedProxy: behind a trusted proxy the client is the address it
// names in X-Forwarded-For (the rightmost untrusted one), for the sign-in
// limits, the token endpoint's per-address budget and the access log;
// two people behind the same proxy are limited apart.
func TestTrustedProxy(t *testing.T) {
	proxies, err := ratelimit.ParseProxies("127.0.0.1, 10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, func(c *server.Config) {
		c.TrustedProxies = proxies
		c.TokenLimit = oauth.TokenLimit{Rate: 0.5, Burst: 1}
	})
	limit := ratelimit.DefaultSignInLimits.PerAccountIP
	attacker := newBrowser(t, testRedirect)
	login := attacker.get(authorizeURL(e, nil))
	// The attacker writes its own X-Forwarded-For; the proxy appends the
	// address it saw, and an inner proxy (10.1.1.1) appends its own.
	const viaProxy = "198.51.100.1, 203.0.113.5, 10.1.1.1"
	for i := range limit.Failures {
		spoof := fmt.Sprintf("198.51.100.%d, 203.0.113.5, 10.1.1.1", i+1)
		if status, _, _ := signInForwarded(t, attacker, login, "patient", "wrong-password", spoof); status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, status)
		}
	}
	if status, retry, _ := signInForwarded(t, attacker, login, "patient", "patient-demo", viaProxy); status != http.StatusTooManyRequests || retry != "900" {
		t.Fatalf("the attacker's address after %d failures: status %d, Retry-After %q; want 429, 900", limit.Failures, status, retry)
	}
	owner := newBrowser(t, testRedirect)
	if status, _, p := signInForwarded(t, owner, owner.get(authorizeURL(e, nil)), "patient", "patient-demo", "203.0.113.6"); p.URL.Path != "/consent" {
		t.Fatalf("the owner behind the same proxy: status %d, %v; want the consent page", status, p)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "client=203.0.113.5") || !strings.Contains(logs, "client=203.0.113.6") {
		t.Errorf("access log lacks the forwarded client addresses:\n%s", logs)
	}

	// A public client's token budget is per address: the forwarded one;
	// for IPv6, per /64, which one device can roam at will.
	public := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"not-a-token"}, "client_id": {"test-public"}}
	for _, tc := range []struct {
		xff  string
		want int
	}{
		{"203.0.113.5", http.StatusBadRequest}, {"203.0.113.5", http.StatusTooManyRequests}, {"203.0.113.6", http.StatusBadRequest},
		{"2001:db8:1:2::1", http.StatusBadRequest}, {"2001:db8:1:2::99", http.StatusTooManyRequests},
		{"2001:db8:1:3::1", http.StatusBadRequest},
	} {
		if got := postTokenForwarded(t, e, public, tc.xff); got != tc.want {
			t.Errorf("public client from %s: status %d, want %d", tc.xff, got, tc.want)
		}
	}
}

// postTokenForwarded posts form to the token endpoint with an
// X-Forwarded-For header and returns the status.
func postTokenForwarded(t *testing.T, e *env, form url.Values, xff string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.base+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", xff)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

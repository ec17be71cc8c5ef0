package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
	"github.com/smartlaunch/smartlaunch/internal/server"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// TestAuditThrottleInvalidClient: a flood of invalid_client requests with
// random client ids from one address stores at most the throttle's limit
// of client.authentication_failed events per minute; the first event of
// the next minute carries the count of those suppressed, so none goes
// unaccounted; another address is unaffected.
func TestAuditThrottleInvalidClient(t *testing.T) {
	proxies, err := ratelimit.ParseProxies("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, func(c *server.Config) { c.TrustedProxies = proxies })
	ctx := context.Background()
	const attacker, other = "203.0.113.5", "198.51.100.9"
	post := func(from, clientID string) {
		t.Helper()
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {"guess"}}
		req, _ := http.NewRequest(http.MethodPost, e.base+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", from)
		if resp, body := e.doJSON(req); resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Fatalf("client %s from %s: %d %v, want 401 invalid_client", clientID, from, resp.StatusCode, body)
		}
	}
	failures := func(addr string) []store.AuditEvent {
		t.Helper()
		evs, err := e.st.ListAuditEvents(ctx, store.AuditQuery{Type: audit.ClientAuthFailed})
		if err != nil {
			t.Fatal(err)
		}
		var mine []store.AuditEvent
		for _, ev := range evs {
			if ev.Address == addr {
				mine = append(mine, ev)
			}
		}
		return mine
	}
	limit := audit.DefaultThrottle.Limit

	const flood = 100
	for i := range flood {
		post(attacker, fmt.Sprintf("random-%d", i))
	}
	for i := range 3 {
		post(other, fmt.Sprintf("other-%d", i))
	}
	if n := len(failures(attacker)); n != limit {
		t.Errorf("%d invalid_client requests in a minute: %d events stored, want the limit %d", flood, n, limit)
	}
	if n := len(failures(other)); n != 3 {
		t.Errorf("another address: %d events stored, want all 3", n)
	}
	if n := strings.Count(e.logs.String(), `msg="audit: suppressing events"`); n != 1 {
		t.Errorf("%d suppression warnings, want 1", n)
	}

	e.clock.Advance(time.Minute)
	post(attacker, "random-next")
	evs := failures(attacker)
	last := evs[len(evs)-1]
	if len(evs) != limit+1 || last.ClientID != "random-next" {
		t.Fatalf("next minute: %d events, last %+v; want %d, the new one last", len(evs), last, limit+1)
	}
	if _, n := audit.SplitSuppressed(last.Detail); n != flood-limit {
		t.Errorf("next minute's event: detail %q, want %d suppressed counted", last.Detail, flood-limit)
	}
}

package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
)

func TestRecord(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logs bytes.Buffer
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := New(db, slog.New(slog.NewTextHandler(&logs, nil)), func() time.Time { return now })
	got := r.Record(t.Context(), store.AuditEvent{Type: AuthorizationEnded, UserID: "u1", ClientID: "c1",
		AuthorizationID: "a1", Detail: string(store.EndRefreshTokenReuse)})
	if got.ID == 0 || !got.At.Equal(now) {
		t.Errorf("Record = %+v, want an ID and the injected time", got)
	}
	evs, err := db.ListAuditEvents(t.Context(), store.AuditQuery{AuthorizationID: "a1"})
	if err != nil || len(evs) != 1 || evs[0].Detail != "refresh_token_reuse" {
		t.Fatalf("stored events = %+v (%v), want the one recorded", evs, err)
	}
	if !strings.Contains(logs.String(), "authorization.ended") {
		t.Errorf("log lacks the event: %s", logs.String())
	}
	var nilRecorder *Recorder
	nilRecorder.Record(t.Context(), store.AuditEvent{Type: "x"}) // must not panic
}

func TestRecordAddressAndLevel(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logs bytes.Buffer
	r := New(db, slog.New(slog.NewTextHandler(&logs, nil)), nil)
	ctx := WithAddress(t.Context(), "192.0.2.9")
	r.Record(ctx, store.AuditEvent{Type: SignInFailed, UserID: "u1", Detail: FormAccount})
	r.Record(ctx, store.AuditEvent{Type: SignInSucceeded, UserID: "u1", Detail: FormAccount, Address: "198.51.100.1"})
	evs, err := db.ListAuditEvents(t.Context(), store.AuditQuery{})
	if err != nil || len(evs) != 2 || evs[0].Address != "192.0.2.9" || evs[1].Address != "198.51.100.1" {
		t.Fatalf("events %+v (%v): want the context's address, unless the event names one", evs, err)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[1], "level=INFO") {
		t.Errorf("log lines %q: want the failure at WARN and the success at INFO", lines)
	}
}

func TestOutcomeOf(t *testing.T) {
	tests := []struct {
		typ, detail string
		want        Outcome
	}{
		{SignInSucceeded, FormAuthorize, Success},
		{SignInFailed, FormAuthorize, MinorFailure},
		{SignInLimited, FormEHR, MinorFailure},
		{ClientAuthFailed, "client assertion: jti reused", MinorFailure},
		{AuthorizationEnded, "user_revoked", Success},
		{AuthorizationEnded, "refresh_token_reuse", SeriousFailure},
		{AuthorizationEnded, "code_replay", SeriousFailure},
		{ConsentTampered, "scope", SeriousFailure},
		{TokenRefreshed, "", Success},
	}
	for _, tt := range tests {
		if got := OutcomeOf(tt.typ, tt.detail); got != tt.want {
			t.Errorf("OutcomeOf(%s, %s) = %s, want %s", tt.typ, tt.detail, got, tt.want)
		}
	}
}

// TestResource: every event type maps to a kind; the FHIR form carries
// who, what, when, the outcome and where from.
func TestResource(t *testing.T) {
	for _, typ := range Types {
		if _, ok := kinds[typ]; !ok {
			t.Errorf("event type %s has no FHIR kind", typ)
		}
	}
	at := time.Date(2026, 11, 27, 9, 30, 0, 123000000, time.UTC)
	ae := Resource(store.AuditEvent{ID: 42, At: at, Type: AuthorizationEnded, UserID: "u1", ClientID: "c1",
		AuthorizationID: "a1", Detail: "refresh_token_reuse", Address: "192.0.2.9"}, "https://smart.example.org/")
	b, err := json.Marshal(ae)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"resourceType":"AuditEvent"`, `"id":"42"`, `"recorded":"2026-11-27T09:30:00.123Z"`, `"action":"D"`,
		`"outcome":"8"`, `"outcomeDesc":"authorization.ended: refresh_token_reuse"`,
		`"code":"110137"`, `{"system":"urn:smartlaunch:audit-event-type","code":"authorization.ended"}`,
		`"who":{"identifier":{"system":"https://smart.example.org/users","value":"u1"}},"altId":"u1","requestor":true,"network":{"address":"192.0.2.9","type":"2"}`,
		`"who":{"identifier":{"system":"https://smart.example.org/clients","value":"c1"}},"requestor":false}`,
		`"what":{"identifier":{"system":"https://smart.example.org/authorizations","value":"a1"}}`,
		`"detail":[{"type":"reason","valueString":"refresh_token_reuse"}]`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("AuditEvent lacks %s:\n%s", want, b)
		}
	}
	// An operator's command: no user, no app, no address.
	ae = Resource(store.AuditEvent{ID: 1, At: at, Type: KeysRotated, Detail: "k2"}, "https://smart.example.org")
	if len(ae.Agent) != 1 || !ae.Agent[0].Requestor || ae.Agent[0].Who.Display == "" || ae.Outcome != Success {
		t.Errorf("keys.rotated: %+v, want one unidentified requesting agent and success", ae)
	}
}

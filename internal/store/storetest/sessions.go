package storetest

import (
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

func testSessions(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	sess := store.Session{ID: store.Hash("cookie"), UserID: "u1", CreatedAt: at(0), ExpiresAt: at(12 * time.Hour)}
	wantErr(t, "CreateSession", s.CreateSession(ctx, sess), nil)
	wantErr(t, "CreateSession duplicate", s.CreateSession(ctx, sess), store.ErrConflict)
	got, err := s.GetSession(ctx, sess.ID)
	wantErr(t, "GetSession", err, nil)
	if d := diff(sess, got); d != "" {
		t.Errorf("GetSession (-want +got):\n%s", d)
	}
	if !got.Live(at(time.Hour)) || got.Live(at(12*time.Hour)) {
		t.Error("Live: want live before ExpiresAt and not at it")
	}
	wantErr(t, "EndSession", s.EndSession(ctx, sess.ID, at(time.Hour)), nil)
	wantErr(t, "EndSession again", s.EndSession(ctx, sess.ID, at(2*time.Hour)), nil)
	got, _ = s.GetSession(ctx, sess.ID)
	if !got.EndedAt.Equal(at(time.Hour)) || got.Live(at(time.Hour)) {
		t.Errorf("ended session: EndedAt %v live %v, want the first end time and not live", got.EndedAt, got.Live(at(time.Hour)))
	}
	wantErr(t, "EndSession unknown", s.EndSession(ctx, "nope", at(time.Hour)), store.ErrNotFound)
	_, err = s.GetSession(ctx, "nope")
	wantErr(t, "GetSession unknown", err, store.ErrNotFound)
}

func testAuditEvents(t *testing.T, open Opener) {
	s := open(t)
	ctx := t.Context()
	evs := []store.AuditEvent{
		{At: at(0), Type: "authorization.ended", UserID: "u1", ClientID: "c1", AuthorizationID: "a1", Detail: "refresh_token_reuse"},
		{At: at(time.Minute), Type: "authorization.ended", UserID: "u2", ClientID: "c1", AuthorizationID: "a2", Detail: "user_revoked"},
		{At: at(2 * time.Minute), Type: "authorization.ended", UserID: "u1", ClientID: "c2", AuthorizationID: "a3", Detail: "expired"},
		{At: at(3 * time.Minute), Type: "signin.failed", UserID: "u1", Detail: "consent", Address: "192.0.2.7"},
	}
	var last int64
	for i := range evs {
		got, err := s.AppendAuditEvent(ctx, evs[i])
		wantErr(t, "AppendAuditEvent", err, nil)
		if got.ID <= last {
			t.Fatalf("IDs not increasing: %d after %d", got.ID, last)
		}
		last, evs[i].ID = got.ID, got.ID
	}
	tests := []struct {
		name string
		q    store.AuditQuery
		want []store.AuditEvent
	}{
		{"all", store.AuditQuery{}, evs},
		{"by user", store.AuditQuery{UserID: "u1"}, []store.AuditEvent{evs[0], evs[2], evs[3]}},
		{"by client", store.AuditQuery{ClientID: "c1"}, evs[:2]},
		{"by authorization", store.AuditQuery{AuthorizationID: "a2"}, evs[1:2]},
		{"by type", store.AuditQuery{Type: "signin.failed"}, evs[3:]},
		{"since", store.AuditQuery{Since: at(time.Minute)}, evs[1:]},
		{"before", store.AuditQuery{Before: at(2 * time.Minute)}, evs[:2]},
		{"window", store.AuditQuery{Since: at(time.Minute), Before: at(3 * time.Minute)}, evs[1:3]},
		{"after id", store.AuditQuery{AfterID: evs[1].ID}, evs[2:]},
		{"after id, limit", store.AuditQuery{AfterID: evs[0].ID, Limit: 2}, evs[1:3]},
		{"user and type", store.AuditQuery{UserID: "u1", Type: "authorization.ended"}, []store.AuditEvent{evs[0], evs[2]}},
		{"limit", store.AuditQuery{Limit: 1}, evs[:1]},
		{"no match", store.AuditQuery{UserID: "u9"}, nil},
	}
	for _, tt := range tests {
		got, err := s.ListAuditEvents(ctx, tt.q)
		wantErr(t, "ListAuditEvents "+tt.name, err, nil)
		if d := diff(tt.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
	_, err := s.AppendAuditEvent(ctx, store.AuditEvent{Type: "x"})
	if err == nil {
		t.Error("AppendAuditEvent with a zero time: no error")
	}
}

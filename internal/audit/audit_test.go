package audit

import (
	"bytes"
	"context"
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

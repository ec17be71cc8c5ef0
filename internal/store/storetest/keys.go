package storetest

import (
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

func testKeys(t *testing.T, open Opener) {
	t.Run("ListOldestFirst", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		got, err := s.ListKeys(ctx)
		wantErr(t, "ListKeys empty", err, nil)
		if len(got) != 0 {
			t.Fatalf("ListKeys on empty store: got %d keys, want 0", len(got))
		}
		// Created out of order; IDs sort opposite to age.
		k1 := store.SigningKey{ID: "z-oldest", Algorithm: "RS256", PrivateKey: []byte{0x30, 0x82, 0x00, 0xff}, CreatedAt: at(0)}
		k2 := store.SigningKey{ID: "m-middle", Algorithm: "ES256", PrivateKey: []byte{0x30, 0x01}, CreatedAt: at(time.Microsecond)}
		k3 := store.SigningKey{ID: "a-newest", Algorithm: "RS256", PrivateKey: []byte{0x30, 0x02}, CreatedAt: at(24 * time.Hour)}
		for _, k := range []store.SigningKey{k2, k3, k1} {
			wantErr(t, "CreateKey "+k.ID, s.CreateKey(ctx, k), nil)
		}
		got, err = s.ListKeys(ctx)
		wantErr(t, "ListKeys", err, nil)
		if d := diff([]store.SigningKey{k1, k2, k3}, got); d != "" {
			t.Errorf("ListKeys (-want +got):\n%s", d)
		}
		for _, k := range got {
			wantUTC(t, k.CreatedAt)
		}
		dup := k1
		dup.CreatedAt = at(48 * time.Hour)
		wantErr(t, "CreateKey duplicate", s.CreateKey(ctx, dup), store.ErrConflict)
	})
}

package storetest

import (
	"fmt"
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
		k1 := store.SigningKey{ID: "z-oldest", Algorithm: "RS256", PrivateKey: []byte{0x30, 0x82, 0x00, 0xff}, CreatedAt: at(0),
			ActivatesAt: at(0), RetiresAt: at(100 * 24 * time.Hour)}
		k2 := store.SigningKey{ID: "m-middle", Algorithm: "ES256", PrivateKey: []byte{0x30, 0x01}, CreatedAt: at(time.Microsecond)}
		k3 := store.SigningKey{ID: "a-newest", Algorithm: "RS256", PrivateKey: []byte{0x30, 0x02}, CreatedAt: at(24 * time.Hour),
			ActivatesAt: at(48 * time.Hour)}
		for _, k := range []store.SigningKey{k2, k3, k1} {
			wantErr(t, "CreateKey "+k.ID, s.CreateKey(ctx, k), nil)
		}
		got, err = s.ListKeys(ctx)
		wantErr(t, "ListKeys", err, nil)
		if d := diff([]store.SigningKey{k1, k2, k3}, got); d != "" {
			t.Errorf("ListKeys (-want +got):\n%s", d)
		}
		for _, k := range got {
			wantUTC(t, k.CreatedAt, k.ActivatesAt, k.RetiresAt)
		}
		dup := k1
		dup.CreatedAt = at(48 * time.Hour)
		wantErr(t, "CreateKey duplicate", s.CreateKey(ctx, dup), store.ErrConflict)
	})

	t.Run("CreateNextKey", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		// The current RS256 key activated at its creation (no ActivatesAt).
		cur := store.SigningKey{ID: "cur", Algorithm: "RS256", PrivateKey: []byte{1}, CreatedAt: at(0)}
		wantErr(t, "CreateKey cur", s.CreateKey(ctx, cur), nil)
		next := store.SigningKey{ID: "next", Algorithm: "RS256", PrivateKey: []byte{2}, CreatedAt: at(time.Hour),
			ActivatesAt: at(25 * time.Hour)}
		wantErr(t, "CreateNextKey (none pending)", s.CreateNextKey(ctx, next, at(time.Hour)), nil)
		again := store.SigningKey{ID: "again", Algorithm: "RS256", PrivateKey: []byte{3}, CreatedAt: at(2 * time.Hour),
			ActivatesAt: at(26 * time.Hour)}
		wantErr(t, "CreateNextKey (one pending)", s.CreateNextKey(ctx, again, at(2*time.Hour)), store.ErrConflict)
		es := store.SigningKey{ID: "es", Algorithm: "ES256", PrivateKey: []byte{4}, CreatedAt: at(2 * time.Hour),
			ActivatesAt: at(26 * time.Hour)}
		wantErr(t, "CreateNextKey (other algorithm)", s.CreateNextKey(ctx, es, at(2*time.Hour)), nil)
		// Once the pending key has activated, the next may come.
		wantErr(t, "CreateNextKey (after activation)", s.CreateNextKey(ctx, again, at(25*time.Hour)), nil)
		// A key without ActivatesAt counts from its CreatedAt.
		late := store.SigningKey{ID: "late", Algorithm: "PS256", PrivateKey: []byte{5}, CreatedAt: at(30 * time.Hour)}
		wantErr(t, "CreateKey late", s.CreateKey(ctx, late), nil)
		late2 := store.SigningKey{ID: "late2", Algorithm: "PS256", PrivateKey: []byte{6}, CreatedAt: at(29 * time.Hour)}
		wantErr(t, "CreateNextKey (created later)", s.CreateNextKey(ctx, late2, at(29*time.Hour)), store.ErrConflict)
		dupID := store.SigningKey{ID: "cur", Algorithm: "EdDSA", PrivateKey: []byte{7}, CreatedAt: at(time.Hour)}
		wantErr(t, "CreateNextKey (ID taken)", s.CreateNextKey(ctx, dupID, at(time.Hour)), store.ErrConflict)
		got, err := s.ListKeys(ctx)
		wantErr(t, "ListKeys", err, nil)
		var ids []string
		for _, k := range got {
			ids = append(ids, k.ID)
		}
		if d := diff([]string{"cur", "next", "again", "es", "late"}, ids); d != "" {
			t.Errorf("keys stored (-want +got):\n%s", d)
		}
	})

	// Instances racing to publish the next key: one stores its key.
	t.Run("CreateNextKeyConcurrent", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		wantErr(t, "CreateKey cur", s.CreateKey(ctx, store.SigningKey{ID: "cur", Algorithm: "ES256",
			PrivateKey: []byte{1}, CreatedAt: at(0)}), nil)
		errs := race(racers, func(i int) error {
			return s.CreateNextKey(ctx, store.SigningKey{ID: fmt.Sprintf("next-%02d", i), Algorithm: "ES256",
				PrivateKey: []byte{byte(i)}, CreatedAt: at(time.Hour), ActivatesAt: at(25 * time.Hour)}, at(time.Hour))
		})
		won, lost, other := tally(errs, store.ErrConflict)
		if won != 1 || lost != racers-1 || len(other) > 0 {
			t.Fatalf("CreateNextKey race: %d stored, %d conflicts, other errors %v; want 1 and %d", won, lost, other, racers-1)
		}
		got, err := s.ListKeys(ctx)
		wantErr(t, "ListKeys", err, nil)
		if len(got) != 2 {
			t.Errorf("keys after the race: %d, want 2 (the current and one next)", len(got))
		}
	})

	// A retirement can be brought forward ("keys rotate --now"), never
	// put off.
	t.Run("SetKeyRetirement", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		k := store.SigningKey{ID: "k", Algorithm: "RS256", PrivateKey: []byte{1}, CreatedAt: at(0)}
		wantErr(t, "CreateKey", s.CreateKey(ctx, k), nil)
		for _, step := range []struct {
			name string
			at   time.Duration
			want time.Duration
		}{
			{"first", 2 * time.Hour, 2 * time.Hour},
			{"later: put off", 3 * time.Hour, 2 * time.Hour},
			{"same", 2 * time.Hour, 2 * time.Hour},
			{"earlier: brought forward", 30 * time.Minute, 30 * time.Minute},
			{"later again", time.Hour, 30 * time.Minute},
		} {
			wantErr(t, "SetKeyRetirement "+step.name, s.SetKeyRetirement(ctx, "k", at(step.at)), nil)
			got, err := s.ListKeys(ctx)
			wantErr(t, "ListKeys", err, nil)
			k.RetiresAt = at(step.want)
			if d := diff([]store.SigningKey{k}, got); d != "" {
				t.Errorf("after SetKeyRetirement %s (-want +got):\n%s", step.name, d)
			}
		}
		wantErr(t, "SetKeyRetirement unknown", s.SetKeyRetirement(ctx, "nope", at(time.Hour)), store.ErrNotFound)
	})

	// A next key withdrawn before it signed (its RetiresAt not after its
	// activation) does not stop the next one.
	t.Run("CreateNextKeyAfterWithdrawn", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		cur := store.SigningKey{ID: "cur", Algorithm: "RS256", PrivateKey: []byte{1}, CreatedAt: at(0)}
		pending := store.SigningKey{ID: "pending", Algorithm: "RS256", PrivateKey: []byte{2}, CreatedAt: at(time.Hour),
			ActivatesAt: at(25 * time.Hour)}
		for _, k := range []store.SigningKey{cur, pending} {
			wantErr(t, "CreateKey "+k.ID, s.CreateKey(ctx, k), nil)
		}
		next := store.SigningKey{ID: "next", Algorithm: "RS256", PrivateKey: []byte{3}, CreatedAt: at(2 * time.Hour),
			ActivatesAt: at(26 * time.Hour)}
		wantErr(t, "CreateNextKey (one pending)", s.CreateNextKey(ctx, next, at(2*time.Hour)), store.ErrConflict)
		// Retiring at its activation: it never signs.
		wantErr(t, "SetKeyRetirement pending", s.SetKeyRetirement(ctx, "pending", at(25*time.Hour)), nil)
		wantErr(t, "CreateNextKey (pending withdrawn)", s.CreateNextKey(ctx, next, at(2*time.Hour)), nil)
		// A pending key that will have signed still counts.
		later := store.SigningKey{ID: "later", Algorithm: "RS256", PrivateKey: []byte{4}, CreatedAt: at(3 * time.Hour),
			ActivatesAt: at(27 * time.Hour)}
		wantErr(t, "SetKeyRetirement next", s.SetKeyRetirement(ctx, "next", at(26*time.Hour+time.Microsecond)), nil)
		wantErr(t, "CreateNextKey (next retires after it signed)", s.CreateNextKey(ctx, later, at(3*time.Hour)), store.ErrConflict)
	})

	t.Run("ReplacePrivateKeys", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		a := store.SigningKey{ID: "a", Algorithm: "ES256", PrivateKey: []byte{0x30, 1}, CreatedAt: at(0)}
		b := store.SigningKey{ID: "b", Algorithm: "RS256", PrivateKey: []byte{0x30, 2}, CreatedAt: at(time.Second)}
		for _, k := range []store.SigningKey{a, b} {
			wantErr(t, "CreateKey "+k.ID, s.CreateKey(ctx, k), nil)
		}
		sealedA, sealedB := []byte("sealed a"), []byte("sealed b")
		both := []store.PrivateKeyReplacement{{ID: "a", Old: a.PrivateKey, New: sealedA}, {ID: "b", Old: b.PrivateKey, New: sealedB}}
		for _, tc := range []struct {
			name string
			rs   []store.PrivateKeyReplacement
			want error
		}{
			{"one stale: none replaced", []store.PrivateKeyReplacement{both[0], {ID: "b", Old: []byte("stale"), New: sealedB}},
				store.ErrConflict},
			{"one unknown: none replaced", []store.PrivateKeyReplacement{both[0], {ID: "nope", Old: b.PrivateKey, New: sealedB}},
				store.ErrNotFound},
			{"none", nil, nil},
		} {
			wantErr(t, "ReplacePrivateKeys "+tc.name, s.ReplacePrivateKeys(ctx, tc.rs), tc.want)
			got, err := s.ListKeys(ctx)
			wantErr(t, "ListKeys", err, nil)
			if d := diff([]store.SigningKey{a, b}, got); d != "" {
				t.Errorf("after ReplacePrivateKeys %s (-want +got):\n%s", tc.name, d)
			}
		}
		wantErr(t, "ReplacePrivateKeys", s.ReplacePrivateKeys(ctx, both), nil)
		wantErr(t, "ReplacePrivateKeys again", s.ReplacePrivateKeys(ctx, both), store.ErrConflict)
		got, err := s.ListKeys(ctx)
		wantErr(t, "ListKeys", err, nil)
		a.PrivateKey, b.PrivateKey = sealedA, sealedB
		if d := diff([]store.SigningKey{a, b}, got); d != "" {
			t.Errorf("ListKeys (-want +got):\n%s", d)
		}
	})

	// Instances encrypting the same keys at once: one does, all of them.
	t.Run("ReplacePrivateKeysConcurrent", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		var plain []store.SigningKey
		for i, id := range []string{"a", "b", "c"} {
			k := store.SigningKey{ID: id, Algorithm: "ES256", PrivateKey: []byte{0x30, byte(i)}, CreatedAt: at(time.Duration(i))}
			wantErr(t, "CreateKey "+id, s.CreateKey(ctx, k), nil)
			plain = append(plain, k)
		}
		errs := race(racers, func(i int) error {
			var rs []store.PrivateKeyReplacement
			for j := range plain {
				// Racers list the keys in different orders.
				k := plain[(i+j)%len(plain)]
				rs = append(rs, store.PrivateKeyReplacement{ID: k.ID, Old: k.PrivateKey, New: []byte(fmt.Sprintf("%s by %02d", k.ID, i))})
			}
			return s.ReplacePrivateKeys(ctx, rs)
		})
		won, lost, other := tally(errs, store.ErrConflict)
		if won != 1 || lost != racers-1 || len(other) > 0 {
			t.Fatalf("ReplacePrivateKeys race: %d won, %d conflicts, other errors %v; want 1 and %d", won, lost, other, racers-1)
		}
		got, err := s.ListKeys(ctx)
		wantErr(t, "ListKeys", err, nil)
		by := map[string]bool{}
		for _, k := range got {
			by[string(k.PrivateKey[len(k.PrivateKey)-2:])] = true
		}
		if len(got) != 3 || len(by) != 1 {
			t.Errorf("%d keys after the race, replaced by %d racers; want all three replaced by one", len(got), len(by))
		}
	})
}

package keys

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
)

const day = 24 * time.Hour

// policy is the schedule the tests run: serve's defaults.
func policy(c *clock) Options {
	return Options{Now: c.Now, RotateEvery: 90 * day, PublishAhead: day, MaxTokenLifetime: time.Hour}
}

// jwksKIDs returns the kids s publishes.
func jwksKIDs(s *Set) []string {
	var out []string
	for _, k := range s.JWKS().Keys {
		out = append(out, k.KeyID)
	}
	return out
}

// headerKID returns the kid in a compact JWS's header.
func headerKID(t *testing.T, token string) string {
	t.Helper()
	jws, err := jose.ParseSignedCompact(token, algorithms)
	if err != nil {
		t.Fatalf("parse %q: %v", token, err)
	}
	return jws.Signatures[0].Header.KeyID
}

// derive returns s.DeriveSecret("cookie").
func derive(t *testing.T, s *Set) string {
	t.Helper()
	b, err := s.DeriveSecret("cookie")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func maintain(t *testing.T, s *Set) []string {
	t.Helper()
	created, err := s.Maintain(t.Context())
	if err != nil {
		t.Fatalf("Maintain: %v", err)
	}
	return created
}

// TestScheduledRotation follows one rotation on the default schedule
// (issue 12): the next key is published a day before it signs (R-OIDC-05:
// the JWK Set holds it; I-OIDC-05: every id_token names its kid among
// several RSA keys), new tokens use it from its activation, tokens signed
// before keep verifying, and the old key leaves the JWK Set only once the
// longest-lived token it signed has expired.
func TestScheduledRotation(t *testing.T) {
	c := newClock()
	t0 := c.Now()
	s, db := openSetWith(t, policy(c))
	oldAT, oldID := signingKID(s, AccessTokenAlgorithm), signingKID(s, IDTokenAlgorithm)
	secret := derive(t, s)
	if got := maintain(t, s); len(got) != 0 {
		t.Fatalf("Maintain on fresh keys created %v", got)
	}

	c.Advance(89*day - time.Second)
	if got := maintain(t, s); len(got) != 0 {
		t.Fatalf("Maintain a second before the next key is due created %v", got)
	}
	c.Advance(time.Second)
	created := maintain(t, s)
	if len(created) != 2 {
		t.Fatalf("Maintain when due created %v, want a key of each algorithm", created)
	}
	// Published, not yet signing.
	for _, kid := range created {
		if !slices.Contains(jwksKIDs(s), kid) {
			t.Errorf("next key %s is not in the JWKS a day before it signs", kid)
		}
	}
	c.Advance(day - time.Second)
	beforeAT, err := s.SignAccessToken(map[string]string{"sub": "before"})
	if err != nil {
		t.Fatal(err)
	}
	beforeID, _ := s.SignIDToken(map[string]string{"sub": "before"})
	if headerKID(t, beforeAT) != oldAT || headerKID(t, beforeID) != oldID {
		t.Fatal("a next key signed before its activation")
	}

	// From the activation on, with no reload, new tokens use the new keys.
	c.Advance(time.Second)
	if !c.Now().Equal(t0.Add(90 * day)) {
		t.Fatalf("clock at %v", c.Now())
	}
	afterAT, _ := s.SignAccessToken(map[string]string{"sub": "after"})
	afterID, _ := s.SignIDToken(map[string]string{"sub": "after"})
	if kid := headerKID(t, afterAT); kid == oldAT || !slices.Contains(created, kid) {
		t.Errorf("access token after the activation signed by %s, want the new key (one of %v)", kid, created)
	}
	if kid := headerKID(t, afterID); kid == oldID || !slices.Contains(created, kid) {
		t.Errorf("id_token after the activation signed by %s, want the new key (one of %v)", kid, created)
	}
	maintain(t, s) // records when the old keys retire

	retires := t0.Add(90*day + time.Hour + RetirementMargin)
	c.Advance(time.Hour + RetirementMargin - time.Second)
	for _, tok := range []struct{ token, typ string }{{beforeAT, AccessTokenType}, {beforeID, "JWT"}} {
		if _, err := s.Verify(tok.token, tok.typ); err != nil {
			t.Errorf("a token signed before the rotation, a second before its key retires: %v", err)
		}
	}
	if kids := jwksKIDs(s); !slices.Contains(kids, oldAT) || !slices.Contains(kids, oldID) {
		t.Errorf("JWKS %v lost an old key before its tokens expired", kids)
	}
	other, err := Open(t.Context(), db, policy(c)) // another instance agrees
	if err != nil {
		t.Fatal(err)
	}
	if signingKID(other, IDTokenAlgorithm) != headerKID(t, afterID) {
		t.Error("another instance signs id_tokens with another key")
	}

	c.Advance(time.Second)
	if !c.Now().Equal(retires) {
		t.Fatalf("clock at %v, want %v", c.Now(), retires)
	}
	if kids := jwksKIDs(s); slices.Contains(kids, oldAT) || slices.Contains(kids, oldID) || len(kids) != 2 {
		t.Errorf("JWKS %v after the old keys retired, want only the new keys", kids)
	}
	if _, err := s.Verify(beforeAT, AccessTokenType); !errors.Is(err, ErrInvalid) {
		t.Errorf("a token of a retired key: %v, want ErrInvalid", err)
	}
	if _, err := s.Verify(afterAT, AccessTokenType); err != nil {
		t.Errorf("a token of the new key: %v", err)
	}
	if got := maintain(t, s); len(got) != 0 {
		t.Errorf("Maintain after the retirement created %v; the next rotation is 89 days away", got)
	}
	if a, b := derive(t, s), derive(t, other); a != secret || b != secret {
		t.Error("DeriveSecret changed with a scheduled rotation")
	}
	stored, _ := db.ListKeys(t.Context())
	states := map[string]State{}
	for _, st := range Describe(stored, c.Now()) {
		states[st.ID] = st.State
	}
	for kid, want := range map[string]State{oldAT: StateRetired, oldID: StateRetired,
		headerKID(t, afterAT): StateSigning, headerKID(t, afterID): StateSigning} {
		if states[kid] != want {
			t.Errorf("key %s: state %q, want %q", kid, states[kid], want)
		}
	}
}

// TestMissedSchedule: servers that were down when the next key was due
// still publish it a full PublishAhead before it signs.
func TestMissedSchedule(t *testing.T) {
	c := newClock()
	s, _ := openSetWith(t, policy(c))
	old := signingKID(s, AccessTokenAlgorithm)
	c.Advance(200 * day)
	if created := maintain(t, s); len(created) != 2 {
		t.Fatalf("Maintain created %v, want a key of each algorithm", created)
	}
	c.Advance(day - time.Second)
	if kid := signingKID(s, AccessTokenAlgorithm); kid != old {
		t.Error("the late next key signs before it was published for a day")
	}
	c.Advance(time.Second)
	if kid := signingKID(s, AccessTokenAlgorithm); kid == old {
		t.Error("the late next key does not sign after a day")
	}
}

// TestScheduleOff: without RotateEvery, Maintain creates nothing.
func TestScheduleOff(t *testing.T) {
	c := newClock()
	s, _ := openSetWith(t, Options{Now: c.Now})
	c.Advance(1000 * day)
	if created := maintain(t, s); len(created) != 0 {
		t.Errorf("Maintain with rotation off created %v", created)
	}
}

// TestOneInstanceCreatesTheNextKey: instances on one SQLite file (each
// with its own connection) run their janitors at the same moment; one
// next key of each algorithm results. The store's atomic CreateNextKey
// makes it so (storetest's CreateNextKeyConcurrent races it on
// PostgreSQL too).
func TestOneInstanceCreatesTheNextKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	raceNextKey(t, func() store.Store {
		db, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// raceNextKey opens four instances on the stores open returns (one
// database), makes the next key due, runs their janitors at the same
// moment, and checks that exactly one next key of each algorithm was
// created and that every instance publishes the same keys.
func raceNextKey(t *testing.T, open func() store.Store) {
	t.Helper()
	c := newClock()
	const instances = 4
	sets := make([]*Set, instances)
	for i := range sets {
		db := open()
		t.Cleanup(func() { db.Close() })
		var err error
		if sets[i], err = Open(t.Context(), db, policy(c)); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(89 * day)
	var (
		mu      sync.Mutex
		created []string
		wg      sync.WaitGroup
	)
	start := make(chan struct{})
	for _, s := range sets {
		wg.Go(func() {
			<-start
			got, err := s.Maintain(context.Background())
			if err != nil {
				t.Errorf("Maintain: %v", err)
			}
			mu.Lock()
			created = append(created, got...)
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	stored, err := sets[0].st.ListKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	next := 0
	for _, st := range Describe(stored, c.Now()) {
		if st.State == StateNext {
			next++
		}
	}
	if len(created) != 2 || next != 2 || len(stored) != 4 {
		t.Errorf("instances created %v; %d next keys, %d keys stored; want 2 new next keys (one per algorithm), 4 keys",
			created, next, len(stored))
	}
	for _, s := range sets[1:] {
		if err := s.Reload(t.Context()); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(jwksKIDs(s), jwksKIDs(sets[0])) {
			t.Errorf("instances publish different keys: %v and %v", jwksKIDs(s), jwksKIDs(sets[0]))
		}
	}
}

// TestRotate: "keys rotate" publishes the next keys a PublishAhead before
// they sign, once; "keys rotate --now" makes keys that sign at once.
func TestRotate(t *testing.T) {
	c := newClock()
	s, _ := openSetWith(t, Options{Now: c.Now, PublishAhead: 2 * time.Hour})
	old := signingKID(s, IDTokenAlgorithm)
	next, err := s.Rotate(t.Context(), false)
	if err != nil || len(next) != 2 {
		t.Fatalf("Rotate = %v, %v; want two keys", next, err)
	}
	for _, k := range next {
		if !k.ActivatesAt.Equal(c.Now().Add(2 * time.Hour)) {
			t.Errorf("next key %s activates at %v, want in 2h", k.ID, k.ActivatesAt)
		}
	}
	if again, err := s.Rotate(t.Context(), false); err != nil || len(again) != 0 {
		t.Errorf("Rotate with next keys published = %v, %v; want nothing new", again, err)
	}
	if signingKID(s, IDTokenAlgorithm) != old || len(s.JWKS().Keys) != 4 {
		t.Errorf("after Rotate: signing %s (want the old %s), %d keys published (want 4)",
			signingKID(s, IDTokenAlgorithm), old, len(s.JWKS().Keys))
	}
	c.Advance(time.Minute)
	now, err := s.Rotate(t.Context(), true)
	if err != nil || len(now) != 2 {
		t.Fatalf("Rotate(immediately) = %v, %v", now, err)
	}
	if kid := signingKID(s, IDTokenAlgorithm); kid != now[0].ID {
		t.Errorf("after Rotate(immediately) %s signs, want the new %s", kid, now[0].ID)
	}
	// The next keys published before were withdrawn: gone from the JWK
	// Set, they hold no next rotation back, and they never sign.
	for _, k := range next {
		if slices.Contains(jwksKIDs(s), k.ID) {
			t.Errorf("withdrawn next key %s is still published", k.ID)
		}
	}
	later, err := s.Rotate(t.Context(), false)
	if err != nil || len(later) != 2 {
		t.Errorf("Rotate after the withdrawal = %v, %v; want two next keys", later, err)
	}
	c.Advance(2*time.Hour - time.Minute) // the withdrawn keys' time; the later ones' is a minute away
	if kid := signingKID(s, IDTokenAlgorithm); kid != now[0].ID {
		t.Errorf("when the withdrawn next key was due, %s signs; want still %s", kid, now[0].ID)
	}
}

// TestRotateNowAfterLeak: the signing keys leak (with the database) while
// the next keys are published to sign in 20 h, so the old keys were to
// retire in 21 h 5 min. "keys rotate --now": the new keys sign at once;
// the old keys retire MaxTokenLifetime + RetirementMargin after that, on a
// server that recorded it and on one that has just started alike; the
// leaked next keys never sign and leave the JWK Set at once.
func TestRotateNowAfterLeak(t *testing.T) {
	c := newClock()
	t0 := c.Now()
	s, db := openSetWith(t, policy(c))
	k1, k1ID := signingKID(s, AccessTokenAlgorithm), signingKID(s, IDTokenAlgorithm)
	c.Advance(89 * day)
	k2s := maintain(t, s) // published, signs at t0+90d
	maintain(t, s)        // records when K1 retires
	c.Advance(4 * time.Hour)
	want := map[string]time.Time{k1: t0.Add(90*day + time.Hour + RetirementMargin)}
	want[k1ID] = want[k1]
	wantRetirements(t, db, want)
	leaked, err := s.SignAccessToken(map[string]string{"sub": "signed by K1"})
	if err != nil || len(k2s) != 2 {
		t.Fatal(k2s, err)
	}

	c.Advance(time.Minute)
	leak := c.Now()
	cli, err := Open(t.Context(), db, Options{Now: c.Now}) // smartlaunch keys rotate --now
	if err != nil {
		t.Fatal(err)
	}
	k3s, err := cli.Rotate(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	started, err := Open(t.Context(), db, policy(c)) // an instance starting now, before any Maintain
	if err != nil {
		t.Fatal(err)
	}
	maintain(t, s)
	retires := leak.Add(time.Hour + RetirementMargin)
	want[k1], want[k1ID] = retires, retires
	for _, k := range k2s {
		want[k] = leak // withdrawn
	}
	wantRetirements(t, db, want)
	k3 := signingKID(s, AccessTokenAlgorithm)
	if !slices.ContainsFunc(k3s, func(k store.SigningKey) bool { return k.ID == k3 }) {
		t.Errorf("after Maintain %s signs, want one of the new keys", k3)
	}
	for _, set := range []*Set{s, started} {
		kids := jwksKIDs(set)
		for _, k := range k2s {
			if slices.Contains(kids, k) {
				t.Errorf("withdrawn next key %s still published", k)
			}
		}
		if !slices.Contains(kids, k1) || !slices.Contains(kids, k1ID) {
			t.Errorf("K1 left the JWK Set before the tokens it signed expired")
		}
	}

	c.Advance(retires.Sub(c.Now()) - time.Second)
	for name, set := range map[string]*Set{"running": s, "started": started} {
		if _, err := set.Verify(leaked, AccessTokenType); err != nil {
			t.Errorf("%s instance: a token signed by K1 before the rotation, a second before it expires: %v", name, err)
		}
	}
	c.Advance(time.Second)
	for name, set := range map[string]*Set{"running": s, "started": started} {
		if _, err := set.Verify(leaked, AccessTokenType); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s instance: K1 verifies %v after the rotation + token lifetime + margin: %v", name, retires.Sub(leak), err)
		}
		if kids := jwksKIDs(set); len(kids) != 2 || slices.Contains(kids, k1) {
			t.Errorf("%s instance publishes %v, want only the 2 new keys", name, kids)
		}
	}

	// Past the time the withdrawn keys were due: the new keys still sign.
	c.Advance(day)
	maintain(t, s)
	if kid := signingKID(s, AccessTokenAlgorithm); kid != k3 {
		t.Errorf("a day later %s signs, want still %s", kid, k3)
	}
	wantRetirements(t, db, want)
}

// wantRetirements fails t unless the keys of want are stored retiring at
// their times, and the others with no retirement recorded.
func wantRetirements(t *testing.T, st store.Keys, want map[string]time.Time) {
	t.Helper()
	for _, k := range storedKeys(t, st) {
		if w := want[k.ID]; !k.RetiresAt.Equal(w) {
			t.Errorf("key %s (%s) retires at %v, want %v", k.ID, k.Algorithm, k.RetiresAt, w)
		}
	}
}

// TestKeysBeforeSchedule: keys stored before activation and retirement
// times existed (all activating at creation) follow the schedule: the
// newest of each algorithm signs, the older retire at once (their tokens
// expired long ago), and DeriveSecret does not change (its seed stays the
// oldest RSA key).
func TestKeysBeforeSchedule(t *testing.T) {
	c := newClock()
	db := openDB(t)
	old, err := Load(t.Context(), db, c.Now().Add(-30*day))
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := old.DeriveSecret("cookie")
	// Rotations as the release before stored them: a plain new key.
	for _, when := range []time.Duration{-20 * day, -10 * day} {
		for _, alg := range algorithms {
			k, err := old.generate(alg, c.Now().Add(when), time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.CreateKey(t.Context(), k); err != nil {
				t.Fatal(err)
			}
		}
	}
	s, err := Open(t.Context(), db, policy(c))
	if err != nil {
		t.Fatal(err)
	}
	// The schedule retires the older keys even before Maintain records it.
	if n := len(s.JWKS().Keys); n != 2 {
		t.Errorf("%d keys published before the first Maintain, want the 2 signing ones", n)
	}
	maintain(t, s)
	stored, _ := db.ListKeys(t.Context())
	var states []State
	for _, st := range Describe(stored, c.Now()) {
		states = append(states, st.State)
	}
	want := []State{StateRetired, StateRetired, StateRetired, StateRetired, StateSigning, StateSigning}
	if !slices.Equal(states, want) {
		t.Errorf("states after Maintain %v, want %v", states, want)
	}
	if n := len(s.JWKS().Keys); n != 2 {
		t.Errorf("%d keys published, want the 2 signing ones", n)
	}
	if got, _ := s.DeriveSecret("cookie"); string(got) != string(secret) {
		t.Error("DeriveSecret changed when the old keys retired")
	}
}

func TestDescribe(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	stored := []store.SigningKey{
		{ID: "gone", Algorithm: "RS256", CreatedAt: at(0), RetiresAt: at(5)},
		{ID: "old", Algorithm: "RS256", CreatedAt: at(1), RetiresAt: at(20)},
		{ID: "cur-b", Algorithm: "RS256", CreatedAt: at(2), ActivatesAt: at(3)},
		{ID: "cur-a", Algorithm: "RS256", CreatedAt: at(2), ActivatesAt: at(3)}, // same instant: ID decides
		{ID: "es", Algorithm: "ES256", CreatedAt: at(0), PrivateKey: []byte(sealedPrefix + "x")},
		{ID: "next", Algorithm: "RS256", CreatedAt: at(9), ActivatesAt: at(33)},
	}
	got := Describe(stored, at(10))
	want := []struct {
		state      State
		superseded time.Time
	}{
		{StateRetired, at(1)}, {StateRetiring, at(3)}, {StateSigning, at(33)}, {StateRetiring, at(3)},
		{StateSigning, time.Time{}}, {StateNext, time.Time{}},
	}
	for i, w := range want {
		if got[i].ID != stored[i].ID || got[i].State != w.state || !got[i].SupersededAt.Equal(w.superseded) {
			t.Errorf("%s: %s superseded at %v; want %s, %v", got[i].ID, got[i].State, got[i].SupersededAt, w.state, w.superseded)
		}
	}
	if !got[0].ActivatesAt.Equal(at(0)) || !got[4].Encrypted || got[0].Encrypted {
		t.Errorf("ActivatesAt defaults to CreatedAt, Encrypted from the stored bytes: %+v", got)
	}
}

package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// testStaleRefreshTokens holds DeleteStaleRefreshTokens: what it deletes,
// what it keeps, and its limit.
func testStaleRefreshTokens(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	for _, a := range []store.Authorization{authorization("live", "u1", at(0)), authorization("ended", "u1", at(0))} {
		if err := s.CreateAuthorization(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.EndAuthorization(ctx, "ended", at(time.Hour), store.EndUserRevoked); err != nil {
		t.Fatal(err)
	}
	// The live authorization's chain: t0 .. t5, each used at its index
	// hour and replaced by the next; t6 current. One expired token, and a
	// token of the ended authorization.
	var chain []string
	for i := range 7 {
		rt := refreshToken(fmt.Sprintf("live-%d", i))
		rt.AuthorizationID = "live"
		if i < 6 {
			rt.UsedAt, rt.ReplacedBy = at(time.Duration(i+1)*time.Hour), store.Hash(fmt.Sprintf("live-%d", i+1))
		}
		chain = append(chain, rt.Hash)
		if err := s.CreateRefreshToken(ctx, rt); err != nil {
			t.Fatal(err)
		}
	}
	expired := refreshToken("expired")
	expired.AuthorizationID, expired.ExpiresAt = "live", at(2*time.Hour)
	ofEnded := refreshToken("of-ended")
	ofEnded.AuthorizationID = "ended"
	for _, rt := range []store.RefreshToken{expired, ofEnded} {
		if err := s.CreateRefreshToken(ctx, rt); err != nil {
			t.Fatal(err)
		}
	}
	now := at(10 * time.Hour)
	// A limit of 1 deletes one; then the rest: the expired token, the
	// ended authorization's, and the used ones beyond the 2 most recent.
	if n, err := s.DeleteStaleRefreshTokens(ctx, now, 2, 1); err != nil || n != 1 {
		t.Fatalf("DeleteStaleRefreshTokens(limit 1) = %d, %v; want 1", n, err)
	}
	if n, err := s.DeleteStaleRefreshTokens(ctx, now, 2, 100); err != nil || n != 5 {
		t.Fatalf("DeleteStaleRefreshTokens = %d, %v; want 5 more", n, err)
	}
	if n, err := s.DeleteStaleRefreshTokens(ctx, now, 2, 100); err != nil || n != 0 {
		t.Errorf("DeleteStaleRefreshTokens again = %d, %v; want 0", n, err)
	}
	for i, h := range chain {
		_, err := s.GetRefreshToken(ctx, h)
		kept := i >= 4 // t4, t5: the two most recently used; t6: unused
		if kept != (err == nil) || !kept && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("token %d: GetRefreshToken error %v, want kept=%v", i, err, kept)
		}
	}
	for _, h := range []string{expired.Hash, ofEnded.Hash} {
		if _, err := s.GetRefreshToken(ctx, h); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("stale token kept: %v", err)
		}
	}
}

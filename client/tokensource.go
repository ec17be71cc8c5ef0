package client

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"time"
)

// TokenSource hands out a valid access token, refreshing it shortly
// before expiry and never presenting a refresh token twice (see the
// package documentation). It is safe for concurrent use.
type TokenSource struct {
	c   *Client
	key *dpopKey
	// fetch, when set, gets a new token without a refresh token (backend
	// services); the store is then this source's own memory.
	fetch func(ctx context.Context) (*Token, error)

	claimant string // this source's name in refresh claims

	mu  sync.Mutex // one refresh at a time in this process
	tok *Token     // the last token this source handed out or adopted
}

// TokenSource returns the source of s's tokens, shared through
// Config.Store. s may be nil to resume the authorization kept in the
// store (by this or another process).
func (c *Client) TokenSource(s *Session) *TokenSource {
	ts := &TokenSource{c: c, key: c.dpop, claimant: c.cfg.Claimant + "#" + randomString(6)}
	if s != nil {
		ts.tok = clone(s.Token)
	}
	return ts
}

// Token returns a token whose access token is valid for at least
// Config.RefreshBefore. Errors that wrap ErrAuthorizationEnded mean the
// user must sign in again.
func (ts *TokenSource) Token(ctx context.Context) (*Token, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.tok.fresh(ts.c.now(), ts.c.cfg.RefreshBefore) { // the time after any wait
		return clone(ts.tok), nil
	}
	if ts.fetch != nil {
		t, err := ts.fetch(ctx)
		if err != nil {
			return nil, err
		}
		ts.tok = t
		return clone(t), nil
	}
	t, err := ts.refresh(ctx)
	if err != nil {
		return nil, err
	}
	ts.tok = t
	return clone(t), nil
}

// refresh runs the cross-process protocol: adopt, wait, or claim, present
// and store. ts.mu is held.
func (ts *TokenSource) refresh(ctx context.Context) (*Token, error) {
	st, cfg := ts.c.cfg.Store, ts.c.cfg
	wait := 5 * time.Millisecond
	for {
		cur, ver, err := st.Load(ctx)
		if err != nil {
			return nil, fmt.Errorf("client: load token: %w", err)
		}
		now := ts.c.now()
		switch {
		case cur == nil:
			return nil, fmt.Errorf("%w: no token stored", ErrAuthorizationEnded)
		case cur.Ended != "":
			return nil, fmt.Errorf("%w: %s", ErrAuthorizationEnded, cur.Ended)
		case cur.Claim != nil && now.Sub(cur.Claim.At) > cfg.ClaimTimeout:
			// The claimant vanished mid-refresh, perhaps after presenting
			// the token: it is spent.
			spent := clone(cur)
			spent.Claim, spent.Ended = nil, fmt.Sprintf("refresh claimed by %s at %s never completed; the refresh token may have been used",
				cur.Claim.By, cur.Claim.At.Format(time.RFC3339))
			if err := st.CompareAndSwap(ctx, ver, spent); err != nil && !errors.Is(err, ErrConflict) {
				return nil, fmt.Errorf("client: store token: %w", err)
			}
			continue // report what the store now says
		case cur.Claim != nil:
			// Someone else is refreshing: wait for the result.
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
			wait = min(2*wait, 100*time.Millisecond)
			continue
		case cur.fresh(now, cfg.RefreshBefore):
			return cur, nil // someone refreshed: adopt, no request
		case cur.RefreshToken == "":
			return nil, fmt.Errorf("%w: the access token expired and there is no refresh token", ErrAuthorizationEnded)
		}
		if err := ts.keyMatches(cur); err != nil {
			return nil, err // presenting it with another key could only fail
		}
		claimed := clone(cur)
		claimed.Claim = &Claim{By: ts.claimant, At: now}
		if err := st.CompareAndSwap(ctx, ver, claimed); errors.Is(err, ErrConflict) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("client: claim refresh: %w", err)
		}
		return ts.present(ctx, cur, ver+1)
	}
}

// present spends cur's refresh token, which this party has claimed at
// version ver, and stores the outcome.
func (ts *TokenSource) present(ctx context.Context, cur *Token, ver uint64) (*Token, error) {
	st := ts.c.cfg.Store
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {cur.RefreshToken}}
	// Once sent, the request must finish and its answer be stored whatever
	// happens to the caller's context: a cancelled caller must not turn a
	// refresh into a lost one. It gets half the claim timeout, so no
	// other party declares the claim stale while it runs.
	storeCtx := context.WithoutCancel(ctx)
	rctx, cancel := context.WithTimeout(storeCtx, ts.c.cfg.ClaimTimeout/2)
	defer cancel()
	tr, err := ts.c.postToken(rctx, form, ts.key)
	var next *Token
	var result error
	var ae *AuthError
	switch {
	case err == nil:
		next = ts.c.token(tr, ts.key)
		if next.RefreshToken == "" {
			next.RefreshToken = cur.RefreshToken // not rotated (RFC 6749 §6)
		}
	case errors.As(err, &ae) && ae.Code == "invalid_grant":
		next = clone(cur)
		next.Claim, next.Ended = nil, "the server ended the authorization: "+ae.Description
		result = fmt.Errorf("%w: %w", ErrAuthorizationEnded, ae)
	case errors.Is(err, errNotSent):
		// The server was never reached (down, unreachable): the token is
		// unused. Release the claim; a later Token call tries again.
		next = clone(cur)
		next.Claim = nil
		result = fmt.Errorf("client: refresh: %w", err)
	case errors.As(err, &ae) && !refusedBeforeGrant(ae.Code):
		// Any other error may have come after the grant was read (or from
		// a gateway that consumed it): spent, as if lost.
		next = clone(cur)
		next.Claim, next.Ended = nil, "the refresh was refused ("+ae.Code+") after the refresh token may have been used"
		result = fmt.Errorf("%w: %w", ErrAuthorizationEnded, ae)
	case errors.As(err, &ae):
		// A definite refusal before the grant was used (invalid_client,
		// invalid_dpop_proof...): release the claim, keep the token.
		next = clone(cur)
		next.Claim = nil
		result = fmt.Errorf("client: refresh: %w", err)
	default:
		// Lost: the token may have been used. Spent, never retried.
		next = clone(cur)
		next.Claim, next.Ended = nil, "a refresh response was lost: "+err.Error()
		result = fmt.Errorf("%w (%w)", ErrRefreshLost, err)
	}
	if err := st.CompareAndSwap(storeCtx, ver, next); err != nil {
		// Someone declared our claim stale: the store says the token is
		// spent, and an unstored token is never used.
		return nil, fmt.Errorf("%w: storing the refreshed token: %w", ErrAuthorizationEnded, err)
	}
	if result != nil {
		return nil, result
	}
	return next, nil
}

// refusedBeforeGrant reports whether a token endpoint error code is one a
// server gives before it reads the grant: client authentication and the
// DPoP proof are checked first (RFC 6749 §3.2.1, RFC 9449 §5), so the
// refresh token was not used.
func refusedBeforeGrant(code string) bool {
	switch code {
	case "invalid_client", "invalid_dpop_proof", "use_dpop_nonce":
		return true
	}
	return false
}

// keyMatches refuses a token bound to a DPoP key (RFC 9449 §6) other than
// this source's: its proofs could only be refused.
func (ts *TokenSource) keyMatches(t *Token) error {
	if t.JKT == "" {
		return nil
	}
	if ts.key == nil || ts.key.jkt != t.JKT {
		return errors.New("client: the stored token is bound to another DPoP key than this Client's (Config.DPoP)")
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func defaultClaimant() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), randomString(6))
}

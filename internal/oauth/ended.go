package oauth

import (
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// endedError tells the app why an authorization no longer works, in plain
// words and without secrets, so it can tell its user what happened and
// whether signing in again makes sense (invalid_grant, RFC 6749 §5.2).
func endedError(a store.Authorization, now time.Time) *Error {
	var why string
	switch a.EndReason {
	case store.EndRefreshTokenReuse:
		why = "access ended: a refresh token was used twice, which can mean it was stolen; the user must sign in again"
	case store.EndUserRevoked:
		why = "access ended: the user took this app's access back"
	case store.EndAdminRevoked:
		why = "access ended: an administrator ended this app's access"
	case store.EndClientRevoked:
		why = "access ended: the app revoked its own token"
	case store.EndCodeReplay:
		why = "access ended: the authorization code was used twice"
	case store.EndExpired:
		why = "access expired; the user must sign in again"
	default:
		why = "access ended"
		if a.EndedAt.IsZero() && !a.ExpiresAt.IsZero() && !now.Before(a.ExpiresAt) {
			why = "access expired; the user must sign in again"
		}
	}
	return newError(ErrInvalidGrant, why)
}

package oauth

import (
	"net/http"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// TokenLimit bounds the token endpoint's requests per client with a token
// bucket: Burst at once, refilled at Rate per second. A zero Rate (the
// default) turns the limit off.
//
// The bucket is counted after client authentication, so a confidential
// client's budget is spent only by requests carrying its credentials. A
// public client authenticates with nothing but its client_id, which
// anyone may send and which all its installations share, so its requests
// are counted per client and client address (ratelimit.Client) instead:
// one device cannot spend the budget of the app's other users.
type TokenLimit struct {
	Rate  float64
	Burst int
	// MaxKeys bounds the limit's memory (ratelimit.DefaultMaxKeys when 0).
	MaxKeys int
}

// errTooManyRequests answers a request over the token endpoint's limit:
// 429 with Retry-After. The code is invalid_request (RFC 6749 §5.2), which
// every client of every grant understands; slow_down (RFC 8628 §3.5) is
// defined only for device-code polling, which this server does not offer.
func errTooManyRequests(wait time.Duration) *Error {
	return &Error{Code: ErrInvalidRequest, Description: "too many requests", Status: http.StatusTooManyRequests,
		RetryAfter: wait}
}

// limitToken spends one of client's token-endpoint requests.
func (s *Server) limitToken(r *http.Request, client store.Client) error {
	key := client.ID
	if client.Type == store.ClientPublic {
		// Counted per network for IPv6 (a /64), like the sign-in limits:
		// one device can take a fresh address from its /64 at will.
		key += "\x00" + ratelimit.AddressKey(ratelimit.Client(r))
	}
	if wait, ok := s.tokenLimit.Allow(key); !ok {
		return errTooManyRequests(wait)
	}
	return nil
}

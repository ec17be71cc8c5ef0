package consent

import (
	"net"
	"net/http"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
)

// SignInLimits bound failed sign-ins, so passwords cannot be guessed
// online at speed. Three limits apply to every attempt, each a
// ratelimit.Policy (failures within a window lock for a fixed time that
// attempts made meanwhile never extend):
//
//   - PerAccountIP, strict, counts one username's failures from one client
//     IP: the attacker at that address is stopped without touching the
//     account's owner elsewhere. A successful sign-in clears it.
//   - PerIP, strict, counts one address's failures whatever the username,
//     against trying one password on many accounts.
//   - PerAccount counts one username's failures from any address, against
//     guessing spread over many addresses. It locks the account for
//     everyone, so its threshold is higher and its lockout short: an
//     attacker can keep the account only in short lockouts, each paid for
//     with PerAccount.Failures fresh guesses.
//
// A limited attempt is answered 429 with Retry-After before the password
// is looked at, and is not counted. Unknown usernames are counted like
// known ones, so the limits say nothing about which accounts exist. The
// client IP is the connection's peer address (RemoteAddr): behind a
// reverse proxy every person shares the proxy's address for PerIP.
//
// A zero Policy takes its default (DefaultSignInLimits); a Policy with
// negative Failures turns that limit off.
type SignInLimits struct {
	PerAccountIP ratelimit.Policy
	PerIP        ratelimit.Policy
	PerAccount   ratelimit.Policy
	// MaxKeys bounds each limit's memory (ratelimit.DefaultMaxKeys when 0).
	MaxKeys int
}

// DefaultSignInLimits are the limits a zero SignInLimits takes.
var DefaultSignInLimits = SignInLimits{
	PerAccountIP: ratelimit.Policy{Failures: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute},
	PerIP:        ratelimit.Policy{Failures: 50, Window: 15 * time.Minute, Lockout: 15 * time.Minute},
	PerAccount:   ratelimit.Policy{Failures: 20, Window: 15 * time.Minute, Lockout: 5 * time.Minute},
}

// signInLimiter applies SignInLimits.
type signInLimiter struct {
	pair, ip, account *ratelimit.Lockout
}

func newSignInLimiter(l SignInLimits, now func() time.Time) *signInLimiter {
	lockout := func(p, def ratelimit.Policy) *ratelimit.Lockout {
		if p == (ratelimit.Policy{}) {
			p = def
		}
		return ratelimit.NewLockout(p, l.MaxKeys, now) // nil, never locking, when turned off
	}
	d := DefaultSignInLimits
	return &signInLimiter{
		pair:    lockout(l.PerAccountIP, d.PerAccountIP),
		ip:      lockout(l.PerIP, d.PerIP),
		account: lockout(l.PerAccount, d.PerAccount),
	}
}

// pairKey joins an address and a username; an address has no NUL.
func pairKey(ip, username string) string { return ip + "\x00" + username }

// limited reports whether a sign-in from ip as username must be refused,
// and for how long: the longest of the lockouts that apply.
func (s *signInLimiter) limited(ip, username string) (time.Duration, bool) {
	var wait time.Duration
	var refused bool
	for _, c := range []struct {
		l   *ratelimit.Lockout
		key string
	}{{s.pair, pairKey(ip, username)}, {s.ip, ip}, {s.account, username}} {
		if d, locked := c.l.Locked(c.key); locked {
			wait, refused = max(wait, d), true
		}
	}
	return wait, refused
}

// failed counts a failed sign-in.
func (s *signInLimiter) failed(ip, username string) {
	s.pair.Fail(pairKey(ip, username))
	s.ip.Fail(ip)
	s.account.Fail(username)
}

// succeeded clears the failures of this username from this address.
func (s *signInLimiter) succeeded(ip, username string) {
	s.pair.Reset(pairKey(ip, username))
}

// clientIP is the host of the connection's peer address; no forwarding
// header is trusted.
func clientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

var errTooManySignIns = &errPage{status: http.StatusTooManyRequests,
	msg: "There have been too many failed sign-ins. Wait a few minutes, then try again."}

package ratelimit

import (
	"net/netip"
	"time"
)

// SignInLimits bound failed sign-ins, so passwords cannot be guessed
// online at speed. Three limits apply to every attempt, each a Policy
// (failures within a window lock for a fixed time that attempts made
// meanwhile never extend):
//
//   - PerAccountIP, strict, counts one username's failures from one client
//     address: the attacker there is stopped without touching the
//     account's owner elsewhere. A successful sign-in clears it.
//   - PerIP, strict, counts one address's failures whatever the username,
//     against trying one password on many accounts.
//   - PerAccount counts one username's failures from any address, against
//     guessing spread over many addresses. It locks the account for
//     everyone, so its threshold is higher and its lockout short: an
//     attacker can keep the account only in short lockouts, each paid for
//     with PerAccount.Failures fresh guesses.
//
// An IPv6 client address counts as its /64 network, the block one
// subscriber is usually given, so rotating through it gains nothing.
//
// A zero Policy takes its default (DefaultSignInLimits); a Policy with
// negative Failures turns that limit off.
type SignInLimits struct {
	PerAccountIP Policy
	PerIP        Policy
	PerAccount   Policy
	// MaxKeys bounds each limit's memory (DefaultMaxKeys when 0).
	MaxKeys int
}

// DefaultSignInLimits are the limits a zero SignInLimits takes.
var DefaultSignInLimits = SignInLimits{
	PerAccountIP: Policy{Failures: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute},
	PerIP:        Policy{Failures: 50, Window: 15 * time.Minute, Lockout: 15 * time.Minute},
	PerAccount:   Policy{Failures: 20, Window: 15 * time.Minute, Lockout: 5 * time.Minute},
}

// SignIn applies SignInLimits to password forms. The server makes one and
// hands it to every form that checks a password, so failures on one form
// count on all of them.
//
// A form asks Limited before it looks at the password and, when limited,
// answers 429 with Retry-After (SetRetryAfter) without counting the
// attempt; otherwise it reports the outcome with Failed or Succeeded.
// Unknown usernames must be reported like known ones, so the limits say
// nothing about which accounts exist.
type SignIn struct {
	pair, ip, account *Lockout
}

// NewSignIn returns a SignIn for l, reading time from now (time.Now when
// nil).
func NewSignIn(l SignInLimits, now func() time.Time) *SignIn {
	lockout := func(p, def Policy) *Lockout {
		if p == (Policy{}) {
			p = def
		}
		return NewLockout(p, l.MaxKeys, now) // nil, never locking, when turned off
	}
	d := DefaultSignInLimits
	return &SignIn{
		pair:    lockout(l.PerAccountIP, d.PerAccountIP),
		ip:      lockout(l.PerIP, d.PerIP),
		account: lockout(l.PerAccount, d.PerAccount),
	}
}

// Limited reports whether a sign-in from the client address addr as
// username must be refused, and for how long: the longest of the
// lockouts that apply.
func (s *SignIn) Limited(addr, username string) (time.Duration, bool) {
	var wait time.Duration
	var refused bool
	ip := AddressKey(addr)
	for _, c := range []struct {
		l   *Lockout
		key string
	}{{s.pair, pairKey(ip, username)}, {s.ip, ip}, {s.account, username}} {
		if d, locked := c.l.Locked(c.key); locked {
			wait, refused = max(wait, d), true
		}
	}
	return wait, refused
}

// Failed counts a failed sign-in from addr as username.
func (s *SignIn) Failed(addr, username string) {
	ip := AddressKey(addr)
	s.pair.Fail(pairKey(ip, username))
	s.ip.Fail(ip)
	s.account.Fail(username)
}

// Succeeded clears the failures of username from addr.
func (s *SignIn) Succeeded(addr, username string) {
	s.pair.Reset(pairKey(AddressKey(addr), username))
}

// pairKey joins an address key and a username; an address has no NUL.
func pairKey(ip, username string) string { return ip + "\x00" + username }

// AddressKey is the key one client address counts under: an IPv4 address
// itself, an IPv6 address its /64 network, anything else unchanged.
func AddressKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	if a = a.Unmap().WithZone(""); a.Is6() {
		p, _ := a.Prefix(64) // cannot fail for a 128-bit address
		return p.String()
	}
	return a.String()
}

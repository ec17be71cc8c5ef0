package config

import (
	"math"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
)

// checkLimits checks rate_limits and server.trusted_proxies.
func (f *File) checkLimits(add adder) {
	rl := f.RateLimits
	for _, c := range []struct {
		key string
		n   int
	}{
		{"rate_limits.signin_per_account_ip", rl.SignInPerAccountIP},
		{"rate_limits.signin_per_ip", rl.SignInPerIP},
		{"rate_limits.signin_per_account", rl.SignInPerAccount},
	} {
		if c.n < 0 {
			add("%s: %d is negative (0 turns the limit off)", c.key, c.n)
		}
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"rate_limits.signin_window", rl.SignInWindow},
		{"rate_limits.signin_lockout", rl.SignInLockout},
		{"rate_limits.signin_lockout_per_account", rl.SignInLockoutPerAccount},
	} {
		if d.v < time.Second {
			add("%s: %v is shorter than 1s", d.key, d.v)
		}
	}
	if r := rl.TokenRate; r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		add("rate_limits.token_rate: %v is not a number of requests per second, 0 or more", r)
	}
	if rl.TokenBurst < 1 {
		add("rate_limits.token_burst: %d is less than 1", rl.TokenBurst)
	}
	for _, p := range f.Server.TrustedProxies {
		if _, err := ratelimit.ParseProxy(p); err != nil {
			add("server.trusted_proxies: %q is not an address or CIDR prefix", p)
		}
	}
}

package main

import (
	"flag"
	"fmt"
	"math"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/oauth"
	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
)

// limitFlags are serve's flags for the rate limits and the trusted
// proxies that name the client address the limits count by.
type limitFlags struct {
	perAccountIP, perIP, perAccount *int
	window, lockout, accountLockout *time.Duration
	tokenRate                       *float64
	tokenBurst                      *int
	trustedProxies                  *string
}

// defaultTokenBurst is --token-rate-burst's default.
const defaultTokenBurst = 10

func addLimitFlags(fs *flag.FlagSet) *limitFlags {
	d := ratelimit.DefaultSignInLimits
	return &limitFlags{
		perAccountIP: fs.Int("signin-limit-per-account-ip", d.PerAccountIP.Failures, "failed sign-ins for one account from one client address, within --signin-limit-window, before that pair is locked for --signin-lockout (0: no such limit)"),
		perIP:        fs.Int("signin-limit-per-ip", d.PerIP.Failures, "failed sign-ins from one client address (an IPv6 /64), any account, before the address is locked for --signin-lockout (0: no such limit)"),
		perAccount:   fs.Int("signin-limit-per-account", d.PerAccount.Failures, "failed sign-ins for one account from any address before the account is locked for everyone for --signin-lockout-per-account (0: no such limit)"),
		window:       fs.Duration("signin-limit-window", d.PerAccountIP.Window, "period the failed sign-ins of each limit are counted over"),
		lockout:      fs.Duration("signin-lockout", d.PerAccountIP.Lockout, "how long the per-account-and-address and per-address sign-in limits lock"),
		accountLockout: fs.Duration("signin-lockout-per-account", d.PerAccount.Lockout,
			"how long the per-account sign-in limit locks the account (keep it short: it locks out the owner too)"),
		tokenRate:      fs.Float64("token-rate-limit", 0, "token-endpoint requests per second per client (a public client: per client and address); 0: no limit"),
		tokenBurst:     fs.Int("token-rate-burst", defaultTokenBurst, "token-endpoint requests a client may make at once under --token-rate-limit"),
		trustedProxies: fs.String("trusted-proxies", "", "comma-separated CIDR prefixes or addresses of reverse proxies whose X-Forwarded-For names the client (empty: the header is ignored)"),
	}
}

// serverLimits are the server settings the limit flags make.
type serverLimits struct {
	signIn  ratelimit.SignInLimits
	token   oauth.TokenLimit
	proxies ratelimit.Proxies
}

// config checks the flags and returns the settings they make.
func (f *limitFlags) config() (serverLimits, error) {
	var l serverLimits
	for name, n := range map[string]int{"signin-limit-per-account-ip": *f.perAccountIP,
		"signin-limit-per-ip": *f.perIP, "signin-limit-per-account": *f.perAccount} {
		if n < 0 {
			return l, fmt.Errorf("serve: --%s must not be negative (0 turns the limit off)", name)
		}
	}
	for name, d := range map[string]time.Duration{"signin-limit-window": *f.window,
		"signin-lockout": *f.lockout, "signin-lockout-per-account": *f.accountLockout} {
		if d < time.Second {
			return l, fmt.Errorf("serve: --%s must be at least 1s", name)
		}
	}
	if r := *f.tokenRate; r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		return l, fmt.Errorf("serve: --token-rate-limit must be a number of requests per second, 0 or more")
	}
	if *f.tokenBurst < 1 {
		return l, fmt.Errorf("serve: --token-rate-burst must be at least 1")
	}
	proxies, err := ratelimit.ParseProxies(*f.trustedProxies)
	if err != nil {
		return l, fmt.Errorf("serve: --trusted-proxies: %w", err)
	}
	l.signIn = ratelimit.SignInLimits{
		PerAccountIP: signInPolicy(*f.perAccountIP, *f.window, *f.lockout),
		PerIP:        signInPolicy(*f.perIP, *f.window, *f.lockout),
		PerAccount:   signInPolicy(*f.perAccount, *f.window, *f.accountLockout),
	}
	l.token = oauth.TokenLimit{Rate: *f.tokenRate, Burst: *f.tokenBurst}
	l.proxies = proxies
	return l, nil
}

// signInPolicy is one sign-in limit: failures within window lock for
// lockout; 0 failures turn it off.
func signInPolicy(failures int, window, lockout time.Duration) ratelimit.Policy {
	if failures == 0 {
		return ratelimit.Policy{Failures: -1}
	}
	return ratelimit.Policy{Failures: failures, Window: window, Lockout: lockout}
}

package ratelimit

import (
	"testing"
	"time"
)

// TestSignIn: the three limits of a SignIn, each on its own key, and a
// success clearing only its own account and address.
func TestSignIn(t *testing.T) {
	small := SignInLimits{
		PerAccountIP: Policy{Failures: 2, Window: time.Minute, Lockout: 3 * time.Minute},
		PerIP:        Policy{Failures: 3, Window: time.Minute, Lockout: 2 * time.Minute},
		PerAccount:   Policy{Failures: 4, Window: time.Minute, Lockout: time.Minute},
	}
	type attempt struct {
		addr, user string
		fail, ok   bool // record a failure or a success after asking
		wantWait   time.Duration
	}
	for _, tc := range []struct {
		name     string
		limits   SignInLimits
		attempts []attempt
	}{
		{"per account and address", small, []attempt{
			{"192.0.2.1", "a", true, false, 0}, {"192.0.2.1", "a", true, false, 0},
			{"192.0.2.1", "a", false, false, 3 * time.Minute},
			{"192.0.2.2", "a", false, false, 0}, {"192.0.2.1", "b", false, false, 0},
		}},
		{"per address across usernames", small, []attempt{
			{"192.0.2.1", "a", true, false, 0}, {"192.0.2.1", "b", true, false, 0}, {"192.0.2.1", "c", true, false, 0},
			{"192.0.2.1", "d", false, false, 2 * time.Minute}, {"192.0.2.2", "d", false, false, 0},
		}},
		{"per account across addresses", small, []attempt{
			{"192.0.2.1", "a", true, false, 0}, {"192.0.2.2", "a", true, false, 0},
			{"192.0.2.3", "a", true, false, 0}, {"192.0.2.4", "a", true, false, 0},
			{"192.0.2.5", "a", false, false, time.Minute}, {"192.0.2.5", "b", false, false, 0},
		}},
		{"the longest lockout is the wait", small, []attempt{
			{"192.0.2.1", "a", true, false, 0}, {"192.0.2.1", "a", true, false, 0},
			{"192.0.2.1", "b", true, false, 0},
			{"192.0.2.1", "a", false, false, 3 * time.Minute},
		}},
		{"success clears only its pair", small, []attempt{
			{"192.0.2.1", "a", true, false, 0}, {"192.0.2.1", "a", false, true, 0},
			{"192.0.2.1", "a", true, false, 0}, {"192.0.2.1", "a", false, false, 0},
			{"192.0.2.1", "b", true, false, 0},
			{"192.0.2.1", "c", false, false, 2 * time.Minute}, // per address still counted
		}},
		{"IPv6 counts per /64", small, []attempt{
			{"2001:db8::1", "a", true, false, 0}, {"2001:db8::2", "a", true, false, 0},
			{"2001:db8::ffff:3", "a", false, false, 3 * time.Minute},
			{"2001:db8:0:1::1", "a", false, false, 0},
		}},
		{"IPv4-mapped is the IPv4 address", small, []attempt{
			{"::ffff:192.0.2.1", "a", true, false, 0}, {"192.0.2.1", "a", true, false, 0},
			{"192.0.2.1", "a", false, false, 3 * time.Minute},
		}},
		{"negative Failures turns a limit off", SignInLimits{PerAccountIP: Policy{Failures: -1},
			PerIP: Policy{Failures: -1}, PerAccount: Policy{Failures: -1}}, []attempt{
			{"192.0.2.1", "a", true, false, 0}, {"192.0.2.1", "a", true, false, 0}, {"192.0.2.1", "a", true, false, 0},
			{"192.0.2.1", "a", true, false, 0}, {"192.0.2.1", "a", true, false, 0}, {"192.0.2.1", "a", true, false, 0},
			{"192.0.2.1", "a", false, false, 0},
		}},
		{"zero limits are the defaults", SignInLimits{}, []attempt{
			{"192.0.2.1", "a", true, false, 0}, {"192.0.2.1", "a", true, false, 0}, {"192.0.2.1", "a", true, false, 0},
			{"192.0.2.1", "a", true, false, 0}, {"192.0.2.1", "a", true, false, 0},
			{"192.0.2.1", "a", false, false, DefaultSignInLimits.PerAccountIP.Lockout},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSignIn(tc.limits, newClock().now)
			for i, a := range tc.attempts {
				wait, limited := s.Limited(a.addr, a.user)
				if limited != (a.wantWait > 0) || wait != a.wantWait {
					t.Fatalf("attempt %d (%s as %s): Limited = %v, %v; want wait %v", i, a.addr, a.user, wait, limited, a.wantWait)
				}
				switch {
				case a.fail:
					s.Failed(a.addr, a.user)
				case a.ok:
					s.Succeeded(a.addr, a.user)
				}
			}
		})
	}
}

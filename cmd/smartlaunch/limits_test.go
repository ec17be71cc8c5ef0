package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartlaunch/smartlaunch/internal/oauth"
	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
)

// TestLimitFlags: the rate-limit flags, from the command line or the
// configuration file's rate_limits and server.trusted_proxies, make the
// server's limits; 0 turns a sign-in limit off.
func TestLimitFlags(t *testing.T) {
	file := writeConfig(t, `version: 1
server:
  trusted_proxies: [10.0.0.0/8, 192.0.2.7]
rate_limits:
  signin_per_account_ip: 3
  signin_per_ip: 0
  signin_window: 10m
  signin_lockout_per_account: 2m
  token_rate: 2.5
  token_burst: 4
`)
	d := ratelimit.DefaultSignInLimits
	for _, tc := range []struct {
		name string
		args []string
		file string
		want serverLimits
	}{
		{"defaults", nil, "", serverLimits{
			signIn: d,
			token:  oauth.TokenLimit{Rate: 0, Burst: defaultTokenBurst},
		}},
		{"flags", []string{"--signin-limit-per-account-ip", "3", "--signin-limit-per-ip", "0", "--signin-limit-window", "10m",
			"--signin-lockout-per-account", "2m", "--token-rate-limit", "2.5", "--token-rate-burst", "4",
			"--trusted-proxies", "10.0.0.0/8, 192.0.2.7"}, "", serverLimits{
			signIn: ratelimit.SignInLimits{
				PerAccountIP: ratelimit.Policy{Failures: 3, Window: 10 * time.Minute, Lockout: 15 * time.Minute},
				PerIP:        ratelimit.Policy{Failures: -1},
				PerAccount:   ratelimit.Policy{Failures: 20, Window: 10 * time.Minute, Lockout: 2 * time.Minute},
			},
			token:   oauth.TokenLimit{Rate: 2.5, Burst: 4},
			proxies: ratelimit.Proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32")},
		}},
		{"file, with a flag overriding it", []string{"--token-rate-burst", "7"}, file, serverLimits{
			signIn: ratelimit.SignInLimits{
				PerAccountIP: ratelimit.Policy{Failures: 3, Window: 10 * time.Minute, Lockout: 15 * time.Minute},
				PerIP:        ratelimit.Policy{Failures: -1},
				PerAccount:   ratelimit.Policy{Failures: 20, Window: 10 * time.Minute, Lockout: 2 * time.Minute},
			},
			token:   oauth.TokenLimit{Rate: 2.5, Burst: 7},
			proxies: ratelimit.Proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32")},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			lf := addLimitFlags(fs)
			// The other settings of a file need their flags too.
			for _, c := range configFlags() {
				if fs.Lookup(c.flag) == nil {
					fs.String(c.flag, "", "")
				}
			}
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if err := applyConfigFile(fs, tc.file); err != nil {
				t.Fatal(err)
			}
			got, err := lf.config()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(serverLimits{}),
				cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("limits (-want +got):\n%s", diff)
			}
		})
	}
}

// TestServeRefusesLimitFlags: bad limit flags are refused before anything
// starts.
func TestServeRefusesLimitFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"negative sign-in limit", []string{"--signin-limit-per-ip", "-1"}, "--signin-limit-per-ip must not be negative"},
		{"short window", []string{"--signin-limit-window", "0s"}, "--signin-limit-window must be at least 1s"},
		{"short lockout", []string{"--signin-lockout-per-account", "10ms"}, "--signin-lockout-per-account must be at least 1s"},
		{"negative token rate", []string{"--token-rate-limit", "-2"}, "--token-rate-limit must be a number"},
		{"zero burst", []string{"--token-rate-burst", "0"}, "--token-rate-burst must be at least 1"},
		{"bad trusted proxy", []string{"--trusted-proxies", "10.0.0.0/8,proxy.internal"}, `--trusted-proxies: trusted proxy "proxy.internal"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data}, tc.args...)
			err := run(context.Background(), args, nil, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("serve %v: %v, want an error containing %q", tc.args, err, tc.want)
			}
			if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("serve created its data directory before refusing (stat: %v)", err)
			}
		})
	}
}

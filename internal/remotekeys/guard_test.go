package remotekeys

import (
	"errors"
	"net/netip"
	"testing"
)

// the connect-time address classifier. Nothing here connects.
func TestAddressPolicy(t *testing.T) {
	tests := []struct {
		ip                        string
		strict, loopback, private bool // allowed by: default, AllowLoopback, AllowPrivate
	}{
		{"8.8.8.8", true, true, true},
		{"2001:4860:4860::8888", true, true, true},
		{"64:ff9b::808:808", true, true, true}, // NAT64 of 8.8.8.8
		{"10.0.0.1", false, false, true},
		{"172.16.5.4", false, false, true},
		{"172.31.255.255", false, false, true},
		{"172.32.0.1", true, true, true},
		{"192.168.1.1", false, false, true},
		{"169.254.169.254", false, false, true}, // cloud metadata
		{"fd00:ec2::254", false, false, true},   // AWS IPv6 metadata
		{"100.64.0.1", false, false, true},
		{"198.18.0.1", false, false, true},
		{"fe80::1", false, false, true},
		{"fc00::1", false, false, true},
		{"::ffff:10.0.0.1", false, false, true},
		{"::ffff:169.254.169.254", false, false, true},
		{"64:ff9b::a00:5", false, false, true},    // NAT64 of 10.0.0.5
		{"64:ff9b:1:a00:5::", false, false, true}, // local NAT64 of 10.0.0.5
		{"2002:a9fe:a9fe::1", false, false, true}, // 6to4 of 169.254.169.254
		{"127.0.0.1", false, true, false},
		{"127.1.2.3", false, true, false},
		{"::1", false, true, false},
		{"::ffff:127.0.0.1", false, true, false},
		{"64:ff9b::7f00:1", false, true, false}, // NAT64 of 127.0.0.1
		{"0.0.0.0", false, false, false},
		{"0.1.2.3", false, false, false},
		{"::", false, false, false},
		{"::ffff:0.0.0.0", false, false, false},
		{"224.0.0.1", false, false, false},
		{"ff02::1", false, false, false},
		{"255.255.255.255", false, false, false},
		{"240.0.0.1", false, false, false},
		{"::10.0.0.1", false, false, false}, // deprecated IPv4-compatible
		{"fe80::1%eth0", false, false, false},
	}
	policies := []struct {
		name   string
		policy addressPolicy
		want   func(strict, loopback, private bool) bool
	}{
		{"default", addressPolicy{}, func(s, _, _ bool) bool { return s }},
		{"AllowLoopback", addressPolicy{allowLoopback: true}, func(_, l, _ bool) bool { return l }},
		{"AllowPrivate", addressPolicy{allowPrivate: true}, func(_, _, p bool) bool { return p }},
	}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.ip)
		for _, p := range policies {
			err := p.policy.check(ip)
			want := p.want(tt.strict, tt.loopback, tt.private)
			if got := err == nil; got != want {
				t.Errorf("%s %s: allowed = %v (%v), want %v", p.name, tt.ip, got, err, want)
			}
			if err != nil && !errors.Is(err, errForbiddenAddress) {
				t.Errorf("%s %s: err = %v, want errForbiddenAddress", p.name, tt.ip, err)
			}
		}
	}
}

// The dialer hook checks the resolved address it is given.
func TestControlHook(t *testing.T) {
	p := addressPolicy{}
	tests := []struct {
		network, address string
		ok               bool
	}{
		{"tcp4", "8.8.8.8:443", true},
		{"tcp6", "[2001:4860:4860::8888]:443", true},
		{"tcp4", "127.0.0.1:443", false},
		{"tcp6", "[::ffff:10.0.0.1]:443", false},
		{"tcp4", "169.254.169.254:80", false},
		{"udp4", "8.8.8.8:53", false},
		{"tcp4", "not-an-address", false},
	}
	for _, tt := range tests {
		err := p.control(t.Context(), tt.network, tt.address, nil)
		if got := err == nil; got != tt.ok {
			t.Errorf("control(%s, %s) = %v, want allowed %v", tt.network, tt.address, err, tt.ok)
		}
	}
}

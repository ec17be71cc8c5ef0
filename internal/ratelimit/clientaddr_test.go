package ratelimit

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

func TestParseProxies(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     string // the prefixes joined by spaces, or "error"
	}{
		{"empty", "", ""},
		{"prefixes and addresses", "10.0.0.0/8, 192.0.2.7,2001:db8::/32", "10.0.0.0/8 192.0.2.7/32 2001:db8::/32"},
		{"host bits cleared", "10.1.2.3/8", "10.0.0.0/8"},
		{"mapped address becomes IPv4", "::ffff:192.0.2.7", "192.0.2.7/32"},
		{"empty entries skipped", ",10.0.0.0/8,,", "10.0.0.0/8"},
		{"host name", "proxy.internal", "error"},
		{"bad length", "10.0.0.0/33", "error"},
		{"zone", "fe80::1%eth0", "error"},
		{"mapped prefix", "::ffff:10.0.0.0/104", "error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := ParseProxies(tc.in)
			got := "error"
			if err == nil {
				var s []string
				for _, p := range ps {
					s = append(s, p.String())
				}
				got = strings.Join(s, " ")
			}
			if got != tc.want {
				t.Errorf("ParseProxies(%q) = %q (%v), want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestClientAddr(t *testing.T) {
	ps, err := ParseProxies("10.0.0.0/8, 2001:db8:1::/48")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		peer string
		xff  []string
		want string
	}{
		{"untrusted peer: header ignored", "198.51.100.9", []string{"203.0.113.5"}, "198.51.100.9"},
		{"trusted peer, no header", "10.0.0.1", nil, "10.0.0.1"},
		{"trusted peer names its client", "10.0.0.1", []string{"203.0.113.5"}, "203.0.113.5"},
		{"rightmost untrusted wins over spoofed left", "10.0.0.1", []string{"1.1.1.1, 203.0.113.5"}, "203.0.113.5"},
		{"trusted hops skipped", "10.0.0.1", []string{"203.0.113.5, 10.9.9.9 ,10.0.0.2"}, "203.0.113.5"},
		{"several header lines are one list", "10.0.0.1", []string{"1.1.1.1, 203.0.113.5", "10.0.0.2"}, "203.0.113.5"},
		{"every hop trusted: the leftmost", "10.0.0.1", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"empty elements skipped", "10.0.0.1", []string{"203.0.113.5,, ", ""}, "203.0.113.5"},
		{"malformed entry: the peer", "10.0.0.1", []string{"203.0.113.5, unknown"}, "10.0.0.1"},
		{"malformed left of the client is not read", "10.0.0.1", []string{"garbage, 203.0.113.5"}, "203.0.113.5"},
		{"port accepted", "10.0.0.1", []string{"203.0.113.5:4711"}, "203.0.113.5"},
		{"IPv6 with port", "10.0.0.1", []string{"[2001:db8:2::7]:4711"}, "2001:db8:2::7"},
		{"IPv6 in brackets alone is malformed", "10.0.0.1", []string{"[2001:db8:2::7]"}, "10.0.0.1"},
		{"mapped client becomes IPv4", "10.0.0.1", []string{"::ffff:203.0.113.5"}, "203.0.113.5"},
		{"mapped trusted peer", "::ffff:10.0.0.1", []string{"203.0.113.5"}, "203.0.113.5"},
		{"IPv6 trusted peer", "2001:db8:1::2", []string{"2001:db8:2::7, 2001:db8:1::3"}, "2001:db8:2::7"},
		{"obfuscated identifier: the peer", "10.0.0.1", []string{"_hidden"}, "10.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ps.ClientAddr(netip.MustParseAddr(tc.peer), tc.xff)
			if got.String() != tc.want {
				t.Errorf("ClientAddr(%s, %q) = %s, want %s", tc.peer, tc.xff, got, tc.want)
			}
		})
	}
}

// TestClientAddrNoProxies: without trusted proxies X-Forwarded-For never
// counts, whatever it says.
func TestClientAddrNoProxies(t *testing.T) {
	for _, peer := range []string{"127.0.0.1", "10.0.0.1", "::1"} {
		if got := Proxies(nil).ClientAddr(netip.MustParseAddr(peer), []string{"203.0.113.5"}); got.String() != peer {
			t.Errorf("no proxies, peer %s: ClientAddr = %s, want the peer", peer, got)
		}
	}
}

func TestClient(t *testing.T) {
	ps, _ := ParseProxies("127.0.0.1")
	for _, tc := range []struct {
		name       string
		remoteAddr string
		xff        string
		stored     bool // resolved with ps and stored by WithClient
		want       string
	}{
		{"no middleware: peer, header ignored", "127.0.0.1:5000", "203.0.113.5", false, "127.0.0.1"},
		{"middleware with a trusted peer", "127.0.0.1:5000", "203.0.113.5", true, "203.0.113.5"},
		{"middleware with an untrusted peer", "192.0.2.1:5000", "203.0.113.5", true, "192.0.2.1"},
		{"IPv6 peer", "[::1]:5000", "", false, "::1"},
		{"not an address", "@", "", true, "@"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remoteAddr
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if tc.stored {
				r = r.WithContext(WithClient(context.Background(), ps.Resolve(r)))
			}
			if got := Client(r); got != tc.want {
				t.Errorf("Client = %q, want %q", got, tc.want)
			}
		})
	}
}

// referenceClientAddr is ClientAddr written plainly, splitting the whole
// list first, for the fuzz target to compare against.
func referenceClientAddr(ps Proxies, peer netip.Addr, xff []string) netip.Addr {
	peer = peer.Unmap().WithZone("")
	if !ps.trusts(peer) {
		return peer
	}
	var list []string
	for _, v := range xff {
		for _, e := range strings.Split(v, ",") {
			if e = strings.Trim(e, " \t"); e != "" {
				list = append(list, e)
			}
		}
	}
	client := peer
	for i := len(list) - 1; i >= 0; i-- {
		a, ok := parseForwarded(list[i])
		if !ok {
			return peer
		}
		if client = a; !ps.trusts(a) {
			return a
		}
	}
	return client
}

// FuzzClientAddr: for any X-Forwarded-For text, ClientAddr agrees with
// the plain reference, returns the peer when the peer is untrusted, and
// otherwise the peer or an address the header holds.
func FuzzClientAddr(f *testing.F) {
	for _, s := range []string{"", "203.0.113.5", "1.1.1.1, 203.0.113.5, 10.0.0.2", "10.0.0.3,10.0.0.2",
		"unknown, 10.0.0.2", " , ,", "[2001:db8::1]:80, ::ffff:10.1.1.1", "fe80::1%eth0", "1.2.3.4:99999"} {
		f.Add(s, "10.0.0.1", "second line")
		f.Add(s, "192.0.2.1", "")
	}
	ps, _ := ParseProxies("10.0.0.0/8, 2001:db8:1::/48, 127.0.0.1")
	f.Fuzz(func(t *testing.T, header, peerText, second string) {
		peer, err := netip.ParseAddr(peerText)
		if err != nil {
			peer = netip.MustParseAddr("10.0.0.1")
		}
		xff := []string{header, second}
		got := ps.ClientAddr(peer, xff)
		if want := referenceClientAddr(ps, peer, xff); got != want {
			t.Fatalf("ClientAddr(%s, %q) = %v, reference %v", peer, xff, got, want)
		}
		canon := peer.Unmap().WithZone("")
		if !ps.trusts(canon) && got != canon {
			t.Fatalf("untrusted peer %s: ClientAddr = %v, want the peer", peer, got)
		}
		if !got.IsValid() || got.Zone() != "" || got.Is4In6() {
			t.Fatalf("ClientAddr = %#v: not a canonical address", got)
		}
	})
}

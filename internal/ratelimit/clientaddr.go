package ratelimit

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies trusted to name their client in
// X-Forwarded-For, as address prefixes. An empty Proxies trusts none: the
// header is ignored and the client is the connection's peer.
type Proxies []netip.Prefix

// ParseProxies parses a comma-separated list of CIDR prefixes
// ("10.0.0.0/8") and single addresses ("192.0.2.7", a one-address
// prefix). Spaces around entries are ignored; "" is no proxies.
func ParseProxies(s string) (Proxies, error) {
	var ps Proxies
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		p, err := ParseProxy(entry)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// ParseProxy parses one CIDR prefix or single address, with the address
// bits past the prefix length cleared. An IPv4-mapped IPv6 prefix is
// refused: say the IPv4 prefix instead.
func ParseProxy(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("trusted proxy %q: not an address or CIDR prefix", s)
		}
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("trusted proxy %q: not an address or CIDR prefix", s)
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("trusted proxy %q: an IPv4-mapped prefix; give the IPv4 prefix", s)
	}
	return p.Masked(), nil
}

// trusts reports whether a is one of the proxies.
func (ps Proxies) trusts(a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddr returns the client's address given the connection's peer
// address and the X-Forwarded-For header values of the request, in the
// order received.
//
// While the peer is not a trusted proxy the header is ignored: it is
// whatever the client wrote. From a trusted peer, the list is read from
// the right, the end each proxy appends its own peer to, and the first
// address that is not itself a trusted proxy is the client; when every
// address is trusted the leftmost is. Addresses left of the client's are
// the client's own claims and never read. A malformed entry where the
// list must be read (not an IP address, optionally with a port) makes
// the header unusable, and the peer is the client. Empty list elements
// are skipped (RFC 9110 §5.6.1.2). IPv4-mapped IPv6 addresses become IPv4
// and zones are dropped, so each client has one spelling.
func (ps Proxies) ClientAddr(peer netip.Addr, forwardedFor []string) netip.Addr {
	peer = canonical(peer)
	if !ps.trusts(peer) {
		return peer
	}
	client := peer
	for i := len(forwardedFor) - 1; i >= 0; i-- {
		rest := forwardedFor[i]
		for rest != "" {
			var entry string
			if j := strings.LastIndexByte(rest, ','); j >= 0 {
				rest, entry = rest[:j], rest[j+1:]
			} else {
				rest, entry = "", rest
			}
			entry = strings.Trim(entry, " \t")
			if entry == "" {
				continue
			}
			a, ok := parseForwarded(entry)
			if !ok {
				return peer
			}
			client = a
			if !ps.trusts(a) {
				return a
			}
		}
	}
	return client
}

// parseForwarded parses one X-Forwarded-For entry: an IP address, or an
// address and port as some proxies write it ("192.0.2.1:4711",
// "[2001:db8::1]:4711").
func parseForwarded(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return canonical(a), true
}

// canonical is a without IPv4 mapping and zone.
func canonical(a netip.Addr) netip.Addr { return a.Unmap().WithZone("") }

// PeerAddr is the address of a request's RemoteAddr ("host:port").
func PeerAddr(remoteAddr string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return canonical(a), true
}

// Resolve returns the client address of r under ps, as text: from
// X-Forwarded-For when the peer is a trusted proxy, else the peer's. A
// RemoteAddr that is not an IP address and port is returned as it is.
func (ps Proxies) Resolve(r *http.Request) string {
	peer, ok := PeerAddr(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if len(ps) == 0 {
		return peer.String()
	}
	return ps.ClientAddr(peer, r.Header.Values("X-Forwarded-For")).String()
}

// clientKey is the context key of the resolved client address.
type clientKey struct{}

// WithClient returns ctx carrying addr as the client address of its
// request; the server's middleware sets it once, from Resolve.
func WithClient(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientKey{}, addr)
}

// Client is the client address of r for limits and logs: the one
// WithClient stored, or, without one, the host of the connection's peer
// (no forwarding header is trusted then).
func Client(r *http.Request) string {
	if addr, ok := r.Context().Value(clientKey{}).(string); ok {
		return addr
	}
	return Proxies(nil).Resolve(r)
}

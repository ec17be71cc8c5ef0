package remotekeys

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// errForbiddenAddress marks a refusal by the address policy: a jwks_uri whose
// host is, or resolves to, an address this server must not connect to
// (attacks.md A-36; RFC 8725 §3.10).
var errForbiddenAddress = errors.New("remotekeys: forbidden address")

// addressPolicy says which destination addresses may be connected to.
type addressPolicy struct {
	allowLoopback bool // 127.0.0.0/8 and ::1
	allowPrivate  bool // private, link-local (cloud metadata included), CGNAT and other special-purpose unicast
}

// Special-purpose ranges refused unless allowPrivate. netip's IsPrivate and
// IsLinkLocalUnicast cover RFC 1918, fc00::/7 (which holds AWS's IPv6
// metadata address fd00:ec2::254), 169.254.0.0/16 (IPv4 metadata
// 169.254.169.254) and fe80::/10; these are the rest.
var privatePrefixes = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT, RFC 6598
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments, RFC 6890
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking, RFC 2544
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("2001::/32"),       // Teredo (tunnels to arbitrary IPv4)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("100::/64"),        // discard-only
}

// Ranges refused whatever the policy: nothing legitimate serves a JWKS there.
var neverPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),   // "this network"; 0.0.0.0 reaches the local host on Linux
	netip.MustParsePrefix("240.0.0.0/4"), // reserved, and 255.255.255.255 broadcast
	netip.MustParsePrefix("::/96"),       // deprecated IPv4-compatible addresses (::1 is handled first)
}

// IPv6 prefixes that embed an IPv4 address, which is checked in their place.
var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")   // RFC 6052 well-known NAT64 prefix
	nat64Local  = netip.MustParsePrefix("64:ff9b:1::/48") // RFC 8215 local-use NAT64 prefix
	sixToFour   = netip.MustParsePrefix("2002::/16")      // RFC 3056 6to4
)

// check reports whether a connection to ip is allowed, and why not. An
// IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as its IPv4 address,
// and so are the NAT64 and 6to4 forms that route to an embedded IPv4 address.
func (p addressPolicy) check(ip netip.Addr) error {
	if !ip.IsValid() {
		return fmt.Errorf("%w: invalid address", errForbiddenAddress)
	}
	if ip.Zone() != "" {
		return fmt.Errorf("%w: %s has a zone", errForbiddenAddress, ip)
	}
	ip = ip.Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64Prefix.Contains(ip):
			return p.check(netip.AddrFrom4([4]byte(b[12:16])))
		case nat64Local.Contains(ip):
			// RFC 6052 §2.2 layout for a /48: v4 octets at bytes 6,7,9,10 (byte 8 is u).
			return p.check(netip.AddrFrom4([4]byte{b[6], b[7], b[9], b[10]}))
		case sixToFour.Contains(ip):
			return p.check(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	switch {
	case ip.IsLoopback():
		if p.allowLoopback {
			return nil
		}
		return fmt.Errorf("%w: %s is loopback", errForbiddenAddress, ip)
	case ip.IsUnspecified(), ip.IsMulticast():
		return fmt.Errorf("%w: %s is unspecified or multicast", errForbiddenAddress, ip)
	}
	for _, pfx := range neverPrefixes {
		if pfx.Contains(ip) {
			return fmt.Errorf("%w: %s is reserved", errForbiddenAddress, ip)
		}
	}
	private := ip.IsPrivate() || ip.IsLinkLocalUnicast()
	for _, pfx := range privatePrefixes {
		private = private || pfx.Contains(ip)
	}
	if private && !p.allowPrivate {
		return fmt.Errorf("%w: %s is private, link-local or special-purpose", errForbiddenAddress, ip)
	}
	return nil
}

// control is a net.Dialer ControlContext hook. It runs after name
// resolution, once for every address the dialer is about to connect to, so
// the address checked is the address used: a host name that resolves (or
// re-resolves, as in DNS rebinding) to a forbidden address is refused before
// any packet is sent to it.
func (p addressPolicy) control(_ context.Context, network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("%w: network %q", errForbiddenAddress, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %v", errForbiddenAddress, err)
	}
	return p.check(ap.Addr())
}

// guardedClient returns the HTTP client used when Config.Client is nil: no
// proxy (a proxy would make the dialled address meaningless), the address
// policy enforced at connect time, TLS 1.2 or later, bounded headers, no
// cookies and no redirects.
func guardedClient(p addressPolicy, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{
		Timeout:        timeout,
		KeepAlive:      30 * time.Second,
		ControlContext: p.control,
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxIdleConns:           16,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 16 << 10,
	}
	return &http.Client{Transport: tr, CheckRedirect: refuseRedirect}
}

// refuseRedirect stops the client at the first redirect; fetch then refuses
// the 3xx response (attacks.md A-36: a host that 302s to an internal address).
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

package remotekeys

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// maxURILength bounds a jwks_uri; longer ones are refused.
const maxURILength = 2048

// errBadURI marks a jwks_uri refused by CheckURI.
var errBadURI = errors.New("remotekeys: unacceptable jwks_uri")

// CheckURI validates a jwks_uri, at registration time and again before
// every fetch (SMART App Launch 2.1 client-confidential-asymmetric: the JWKS
// URL is TLS-protected; attacks.md A-36). It accepts an absolute https URL
// with a host and no user information and no fragment. The host must be a
// DNS name or an IP literal the address policy allows: the loopback names
// localhost and *.localhost are refused unless AllowLoopback, and a host
// whose last label is numeric must be a canonical dotted IPv4 address (so
// 2130706433 and 0x7f.1, which some resolvers read as 127.0.0.1, are
// refused). Host names must be ASCII (IDNs in their xn-- form). http is
// accepted only when AllowLoopback is set and the host is a loopback IP
// literal, for development.
//
// CheckURI cannot know what a host name will resolve to; the connect-time
// check in the fetcher's dialer covers that.
func (f *Fetcher) CheckURI(raw string) error {
	if raw == "" || len(raw) > maxURILength {
		return fmt.Errorf("%w: empty or longer than %d bytes", errBadURI, maxURILength)
	}
	if strings.Contains(raw, "#") {
		return fmt.Errorf("%w: has a fragment", errBadURI)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: does not parse", errBadURI)
	}
	if u.Opaque != "" || u.Host == "" || !strings.HasPrefix(raw[len(u.Scheme):], "://") {
		return fmt.Errorf("%w: not an absolute hierarchical URL with a host", errBadURI)
	}
	if u.User != nil {
		return fmt.Errorf("%w: has user information", errBadURI)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%w: bad port", errBadURI)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return fmt.Errorf("%w: empty port", errBadURI)
	}
	host := u.Hostname()
	ip, isIP := parseIPLiteral(u.Host, host)
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && f.policy.allowLoopback && isIP && ip.Unmap().IsLoopback():
	default:
		return fmt.Errorf("%w: scheme must be https", errBadURI)
	}
	if isIP {
		if err := f.policy.check(ip); err != nil {
			return fmt.Errorf("%w: %w", errBadURI, err)
		}
		return nil
	}
	return f.checkHostName(host)
}

// parseIPLiteral reports whether the URL host is an IP literal: a
// canonical dotted IPv4 address or a bracketed IPv6 address.
func parseIPLiteral(hostport, host string) (netip.Addr, bool) {
	if strings.HasPrefix(hostport, "[") {
		ip, err := netip.ParseAddr(host)
		return ip, err == nil && ip.Is6()
	}
	ip, err := netip.ParseAddr(host)
	return ip, err == nil && ip.Is4()
}

// checkHostName accepts an ASCII DNS name (RFC 1123 labels) that is not
// numeric-looking and not a loopback name unless loopback is allowed.
func (f *Fetcher) checkHostName(host string) error {
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "" || len(name) > 253 {
		return fmt.Errorf("%w: bad host name", errBadURI)
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if !validLabel(l) {
			return fmt.Errorf("%w: bad host name", errBadURI)
		}
	}
	last := labels[len(labels)-1]
	if strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x") {
		return fmt.Errorf("%w: numeric host that is not a canonical IPv4 address", errBadURI)
	}
	if !f.policy.allowLoopback && (name == "localhost" || strings.HasSuffix(name, ".localhost")) {
		return fmt.Errorf("%w: %w: loopback name", errBadURI, errForbiddenAddress)
	}
	return nil
}

// validLabel reports whether l is a DNS label of 1 to 63 letters, digits and
// inner hyphens.
func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

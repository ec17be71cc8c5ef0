package oauth

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// CheckRedirectURI reports whether raw may be registered as a redirect URI
// (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1): an absolute https URI; an
// http URI only on a loopback IP literal (127.0.0.1 or [::1], never
// "localhost", RFC 8252 §8.3); or a private-use scheme in reverse-domain
// form for native apps (com.example.app:/callback). Fragments, user info
// and wildcards are refused everywhere.
func CheckRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs():
		return errors.New("a redirect URI must be an absolute URI")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("a redirect URI must not have a fragment")
	case u.User != nil:
		return errors.New("a redirect URI must not carry user information")
	case strings.Contains(raw, "*"):
		return errors.New("a redirect URI must not contain wildcards")
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return errors.New("an https redirect URI needs a host")
		}
		return nil
	case "http":
		if !isLoopbackIP(u.Hostname()) {
			return errors.New("an http redirect URI must use a loopback IP literal (127.0.0.1 or [::1])")
		}
		return nil
	default:
		if !strings.Contains(u.Scheme, ".") {
			return errors.New("a custom-scheme redirect URI must use a reverse-domain scheme such as com.example.app")
		}
		return nil
	}
}

func isLoopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// matchRedirect reports whether uri is one of the registered redirect
// URIs: character for character, except that for an http loopback IP
// literal the port may differ, as native apps pick a free port at run time
// (RFC 8252 §7.3). Everything else — scheme, host, path, query — must
// still match exactly.
func matchRedirect(registered []string, uri string) bool {
	if uri == "" {
		return false
	}
	for _, r := range registered {
		if r == uri || loopbackMatch(r, uri) {
			return true
		}
	}
	return false
}

func loopbackMatch(registered, uri string) bool {
	if !strings.HasPrefix(registered, "http://") || !strings.HasPrefix(uri, "http://") {
		return false
	}
	ru, err1 := url.Parse(registered)
	u, err2 := url.Parse(uri)
	if err1 != nil || err2 != nil || !isLoopbackIP(ru.Hostname()) {
		return false
	}
	return u.User == nil && u.Fragment == "" && !strings.Contains(uri, "#") &&
		u.Hostname() == ru.Hostname() && u.EscapedPath() == ru.EscapedPath() && u.RawQuery == ru.RawQuery &&
		u.Port() != "" && u.Host == net.JoinHostPort(u.Hostname(), u.Port())
}

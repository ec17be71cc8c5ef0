package upstream

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// RewriteURLs returns the JSON document b with every string value that
// equals from, or starts with from followed by "/" or "?", changed to
// start with to instead: RewriteURLs(b, upstreamBase, proxyBase) turns the
// upstream's absolute URLs (Bundle links, fullUrls, Location-like values)
// into the proxy's. from and to are base URLs without a trailing slash,
// as Client.Base returns.
//
// Only string values change: object keys, numbers (with their exact
// digits), member order and whitespace are kept byte for byte. A matching
// string written with escapes (such as "http:\/\/host") is decoded,
// rewritten and written back in plain form. When from is empty, from or
// to is not valid UTF-8, nothing matches, or b is not valid JSON, b itself
// is returned unchanged; otherwise the result is a new slice.
func RewriteURLs(b []byte, from, to string) []byte {
	if from == "" || !utf8.ValidString(from) || !utf8.ValidString(to) {
		return b
	}
	if !bytes.Contains(b, []byte(from)) && bytes.IndexByte(b, '\\') < 0 {
		// Nothing to rewrite: no plain occurrence, and no escape that
		// could spell one. The common case, and far cheaper than a scan.
		return b
	}
	if !json.Valid(b) {
		return b
	}
	rw := rewriter{from: []byte(from), to: to}
	var out []byte // nil until the first change
	copied := 0    // b[:copied] is in out
	for i := 0; i < len(b); i++ {
		if b[i] != '"' {
			continue
		}
		end, plain := stringEnd(b, i)
		if !isKey(b, end) {
			if s, ok := rw.rewrite(b[i+1:end-1], plain); ok {
				out = append(out, b[copied:i]...)
				out = appendJSONString(out, s)
				copied = end
			}
		}
		i = end - 1
	}
	if out == nil {
		return b
	}
	return append(out, b[copied:]...)
}

// stringEnd returns the index just past the closing quote of the string
// starting at b[start], and whether the string is plain: ASCII without
// escapes, so that its raw content is its value. b must be valid JSON.
func stringEnd(b []byte, start int) (end int, plain bool) {
	plain = true
	for j := start + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '\\':
			plain = false
			j++
		case c == '"':
			return j + 1, plain
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	return len(b), plain
}

// isKey reports whether the string ending just before b[end] is an object
// key, that is, followed by a colon.
func isKey(b []byte, end int) bool {
	for ; end < len(b); end++ {
		switch b[end] {
		case ' ', '\t', '\n', '\r':
		case ':':
			return true
		default:
			return false
		}
	}
	return false
}

// rewriter rewrites string values starting with from.
type rewriter struct {
	from []byte
	to   string
}

// rewrite returns the rewritten value of the JSON string whose raw
// content (between the quotes) is raw, and whether it matched.
func (rw rewriter) rewrite(raw []byte, plain bool) (string, bool) {
	if plain {
		if !rw.matches(raw) {
			return "", false
		}
		return rw.to + string(raw[len(rw.from):]), true
	}
	// The value starts with the raw content up to the first escape or
	// non-ASCII byte; skip the decoding when that already rules a match
	// out.
	head := raw[:bytes.IndexFunc(raw, func(r rune) bool { return r == '\\' || r >= utf8.RuneSelf })]
	if !bytes.HasPrefix(head, rw.from) && !bytes.HasPrefix(rw.from, head) {
		return "", false
	}
	var s string
	if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s); err != nil {
		return "", false
	}
	if !rw.matches([]byte(s)) {
		return "", false
	}
	return rw.to + s[len(rw.from):], true
}

// matches reports whether s equals from or starts with from and "/" or
// "?".
func (rw rewriter) matches(s []byte) bool {
	n := len(rw.from)
	if !bytes.HasPrefix(s, rw.from) {
		return false
	}
	return len(s) == n || s[n] == '/' || s[n] == '?'
}

// appendJSONString appends s to dst as a JSON string, escaping only what
// JSON requires (quote, backslash, control characters) and writing
// invalid UTF-8 as U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		case c < utf8.RuneSelf:
			dst = append(dst, c)
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, "\ufffd"...)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		i++
	}
	return append(dst, '"')
}

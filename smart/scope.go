package smart

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Permission is one of the SMART v2 interaction letters: create, read,
// update, delete, search (R-SCOPE-05).
type Permission uint8

// Permissions, as bits so a set of them fits in one value.
const (
	Create Permission = 1 << iota
	Read
	Update
	Delete
	Search
)

// Permissions is a set of Permission bits.
type Permissions uint8

// All v2 permissions, "cruds".
const AllPermissions = Permissions(Create | Read | Update | Delete | Search)

// Has reports whether p contains every permission in q.
func (p Permissions) Has(q Permission) bool { return p&Permissions(q) == Permissions(q) }

// String renders p in canonical "cruds" order.
func (p Permissions) String() string {
	var b strings.Builder
	for i, c := range "cruds" {
		if p&(1<<i) != 0 {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// Scope is a parsed SMART resource scope such as "patient/Observation.rs",
// "user/*.read" (SMART v1) or "patient/Observation.rs?category=laboratory"
// (a granular, query-based scope).
type Scope struct {
	// Context is "patient", "user" or "system".
	Context string
	// ResourceType is a FHIR resource type, or "*" for all types.
	ResourceType string
	Permissions  Permissions
	// Query holds the granular restriction, if any: each parameter must
	// match, as in a FHIR search.
	Query url.Values
	// V1 reports that the scope used the SMART v1 ".read/.write/.*" suffix.
	V1 bool
	// Raw is the scope exactly as written.
	Raw string
}

// ErrNotResourceScope is returned by ParseScope for scopes such as
// "openid" or "launch/patient" that do not name FHIR resources.
var ErrNotResourceScope = errors.New("smart: not a resource scope")

// ScopeError reports a malformed resource scope and why.
type ScopeError struct {
	Scope  string
	Reason string
}

func (e *ScopeError) Error() string { return fmt.Sprintf("smart: scope %q: %s", e.Scope, e.Reason) }

// MaxScopeLength bounds one scope's canonical form; longer ones are
// refused as malformed.
const MaxScopeLength = 1024

// ParseScope parses one resource scope (R-SCOPE-05..08, R-SCOPE-12). Suffix
// letters must be a non-empty subset of "cruds" in that order; the v1
// suffixes read, write and * mean rs, cud and cruds (R-SCOPE-07). A scope
// that is not a resource scope gives ErrNotResourceScope; a malformed one a
// *ScopeError saying what is wrong.
func ParseScope(raw string) (Scope, error) {
	s := Scope{Raw: raw}
	ctx, rest, ok := strings.Cut(raw, "/")
	if !ok || (ctx != "patient" && ctx != "user" && ctx != "system") {
		return s, ErrNotResourceScope
	}
	bad := func(reason string) (Scope, error) { return s, &ScopeError{Scope: raw, Reason: reason} }
	if len(raw) > 3*MaxScopeLength {
		return bad("too long")
	}
	s.Context = ctx
	rest, query, hasQuery := strings.Cut(rest, "?")
	typ, suffix, ok := strings.Cut(rest, ".")
	switch {
	case !ok:
		return bad("missing the permissions after a dot, as in patient/Observation.rs")
	case typ == "":
		return bad("missing the resource type")
	case typ != "*" && !isResourceTypeName(typ):
		return bad("the resource type must be a FHIR type name such as Observation, or *")
	}
	s.ResourceType = typ
	switch suffix {
	case "read":
		s.Permissions, s.V1 = Permissions(Read|Search), true
	case "write":
		s.Permissions, s.V1 = Permissions(Create|Update|Delete), true
	case "*":
		s.Permissions, s.V1 = AllPermissions, true
	default:
		p, err := parseLetters(suffix)
		if err != nil {
			return bad(err.Error())
		}
		s.Permissions = p
	}
	if hasQuery {
		if s.V1 {
			return bad("a SMART v1 scope cannot carry a query")
		}
		q, err := url.ParseQuery(query)
		if err != nil || len(q) == 0 {
			return bad("the query must be param=value pairs joined by &")
		}
		for k, vs := range q {
			if k == "" {
				return bad("the query has a value without a parameter name")
			}
			for _, v := range vs {
				if v == "" {
					return bad("the query parameter " + k + " has no value")
				}
			}
		}
		s.Query = q
	}
	// The limit applies to the canonical form, so that every accepted
	// scope's canonical form parses too (escaping can lengthen it).
	if len(s.String()) > MaxScopeLength {
		return bad("too long")
	}
	return s, nil
}

func parseLetters(suffix string) (Permissions, error) {
	if suffix == "" {
		return 0, errors.New("no permissions after the dot")
	}
	var p Permissions
	last := -1
	for _, c := range suffix {
		i := strings.IndexRune("cruds", c)
		if i < 0 || i <= last {
			return 0, fmt.Errorf("permissions %q must be letters of cruds, each once, in that order", suffix)
		}
		last = i
		p |= 1 << i
	}
	return p, nil
}

// isResourceTypeName reports whether s looks like a FHIR resource type name:
// an upper-case ASCII letter followed by ASCII letters.
func isResourceTypeName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// String returns the canonical form of s: the v2 letters (so v1 read is
// written rs and write cud), and query parameters sorted by name, values in
// their original order, escaped only where the grammar needs it.
// ParseScope(s.String()) yields a scope equal to s in all but Raw and V1.
func (s Scope) String() string {
	var b strings.Builder
	b.WriteString(s.Context)
	b.WriteByte('/')
	b.WriteString(s.ResourceType)
	b.WriteByte('.')
	b.WriteString(s.Permissions.String())
	if len(s.Query) > 0 {
		b.WriteByte('?')
		b.WriteString(CanonicalQuery(s.Query))
	}
	return b.String()
}

// CanonicalQuery encodes q with names sorted and values in order, escaping
// only the characters that would change how it parses.
func CanonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(queryEscape(k))
			b.WriteByte('=')
			b.WriteString(queryEscape(v))
		}
	}
	return b.String()
}

func queryEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("%&=+#?", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Allows reports whether s permits interaction p on resourceType, ignoring
// any query restriction (which the resource server applies separately).
func (s Scope) Allows(p Permission, resourceType string) bool {
	return (s.ResourceType == "*" || s.ResourceType == resourceType) && s.Permissions.Has(p)
}

// Covers reports whether s grants everything o asks for: same context,
// a matching or wildcard type, a superset of permissions, and, if s is
// query-restricted, the identical restriction.
func (s Scope) Covers(o Scope) bool {
	if s.Context != o.Context || (s.ResourceType != "*" && s.ResourceType != o.ResourceType) {
		return false
	}
	if s.Permissions&o.Permissions != o.Permissions {
		return false
	}
	return len(s.Query) == 0 || CanonicalQuery(s.Query) == CanonicalQuery(o.Query)
}

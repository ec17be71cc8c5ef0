package smart

import (
	"errors"
	"fmt"
	"net/url"
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

// Scope is a parsed SMART resource scope such as "patient/Observation.rs"
// or the v1 form "user/*.read".
type Scope struct {
	// Context is "patient", "user" or "system".
	Context string
	// ResourceType is a FHIR resource type, or "*" for all types.
	ResourceType string
	Permissions  Permissions
	// Query holds the granular (v2 query-based) restriction, if any.
	Query url.Values
	// V1 reports that the scope used the SMART v1 ".read/.write/.*" suffix.
	V1 bool
	// Raw is the scope exactly as written.
	Raw string
}

// ErrNotResourceScope is returned by ParseScope for scopes such as
// "openid" or "launch/patient" that do not name FHIR resources.
var ErrNotResourceScope = errors.New("smart: not a resource scope")

// ParseScope parses one resource scope (R-SCOPE-05..08, R-SCOPE-12). Suffix
// letters must be a non-empty subset of "cruds" in that order; v1 suffixes
// read, write and * map to rs, cud and cruds (R-SCOPE-07).
func ParseScope(raw string) (Scope, error) {
	s := Scope{Raw: raw}
	ctx, rest, ok := strings.Cut(raw, "/")
	switch ctx {
	case "patient", "user", "system":
	default:
		return s, ErrNotResourceScope
	}
	if !ok {
		return s, ErrNotResourceScope
	}
	s.Context = ctx
	rest, query, hasQuery := strings.Cut(rest, "?")
	typ, suffix, ok := strings.Cut(rest, ".")
	if !ok || typ == "" {
		return s, fmt.Errorf("smart: scope %q: missing resource type or permissions", raw)
	}
	if typ != "*" && !isResourceTypeName(typ) {
		return s, fmt.Errorf("smart: scope %q: invalid resource type", raw)
	}
	s.ResourceType = typ
	switch suffix {
	case "read":
		s.Permissions, s.V1 = Permissions(Read|Search), true
	case "write":
		s.Permissions, s.V1 = Permissions(Create|Update|Delete), true
	case "*":
		s.Permissions, s.V1 = Permissions(Create|Read|Update|Delete|Search), true
	default:
		p, err := parseLetters(suffix)
		if err != nil {
			return s, fmt.Errorf("smart: scope %q: %w", raw, err)
		}
		s.Permissions = p
	}
	if hasQuery {
		if s.V1 {
			return s, fmt.Errorf("smart: scope %q: a v1 scope cannot carry a query", raw)
		}
		q, err := url.ParseQuery(query)
		if err != nil || len(q) == 0 {
			return s, fmt.Errorf("smart: scope %q: invalid query", raw)
		}
		s.Query = q
	}
	return s, nil
}

func parseLetters(suffix string) (Permissions, error) {
	if suffix == "" {
		return 0, errors.New("no permissions")
	}
	var p Permissions
	last := -1
	for _, c := range suffix {
		i := strings.IndexRune("cruds", c)
		if i < 0 || i <= last {
			return 0, fmt.Errorf("permissions %q are not an ordered subset of cruds", suffix)
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

// Allows reports whether s permits interaction p on resourceType, ignoring
// any query restriction (which the resource server applies separately).
func (s Scope) Allows(p Permission, resourceType string) bool {
	return (s.ResourceType == "*" || s.ResourceType == resourceType) && s.Permissions.Has(p)
}

// ScopeSet is a parsed space-separated scope string.
type ScopeSet struct {
	// Resources are the resource scopes, in request order.
	Resources []Scope
	// Other are the remaining scopes ("openid", "launch/patient", ...).
	Other []string
	// Invalid are resource-shaped scopes that failed to parse.
	Invalid []string
}

// ParseScopes splits a space-separated scope string (RFC 6749 §3.3) and
// parses each resource scope. Duplicates are dropped.
func ParseScopes(s string) ScopeSet {
	var set ScopeSet
	seen := map[string]bool{}
	for _, raw := range strings.Fields(s) {
		if seen[raw] {
			continue
		}
		seen[raw] = true
		sc, err := ParseScope(raw)
		switch {
		case err == nil:
			set.Resources = append(set.Resources, sc)
		case errors.Is(err, ErrNotResourceScope):
			set.Other = append(set.Other, raw)
		default:
			set.Invalid = append(set.Invalid, raw)
		}
	}
	return set
}

// Has reports whether the set contains the non-resource scope name.
func (set ScopeSet) Has(name string) bool {
	for _, o := range set.Other {
		if o == name {
			return true
		}
	}
	return false
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
	return len(s.Query) == 0 || s.Query.Encode() == o.Query.Encode()
}

// Permit returns the scopes of requested that allowed covers, in request
// order and without duplicates: non-resource scopes must appear in allowed
// literally, resource scopes must be covered by one of allowed's resource
// scopes. Invalid and unknown scopes are dropped (R-SCOPE-08).
func Permit(requested, allowed string) []string {
	al := ParseScopes(allowed)
	var out []string
	seen := map[string]bool{}
	for _, raw := range strings.Fields(requested) {
		if seen[raw] {
			continue
		}
		seen[raw] = true
		sc, err := ParseScope(raw)
		switch {
		case errors.Is(err, ErrNotResourceScope):
			if al.Has(raw) {
				out = append(out, raw)
			}
		case err == nil:
			for _, a := range al.Resources {
				if a.Covers(sc) {
					out = append(out, raw)
					break
				}
			}
		}
	}
	return out
}

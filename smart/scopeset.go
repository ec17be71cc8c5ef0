package smart

import (
	"errors"
	"slices"
	"strings"
)

// Scopes SMART App Launch 2.1 defines besides resource scopes (§4.3-§4.6).
const (
	ScopeLaunch          = "launch"
	ScopeLaunchPatient   = "launch/patient"
	ScopeLaunchEncounter = "launch/encounter"
	ScopeOpenID          = "openid"
	ScopeFHIRUser        = "fhirUser"
	ScopeProfile         = "profile"
	ScopeOfflineAccess   = "offline_access"
	ScopeOnlineAccess    = "online_access"
)

// ContextScopes lists the non-resource scopes, in the order the IG
// presents them.
var ContextScopes = []string{
	ScopeOpenID, ScopeFHIRUser, ScopeProfile, ScopeLaunch, ScopeLaunchPatient, ScopeLaunchEncounter,
	ScopeOfflineAccess, ScopeOnlineAccess,
}

// IsContextScope reports whether s is one of ContextScopes.
func IsContextScope(s string) bool {
	for _, c := range ContextScopes {
		if c == s {
			return true
		}
	}
	return false
}

// ScopeSet is a parsed space-separated scope string.
type ScopeSet struct {
	// Resources are the resource scopes, in request order.
	Resources []Scope
	// Other are the non-resource scopes SMART defines ("openid",
	// "launch/patient", ...), in request order.
	Other []string
	// Unknown are well-formed scopes SMART does not define; a server
	// leaves them out of a grant.
	Unknown []string
	// Invalid are malformed resource scopes.
	Invalid []*ScopeError
}

// ParseScopes splits a space-separated scope string (RFC 6749 §3.3) and
// parses each scope. Duplicates are dropped.
func ParseScopes(s string) ScopeSet {
	var set ScopeSet
	seen := map[string]bool{}
	for _, raw := range strings.Fields(s) {
		if seen[raw] {
			continue
		}
		seen[raw] = true
		sc, err := ParseScope(raw)
		var se *ScopeError
		switch {
		case err == nil:
			set.Resources = append(set.Resources, sc)
		case errors.As(err, &se):
			set.Invalid = append(set.Invalid, se)
		case IsContextScope(raw):
			set.Other = append(set.Other, raw)
		default:
			set.Unknown = append(set.Unknown, raw)
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

// Err returns the first malformed scope's error, or nil.
func (set ScopeSet) Err() error {
	if len(set.Invalid) > 0 {
		return set.Invalid[0]
	}
	return nil
}

// Permit returns the scopes of requested that allowed covers, in request
// order, as written, without duplicates: non-resource scopes (SMART's and
// extension scopes such as "__profilePhoto.manage", R-EXT-01) must appear
// in allowed literally, resource scopes must be covered by one of
// allowed's resource scopes. Malformed scopes are left out (R-SCOPE-08);
// callers that must refuse them check ParseScopes(requested).Err first.
func Permit(requested, allowed string) []string {
	al := ParseScopes(allowed)
	req := ParseScopes(requested)
	keep := map[string]bool{}
	for _, o := range req.Other {
		keep[o] = al.Has(o)
	}
	for _, u := range req.Unknown {
		keep[u] = slices.Contains(al.Unknown, u)
	}
	for _, r := range req.Resources {
		for _, a := range al.Resources {
			if a.Covers(r) {
				keep[r.Raw] = true
				break
			}
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, raw := range strings.Fields(requested) {
		if keep[raw] && !seen[raw] {
			seen[raw] = true
			out = append(out, raw)
		}
	}
	return out
}

package scopelint

import (
	"github.com/smartlaunch/smartlaunch/smart"
)

// otherType stands for every resource type neither set names: only a "*"
// scope reaches it. No parsed scope has this type.
const otherType = "\x00other"

// cell is one context, resource type ("*" in a scope) and canonical query
// ("" for none).
type cell struct{ context, typ, query string }

// letters returns, for each cell the scopes name, the union of their
// permissions there.
func letters(scopes []smart.Scope) map[cell]smart.Permissions {
	m := map[cell]smart.Permissions{}
	for _, s := range scopes {
		m[cell{s.Context, s.ResourceType, smart.CanonicalQuery(s.Query)}] |= s.Permissions
	}
	return m
}

// allowed returns the permissions m grants on resource type typ in a
// context for a request restricted by query ("" for an unrestricted
// request): scopes combine as a union (R-SCOPE-10); a scope with a query
// allows only requests under that same query, one without allows any
// (smart.Scope.Covers).
func allowed(m map[cell]smart.Permissions, context, typ, query string) smart.Permissions {
	p := m[cell{context, typ, ""}] | m[cell{context, "*", ""}]
	if query != "" {
		p |= m[cell{context, typ, query}] | m[cell{context, "*", query}]
	}
	return p
}

// equivalent reports whether the resource scopes a and b grant exactly the
// same: for every context, resource type, permission and query, a allows
// it if and only if b does. v1 suffixes mean their v2 letters (R-SCOPE-07)
// and two different queries are never assumed to select the same
// resources. Checking the contexts, types and queries the scopes name,
// plus a type and a query they do not name, decides every case.
func equivalent(a, b []smart.Scope) bool {
	ma, mb := letters(a), letters(b)
	contexts := map[string]map[string]bool{} // context -> types named
	queries := map[cell]bool{}               // context and query named, with typ ""
	for _, m := range []map[cell]smart.Permissions{ma, mb} {
		for c := range m {
			if contexts[c.context] == nil {
				contexts[c.context] = map[string]bool{otherType: true}
			}
			if c.typ != "*" {
				contexts[c.context][c.typ] = true
			}
			if c.query != "" {
				queries[cell{c.context, "", c.query}] = true
			}
		}
	}
	for ctx, types := range contexts {
		for typ := range types {
			if allowed(ma, ctx, typ, "") != allowed(mb, ctx, typ, "") {
				return false
			}
		}
		for q := range queries {
			if q.context != ctx {
				continue
			}
			for typ := range types {
				if allowed(ma, ctx, typ, q.query) != allowed(mb, ctx, typ, q.query) {
					return false
				}
			}
		}
	}
	return true
}

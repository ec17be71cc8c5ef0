package scopelint

import (
	"strings"

	"github.com/smartlaunch/smartlaunch/smart"
)

// group holds the requested resource scopes of one context, resource type
// and query: the scopes whose letters may be merged (R-SCOPE-10).
type group struct {
	// members are the group's scopes, distinct as written, in request order.
	members []smart.Scope
	// dup marks members another member of the group already grants;
	// covered marks members a more general group already grants.
	dup, covered []bool
}

// groupScopes sorts resource scopes into groups, in order of first
// appearance.
func groupScopes(scopes []smart.Scope) []*group {
	index := map[string]*group{}
	var groups []*group
	for _, s := range scopes {
		k := s.Context + "/" + s.ResourceType + "?" + smart.CanonicalQuery(s.Query)
		g := index[k]
		if g == nil {
			g = &group{}
			index[k] = g
			groups = append(groups, g)
		}
		g.members = append(g.members, s)
		g.dup = append(g.dup, false)
		g.covered = append(g.covered, false)
	}
	return groups
}

// union returns the group's scope with the letters of the members keep
// selects.
func (g *group) union(keep func(i int) bool) smart.Scope {
	s := g.members[0]
	s.Permissions, s.V1, s.Raw = 0, false, ""
	for i, m := range g.members {
		if keep(i) {
			s.Permissions |= m.Permissions
		}
	}
	return s
}

func (g *group) notDup(i int) bool { return !g.dup[i] }
func (g *group) kept(i int) bool   { return !g.dup[i] && !g.covered[i] }

// raws returns the members keep selects, as written.
func (g *group) raws(keep func(i int) bool) []string {
	var out []string
	for i, m := range g.members {
		if keep(i) {
			out = append(out, m.Raw)
		}
	}
	return out
}

// generality ranks a group: 2 for an unrestricted "*" type, 1 for a "*"
// type or no query, 0 otherwise. Only a more general group can cover a
// member of another.
func (g *group) generality() int {
	n := 0
	if g.members[0].ResourceType == "*" {
		n++
	}
	if len(g.members[0].Query) == 0 {
		n++
	}
	return n
}

// render returns the group's suggested scopes: its kept letters merged into
// one canonical v2 scope, or, when that scope would not parse back to
// itself (too long once escaped), the kept members as written.
func (g *group) render() []string {
	s := g.union(g.kept).String()
	if p, err := smart.ParseScope(s); err == nil && p.String() == s {
		return []string{s}
	}
	return g.raws(g.kept)
}

// redundantWithin marks and reports members that another member of their
// group grants: the same letters written again (a v1 and a v2 spelling) or
// a subset of another member's letters.
func (l *linter) redundantWithin(g *group) {
	// j beats i when it grants more, or the same in the preferred
	// spelling: v2 before v1, then the first written.
	beats := func(j, i int) bool {
		mj, mi := g.members[j], g.members[i]
		if j == i || mj.Permissions&mi.Permissions != mi.Permissions {
			return false
		}
		return mj.Permissions != mi.Permissions || mj.V1 != mi.V1 && !mj.V1 || mj.V1 == mi.V1 && j < i
	}
	for i := range g.members {
		for j := range g.members {
			if beats(j, i) {
				g.dup[i] = true
				break
			}
		}
	}
	for i, m := range g.members {
		if !g.dup[i] {
			continue
		}
		// "beats" is a strict order, so a member nobody beats beats m.
		for j, o := range g.members {
			if !g.dup[j] && beats(j, i) {
				if o.Permissions == m.Permissions {
					l.add(KindRedundant, Warning, []string{m.Raw, o.Raw}, "%s asks for the same as %s", m.Raw, o.Raw)
				} else {
					l.add(KindRedundant, Warning, []string{m.Raw, o.Raw}, "%s is already granted by %s", m.Raw, o.Raw)
				}
				break
			}
		}
	}
}

// redundantAcross marks and reports members that a more general group
// grants, naming the most general such group.
func (l *linter) redundantAcross(groups []*group) {
	unions := make([]smart.Scope, len(groups))
	for k, h := range groups {
		unions[k] = h.union(h.notDup)
	}
	for _, g := range groups {
		for i, m := range g.members {
			if g.dup[i] {
				continue
			}
			var by *group
			for k, h := range groups {
				if h != g && unions[k].Covers(m) && (by == nil || h.generality() > by.generality()) {
					by = h
				}
			}
			if by != nil {
				g.covered[i] = true
				l.coveredBy(m, by)
			}
		}
	}
}

// coveredBy reports that group by grants m, naming the members of by that
// give m's letters.
func (l *linter) coveredBy(m smart.Scope, by *group) {
	var names []string
	for j, o := range by.members {
		if !by.dup[j] && o.Permissions&m.Permissions != 0 {
			names = append(names, o.Raw)
		}
	}
	l.add(KindRedundant, Warning, append([]string{m.Raw}, names...), "%s is already granted by %s", m.Raw, list(names))
}

// merge reports groups whose kept members can be written as one scope,
// and lone SMART v1 scopes, and returns the groups that keep a member.
func (l *linter) merge(groups []*group) []*group {
	var kept []*group
	for _, g := range groups {
		raws := g.raws(g.kept)
		switch {
		case len(raws) == 0:
			continue
		case len(raws) > 1:
			l.add(KindMergeable, Info, raws,
				"%s can be asked for as %s, which grants the same; keep them apart only to let people allow one and not the other",
				list(raws), list(g.render()))
		case g.members[firstKept(g)].V1:
			l.add(KindV1Form, Info, raws, "%s is the SMART v1 spelling of %s", raws[0], list(g.render()))
		}
		kept = append(kept, g)
	}
	return kept
}

func firstKept(g *group) int {
	for i := range g.members {
		if g.kept(i) {
			return i
		}
	}
	return -1
}

// suggest returns the suggested request: tokens in request order, with
// each group's rendered scopes at the place of its first member, SMART's
// other scopes and extension scopes as written, and nothing else.
func suggest(tokens []string, set smart.ScopeSet, groups []*group) []string {
	byRaw := map[string]*group{}
	for _, g := range groups {
		for _, m := range g.members {
			byRaw[m.Raw] = g
		}
	}
	keep := map[string]bool{}
	for _, o := range set.Other {
		keep[o] = true
	}
	for _, u := range set.Unknown {
		keep[u] = isExtension(u)
	}
	out := []string{}
	seen := map[string]bool{}
	push := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	done := map[*group]bool{}
	for _, t := range tokens {
		if g := byRaw[t]; g != nil {
			if !done[g] && firstKept(g) >= 0 {
				done[g] = true
				for _, s := range g.render() {
					push(s)
				}
			}
		} else if keep[t] {
			push(t)
		}
	}
	return out
}

// list joins names as "a", "a and b" or "a, b and c".
func list(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

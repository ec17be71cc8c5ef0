package scopelint

import (
	"github.com/smartlaunch/smartlaunch/smart"
)

// writeLetters are the permissions that change data (R-SCOPE-05, R-SCOPE-11).
const writeLetters = smart.Permissions(smart.Create | smart.Update | smart.Delete)

// asks returns "<names> asks" for one scope and "<names> ask" for several.
func asks(names []string, verb string) string {
	if len(names) == 1 {
		return names[0] + " " + verb + "s"
	}
	return list(names) + " " + verb
}

// broader reports "*" types (R-SCOPE-21, R-SCOPE-23), every letter on one
// type, and user/ or system/ scopes for types the request's patient/
// scopes already name.
func (l *linter) broader(kept []*group) {
	for _, g := range kept {
		s, raws := g.union(g.kept), g.raws(g.kept)
		if s.ResourceType == "*" {
			l.add(KindBroader, Warning, raws,
				"%s for every kind of data, including kinds added later; list the types the app uses instead", asks(raws, "ask"))
		}
		if s.Permissions == smart.AllPermissions {
			what := s.ResourceType + " data"
			if s.ResourceType == "*" {
				what = "all data"
			}
			l.add(KindBroader, Info, raws,
				"%s to see, add, change and delete %s; ask only for the letters the app uses", asks(raws, "ask"), what)
		}
	}
	for _, g := range kept {
		s := g.union(g.kept)
		if s.Context == "patient" {
			continue
		}
		var patient []string
		for _, p := range kept {
			ps := p.union(p.kept)
			if ps.Context == "patient" && (ps.ResourceType == s.ResourceType || ps.ResourceType == "*" || s.ResourceType == "*") {
				patient = append(patient, p.raws(p.kept)...)
			}
		}
		if len(patient) == 0 {
			continue
		}
		whose := "every patient the user may see"
		if s.Context == "system" {
			whose = "every patient, with no user involved"
		}
		raws := g.raws(g.kept)
		l.add(KindBroader, Warning, append(raws, patient...),
			"%s for the data of %s, while %s for this patient's; ask for patient/ scopes only unless the app needs other patients' data",
			asks(raws, "ask"), whose, asks(patient, "ask"))
	}
}

// write notes letters that change data on scopes a user approves.
func (l *linter) write(kept []*group) {
	for _, g := range kept {
		s := g.union(g.kept)
		if s.Context == "system" || s.Permissions&writeLetters == 0 || s.Permissions == smart.AllPermissions {
			continue // system/ has no user to ask; cruds has its own finding
		}
		var verbs []string
		for _, v := range []struct {
			p    smart.Permission
			verb string
		}{{smart.Create, "add"}, {smart.Update, "change"}, {smart.Delete, "delete"}} {
			if s.Permissions.Has(v.p) {
				verbs = append(verbs, v.verb)
			}
		}
		raws := g.raws(g.kept)
		l.add(KindWrite, Info, raws,
			"%s the app %s data, so the user is asked to allow changes; ask for c, u or d only if the app saves data",
			asks(raws, "let"), list(verbs))
	}
}

// unexplainable reports suggested resource scopes and extension scopes the
// consent screen cannot say in one plain sentence, with the warning
// people see beside them.
func (l *linter) unexplainable(kept []*group, unknown []string) {
	cat := l.opt.Catalog
	en := cat.Match("en")
	for _, g := range kept {
		for _, s := range g.render() {
			if t := cat.Explain(s, en); !t.Explainable {
				l.add(KindUnexplained, Warning, g.raws(g.kept),
					"the consent screen cannot say %s in one plain sentence, so people see it as written with the warning %q", s, t.Warning)
			}
		}
	}
	for _, u := range unknown {
		if !isExtension(u) {
			continue
		}
		if t := cat.Explain(u, en); !t.Explainable {
			l.add(KindUnexplained, Info, []string{u},
				"the consent screen shows your own scope %s as written, with the warning %q", u, t.Warning)
		}
	}
}

// tooMany reports a request with more resource scopes, once merged, than
// a person can take in.
func (l *linter) tooMany(kept []*group) {
	n := 0
	var raws []string
	for _, g := range kept {
		n += len(g.render())
		raws = append(raws, g.raws(g.kept)...)
	}
	if n > l.opt.MaxScopes {
		l.add(KindTooMany, Warning, raws,
			"even merged, the request has %d scopes for data, more than the %d a person can take in on one consent screen; ask only for what the app uses",
			n, l.opt.MaxScopes)
	}
}

package scopetext

import (
	"errors"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/smartlaunch/smartlaunch/smart"
)

// Text is the plain-language explanation of one scope in one language.
type Text struct {
	// Scope is the scope exactly as written.
	Scope string
	// Short is one line in sentence case, such as "See your lab results".
	Short string
	// Long is at most two sentences: what the app can see or do and whose
	// data; for offline_access, that access continues while the user is
	// not using the app.
	Long string
	// Explainable is false when the scope cannot be said in one plain
	// sentence: a query the catalogs cannot name, a type they do not know,
	// or a scope that is unknown or malformed.
	Explainable bool
	// Warning is set when Explainable is false: a plain warning to show
	// with the raw scope text.
	Warning string
}

// Explain says scope in plain words in the catalog language closest to
// lang (English when none is close). It accepts any string: a context scope
// such as "openid", a resource scope such as "patient/Observation.rs" (SMART
// v1 or v2, with or without a query), or anything else, which yields
// Explainable false and a Warning.
//
// For a resource scope the text depends on the context (patient/: your
// record, user/: what you may see as a clinician, system/: the app on its
// own), on the permissions (read and search: see; create: add; update:
// change; delete: delete; a write-only scope never says see) and on the
// type ("*" is the whole record, including kinds of data added later,
// R-SCOPE-21). A query is explainable when it is one search parameter,
// category or code, whose comma-separated values all appear in
// catalogs/queries.json for that type, written with or without a known
// system; anything else keeps the broad text ("some of your ...") with a
// Warning.
func (c *Catalog) Explain(scope string, lang language.Tag) Text {
	i := c.index(lang)
	if smart.IsContextScope(scope) {
		return Text{
			Scope:       scope,
			Short:       c.text(i, func(l *locale) string { return l.Context[scope].Short }),
			Long:        c.text(i, func(l *locale) string { return l.Context[scope].Long }),
			Explainable: true,
		}
	}
	s, err := smart.ParseScope(scope)
	switch {
	case errors.Is(err, smart.ErrNotResourceScope):
		return c.special(i, scope, warnUnknown)
	case err != nil:
		return c.special(i, scope, warnMalformed)
	}
	return c.explainResource(i, s)
}

// special renders an unknown or malformed scope.
func (c *Catalog) special(i int, scope, key string) Text {
	return Text{
		Scope:   scope,
		Short:   c.text(i, func(l *locale) string { return l.Special[key].Short }),
		Long:    c.text(i, func(l *locale) string { return l.Special[key].Long }),
		Warning: c.warning(i, key),
	}
}

func (c *Catalog) warning(i int, key string) string {
	return c.text(i, func(l *locale) string { return l.Warnings[key] })
}

func (c *Catalog) explainResource(i int, s smart.Scope) Text {
	t := Text{Scope: s.Raw, Explainable: true}
	variant, name := "type", ""
	full, known := c.resourceName(i, s.ResourceType)
	switch {
	case s.ResourceType == "*":
		variant = "all"
		if len(s.Query) > 0 {
			variant, t.Explainable, t.Warning = "some_all", false, c.warning(i, warnQuery)
		}
	case !known:
		name, t.Explainable, t.Warning = full, false, c.warning(i, warnUnknownType)
		if len(s.Query) > 0 {
			variant = "some"
		}
	case len(s.Query) > 0:
		if named, ok := c.queryNames(i, s.ResourceType, s.Query); ok {
			name = named
		} else {
			name, variant, t.Explainable, t.Warning = full, "some", false, c.warning(i, warnQuery)
		}
	default:
		name = full
	}
	t.Short, t.Long = c.render(i, s, variant, name)
	if t.Explainable && len(s.Query) > 0 && utf8.RuneCountInString(t.Short) > c.maxShort(i) {
		// Too many alternatives to say on one line.
		t.Explainable, t.Warning = false, c.warning(i, warnQuery)
		t.Short, t.Long = c.render(i, s, "some", full)
	}
	return t
}

// render fills the Short and Long templates for context s.Context and
// variant with s's verbs and the catalog name.
func (c *Catalog) render(i int, s smart.Scope, variant, name string) (short, long string) {
	key := s.Context + "." + variant
	verbs := c.verbs(i, s.Permissions)
	shortName, longName := nameForms(name)
	short = sentenceCase(fill(c.text(i, func(l *locale) string { return l.Short[key] }), verbs, shortName))
	long = fill(c.text(i, func(l *locale) string { return l.Long[key] }), verbs, longName)
	return short, long
}

func fill(template, verbs, things string) string {
	return strings.NewReplacer("{verbs}", verbs, "{things}", things).Replace(template)
}

// nameForms splits a catalog name into the form for Short texts, without
// the parts in square brackets, and the form for Long texts and
// ResourceName, with them but without the brackets: "samples[ such as
// blood and tissue]" gives "samples" and "samples such as blood and
// tissue". Brackets keep Short texts to one line.
func nameForms(name string) (short, long string) {
	var s, l strings.Builder
	depth := 0
	for _, r := range name {
		switch {
		case r == '[':
			depth++
		case r == ']':
			depth--
		case depth > 0:
			l.WriteRune(r)
		default:
			s.WriteRune(r)
			l.WriteRune(r)
		}
	}
	return s.String(), l.String()
}

// verbs says a permission set as a list of verbs in catalog order: see
// (read or search), add (create), change (update), delete (delete).
func (c *Catalog) verbs(i int, p smart.Permissions) string {
	var words []string
	add := func(ok bool, get func(*locale) string) {
		if ok {
			words = append(words, c.text(i, get))
		}
	}
	add(p.Has(smart.Read) || p.Has(smart.Search), func(l *locale) string { return l.Verbs.See })
	add(p.Has(smart.Create), func(l *locale) string { return l.Verbs.Add })
	add(p.Has(smart.Update), func(l *locale) string { return l.Verbs.Change })
	add(p.Has(smart.Delete), func(l *locale) string { return l.Verbs.Delete })
	return c.join(i, words)
}

// join lists words as "a, b and c" in locale i.
func (c *Catalog) join(i int, words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	sep := c.text(i, func(l *locale) string { return l.Separator })
	and := c.text(i, func(l *locale) string { return l.And })
	return strings.Join(words[:len(words)-1], sep) + and + words[len(words)-1]
}

// sentenceCase upper-cases the first letter of s.
func sentenceCase(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// ResourceName returns the plain plural name of a resource type in the
// catalog language closest to lang, such as "visits and hospital stays" for
// Encounter. "*" gives the whole health record; a type the catalogs do not
// know gives a plain phrase saying the kind of data cannot be named.
func (c *Catalog) ResourceName(resourceType string, lang language.Tag) string {
	name, _ := c.resourceName(c.index(lang), resourceType)
	_, long := nameForms(name)
	return long
}

func (c *Catalog) resourceName(i int, resourceType string) (string, bool) {
	if resourceType == "*" {
		return c.text(i, func(l *locale) string { return l.AllData }), true
	}
	if _, ok := c.locales[0].Resources[resourceType]; !ok {
		return c.text(i, func(l *locale) string { return l.UnknownKind }), false
	}
	return c.text(i, func(l *locale) string { return l.Resources[resourceType] }), true
}

// SupportedScopes returns the scopes the server advertises in the
// discovery document's scopes_supported (SMART App Launch 2.1 §2.1): every
// context scope, then whole-record read access for each context in the v2
// and v1 spellings. Each one explains as Explainable.
func (c *Catalog) SupportedScopes() []string {
	scopes := slices.Clone(smart.ContextScopes)
	for _, ctx := range []string{"patient", "user", "system"} {
		scopes = append(scopes, ctx+"/*.rs", ctx+"/*.read")
	}
	return scopes
}

package scopetext

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/smartlaunch/smartlaunch/smart"
)

// maxShortRunes bounds a Short text to one line: the catalog's max_short,
// 80 characters in English, and 105 in Spanish, French and German, whose
// translations of short phrases commonly run about 30% longer. The worst
// case is a type with all of "cruds" in a "some of ..." text.
func maxShortRunes(c *Catalog, lang language.Tag) int { return c.maxShort(c.index(lang)) }

// permissionSuffixes are the permission sets the rule tests render for
// every type: each single permission, the common pairs and v1 forms.
var permissionSuffixes = []string{"c", "r", "u", "d", "s", "rs", "cu", "cud", "cruds", "read", "write", "*"}

// rendered is one text the catalogs produce, with where it came from.
type rendered struct {
	lang  language.Tag
	scope string
	field string // Short, Long, Warning or ResourceName
	text  string
}

// corpus renders every text the package can produce in lang: each context
// scope, unknown and malformed scopes, every compartment type with each
// permission set in each context, with and without a query it cannot
// name, the whole record, every named query, and every resource name.
func corpus(t testing.TB, c *Catalog, lang language.Tag) []rendered {
	t.Helper()
	scopes := append(slices.Clone(smart.ContextScopes), "launch/location", "patient/Observation.rx", "")
	types := append(patientCompartmentTypes(t), "*", "UnknownThing")
	for _, ctx := range []string{"patient", "user", "system"} {
		for _, typ := range types {
			for _, p := range permissionSuffixes {
				scopes = append(scopes, ctx+"/"+typ+"."+p)
				if p != "read" && p != "write" && p != "*" {
					scopes = append(scopes, ctx+"/"+typ+"."+p+"?_tag=x")
				}
			}
		}
		for typ, entries := range c.queries.Categories {
			for _, e := range entries {
				scopes = append(scopes, ctx+"/"+typ+".rs?category="+e.Code)
			}
		}
		for typ, entries := range c.queries.Codes {
			for _, e := range entries {
				scopes = append(scopes, ctx+"/"+typ+".cruds?code="+e.Systems[0]+"|"+e.Code)
			}
		}
	}
	var out []rendered
	for _, s := range scopes {
		x := c.Explain(s, lang)
		out = append(out,
			rendered{lang, s, "Short", x.Short},
			rendered{lang, s, "Long", x.Long})
		if x.Warning != "" {
			out = append(out, rendered{lang, s, "Warning", x.Warning})
		}
	}
	for _, typ := range types {
		out = append(out, rendered{lang, typ, "ResourceName", c.ResourceName(typ, lang)})
	}
	return out
}

func TestShortIsOneLine(t *testing.T) {
	c := newCatalog(t)
	for _, lang := range c.Languages() {
		for _, r := range corpus(t, c, lang) {
			if r.field != "Short" {
				continue
			}
			if n := utf8.RuneCountInString(r.text); strings.ContainsAny(r.text, "\r\n") || n == 0 || n > maxShortRunes(c, lang) {
				t.Errorf("%v %q Short = %q (%d characters), want one non-empty line of at most %d", lang, r.scope, r.text, n, maxShortRunes(c, lang))
			}
			if first, _ := utf8.DecodeRuneInString(r.text); !unicode.IsUpper(first) || strings.HasSuffix(r.text, ".") {
				t.Errorf("%v %q Short = %q, want sentence case without a final period", lang, r.scope, r.text)
			}
		}
	}
}

func TestLongIsAtMostTwoSentences(t *testing.T) {
	c := newCatalog(t)
	for _, lang := range c.Languages() {
		for _, r := range corpus(t, c, lang) {
			if r.field != "Long" && r.field != "Warning" {
				continue
			}
			if n := sentences(r.text); n < 1 || n > 2 || !endsSentence(r.text) {
				t.Errorf("%v %q %s = %q: %d sentences, want 1 or 2, ending in . ! or ?", lang, r.scope, r.field, r.text, n)
			}
			if strings.ContainsAny(r.text, "\r\n") {
				t.Errorf("%v %q %s = %q has a line break", lang, r.scope, r.field, r.text)
			}
		}
	}
}

// sentences counts the sentences of s: the number of sentence ends, where
// a sentence end is a run of '.', '!', '?' or '…', optionally followed by
// closing quotes or brackets, then whitespace or the end of the text. A
// dot inside a token ("4.5", "x.y") is not an end; an abbreviation
// followed by a space ("e.g. ") is, so abbreviations only make the count
// stricter. A text without final punctuation counts the unfinished
// sentence too.
func sentences(s string) int {
	n := 0
	rs := []rune(strings.TrimSpace(s))
	for i := 0; i < len(rs); i++ {
		if !strings.ContainsRune(".!?…", rs[i]) {
			continue
		}
		j := i
		for j+1 < len(rs) && strings.ContainsRune(".!?…", rs[j+1]) {
			j++
		}
		k := j + 1
		for k < len(rs) && strings.ContainsRune(`)]"'”’»`, rs[k]) {
			k++
		}
		if k == len(rs) || unicode.IsSpace(rs[k]) {
			n++
		}
		i = j
	}
	if len(rs) > 0 && !endsSentence(string(rs)) {
		n++
	}
	return n
}

func endsSentence(s string) bool {
	s = strings.TrimRight(strings.TrimSpace(s), `)]"'”’»`)
	return strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "…")
}

func TestSentences(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"", 0},
		{"One.", 1},
		{"One. Two.", 2},
		{"One! Two? Three.", 3},
		{"No final stop", 1},
		{"One. Then no stop", 2},
		{"Version 4.5 of patient/Observation.rs is fine.", 1},
		{"He said \"stop.\" Then left.", 2},
		{"Wait... and see.", 2},
		{"Est-ce possible ? Oui.", 2},
		{"Use e.g. this.", 2}, // abbreviations count: stricter, never looser
	}
	for _, tt := range tests {
		if got := sentences(tt.s); got != tt.want {
			t.Errorf("sentences(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}

// TestNoJargon checks every rendered text against the jargon rule (see
// jargon) in every language.
func TestNoJargon(t *testing.T) {
	c := newCatalog(t)
	types := patientCompartmentTypes(t)
	for _, lang := range c.Languages() {
		for _, r := range corpus(t, c, lang) {
			if r.field == "Short" || r.field == "Long" || r.field == "Warning" || r.field == "ResourceName" {
				if p := jargon(r.text, lang, types); p != "" {
					t.Errorf("%v %q %s = %q: %s", lang, r.scope, r.field, r.text, p)
				}
			}
			if strings.ContainsAny(r.text, "{}") || strings.Contains(r.text, "  ") || strings.TrimSpace(r.text) != r.text {
				t.Errorf("%v %q %s = %q: leftover placeholder or stray space", lang, r.scope, r.field, r.text)
			}
		}
	}
}

// resourceWords are each language's words for "resource", which users
// should never read.
var resourceWords = map[string][]string{
	"en": {"resource", "resources"},
	"es": {"recurso", "recursos"},
	"fr": {"ressource", "ressources"},
	"de": {"ressource", "ressourcen"},
}

// germanNouns are FHIR type names that are also ordinary German nouns,
// always capitalized in German.
var germanNouns = []string{"Patient", "Person"}

// jargon returns why s breaks the jargon rule in lang, or "". A word is a
// maximal run of letters. The rule:
//   - no word is "FHIR" (any case);
//   - no word is the language's word for resource (any case);
//   - no word is a multi-word FHIR type name in CamelCase (two or more
//     capitals, like "DocumentReference"), alone or plural (+"s"/"es");
//   - no word is a single-word type name as capitalized ("Patient",
//     "Encounters") except as the first word of a sentence, where any
//     word is capitalized; lower-case "patient" or "appointments" is plain
//     language. German capitalizes every noun, so there the ordinary
//     German nouns Patient and Person are allowed.
func jargon(s string, lang language.Tag, types []string) string {
	base, _ := lang.Base()
	sentenceStart := true
	word := strings.Builder{}
	problem := ""
	check := func() {
		w := word.String()
		word.Reset()
		if w == "" || problem != "" {
			return
		}
		first := sentenceStart
		sentenceStart = false
		if strings.EqualFold(w, "FHIR") {
			problem = "says FHIR"
			return
		}
		for _, rw := range resourceWords[base.String()] {
			if strings.EqualFold(w, rw) {
				problem = fmt.Sprintf("says %q", w)
				return
			}
		}
		for _, form := range []string{w, strings.TrimSuffix(w, "s"), strings.TrimSuffix(w, "es")} {
			if !slices.Contains(types, form) {
				continue
			}
			switch {
			case strings.IndexFunc(form[1:], unicode.IsUpper) >= 0:
				problem = fmt.Sprintf("names the type %s", form)
			case first:
			case base.String() == "de" && slices.Contains(germanNouns, form):
			default:
				problem = fmt.Sprintf("names the type %s mid-sentence", form)
			}
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsLetter(r) {
			word.WriteRune(r)
			continue
		}
		check()
		if strings.ContainsRune(".!?", r) && (i+1 == len(rs) || unicode.IsSpace(rs[i+1])) {
			sentenceStart = true
		}
	}
	check()
	return problem
}

func TestJargonRule(t *testing.T) {
	types := []string{"DocumentReference", "Patient", "Encounter", "Observation", "Person"}
	tests := []struct {
		s    string
		lang language.Tag
		bad  bool
	}{
		{"See your documents and notes", language.English, false},
		{"See your DocumentReference entries", language.English, true},
		{"See your DocumentReferences", language.English, true},
		{"DocumentReference at the start", language.English, true},
		{"See the patient's record", language.English, false},
		{"See the Patient details", language.English, true},
		{"Patient details come first", language.English, false},
		{"Done. Patient details follow.", language.English, false},
		{"See your Encounters", language.English, true},
		{"Uses FHIR data", language.English, true},
		{"Uses fhir data", language.English, true},
		{"Reads every resource", language.English, true},
		{"Resources are read", language.English, true},
		{"Angaben zur Person", language.German, false},
		{"Die Observation ansehen", language.German, true},
		{"Todos los recursos", language.Spanish, true},
		{"Toutes les ressources", language.French, true},
		{"HbA1c results", language.English, false},
	}
	for _, tt := range tests {
		if got := jargon(tt.s, tt.lang, types); (got != "") != tt.bad {
			t.Errorf("jargon(%q, %v) = %q, want a problem: %v", tt.s, tt.lang, got, tt.bad)
		}
	}
}

func TestMaxShort(t *testing.T) {
	c := newCatalog(t)
	tests := []struct {
		lang language.Tag
		want int
	}{{language.English, 80}, {language.Spanish, 105}, {language.French, 105}, {language.German, 105}}
	for _, tt := range tests {
		if got := maxShortRunes(c, tt.lang); got != tt.want {
			t.Errorf("max_short(%v) = %d, want %d", tt.lang, got, tt.want)
		}
	}
}

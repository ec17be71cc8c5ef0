package scopetext

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/language"

	"github.com/smartlaunch/smartlaunch/smart"
)

//go:embed catalogs/*.json
var catalogFiles embed.FS

// localeFiles lists the catalogs in the order Languages reports them;
// the first is the fallback for anything the others lack.
var localeFiles = []string{"en", "es", "fr", "de"}

// Template keys: a context ("patient", "user", "system") and a variant:
// "type" names one kind of data, "all" the whole record, "some" part of one
// kind chosen by a query we cannot say simply, "some_all" part of the
// whole record.
var templateVariants = []string{"type", "all", "some", "some_all"}

// Warning and special-entry keys every catalog must define (in English at
// least).
var (
	warningKeys = []string{warnQuery, warnUnknownType, warnUnknown, warnMalformed}
	specialKeys = []string{warnUnknown, warnMalformed}
)

const (
	warnQuery       = "query"
	warnUnknownType = "unknown_type"
	warnUnknown     = "unknown"
	warnMalformed   = "malformed"
)

// locale is one parsed catalog file.
type locale struct {
	Language    string            `json:"language"`
	MaxShort    int               `json:"max_short"` // longest Short text, in characters
	Separator   string            `json:"separator"`
	And         string            `json:"and"`
	Verbs       verbs             `json:"verbs"`
	Short       map[string]string `json:"short"`
	Long        map[string]string `json:"long"`
	Context     map[string]entry  `json:"context"`
	Special     map[string]entry  `json:"special"`
	Warnings    map[string]string `json:"warnings"`
	UnknownKind string            `json:"unknown_kind"`
	AllData     string            `json:"all_data"`
	Resources   map[string]string `json:"resources"`
	Queries     map[string]string `json:"queries"`
}

type verbs struct {
	See    string `json:"see"`
	Add    string `json:"add"`
	Change string `json:"change"`
	Delete string `json:"delete"`
}

type entry struct {
	Short string `json:"short"`
	Long  string `json:"long"`
}

// queryTable is catalogs/queries.json: the search values the catalogs can
// name, by search parameter and resource type. Several entries may share
// one key (one text), e.g. the same category in two code systems.
type queryTable struct {
	Categories map[string][]queryEntry `json:"categories"`
	Codes      map[string][]queryEntry `json:"codes"`
}

type queryEntry struct {
	Key     string   `json:"key"`
	Code    string   `json:"code"`
	Systems []string `json:"systems"`
}

// Catalog holds the parsed plain-language catalogs. It is immutable after
// New and safe for concurrent use.
type Catalog struct {
	tags    []language.Tag
	matcher language.Matcher
	locales []*locale // parallel to tags; locales[0] is English
	queries queryTable
}

// New parses the embedded catalogs. It fails if the English catalog is
// incomplete (a missing template, context scope, warning or query text) or
// if any catalog has a key English lacks; other languages fall back to
// English for what they leave out.
func New() (*Catalog, error) {
	c := &Catalog{}
	if err := decodeStrict("catalogs/queries.json", &c.queries); err != nil {
		return nil, err
	}
	for _, name := range localeFiles {
		l := new(locale)
		if err := decodeStrict("catalogs/"+name+".json", l); err != nil {
			return nil, err
		}
		tag, err := language.Parse(l.Language)
		if err != nil || l.Language != name {
			return nil, fmt.Errorf("scopetext: catalog %s.json: language %q does not match its file name", name, l.Language)
		}
		c.tags = append(c.tags, tag)
		c.locales = append(c.locales, l)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	c.matcher = language.NewMatcher(c.tags)
	return c, nil
}

func decodeStrict(path string, v any) error {
	b, err := catalogFiles.ReadFile(path)
	if err != nil {
		return fmt.Errorf("scopetext: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("scopetext: %s: %w", path, err)
	}
	return nil
}

// validate checks that English is complete and that no catalog holds a
// key English does not know (a typo that would never be shown).
func (c *Catalog) validate() error {
	en := c.locales[0]
	var missing []string
	need := func(what, s string) {
		if strings.TrimSpace(s) == "" {
			missing = append(missing, what)
		}
	}
	if en.MaxShort <= 0 {
		missing = append(missing, "max_short")
	}
	need("separator", en.Separator)
	need("and", en.And)
	need("verbs.see", en.Verbs.See)
	need("verbs.add", en.Verbs.Add)
	need("verbs.change", en.Verbs.Change)
	need("verbs.delete", en.Verbs.Delete)
	need("unknown_kind", en.UnknownKind)
	need("all_data", en.AllData)
	for _, k := range templateKeys() {
		need("short."+k, en.Short[k])
		need("long."+k, en.Long[k])
	}
	for _, k := range smart.ContextScopes {
		need("context."+k+".short", en.Context[k].Short)
		need("context."+k+".long", en.Context[k].Long)
	}
	for _, k := range specialKeys {
		need("special."+k+".short", en.Special[k].Short)
		need("special."+k+".long", en.Special[k].Long)
	}
	for _, k := range warningKeys {
		need("warnings."+k, en.Warnings[k])
	}
	for _, table := range []map[string][]queryEntry{c.queries.Categories, c.queries.Codes} {
		for _, entries := range table {
			for _, e := range entries {
				need("queries."+e.Key, en.Queries[e.Key])
			}
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("scopetext: catalog en.json lacks %s", strings.Join(slices.Compact(missing), ", "))
	}
	for i, l := range c.locales {
		for _, names := range []map[string]string{l.Resources, l.Queries} {
			for k, name := range names {
				if !balanced(name) {
					return fmt.Errorf("scopetext: catalog %s.json: name of %s has unbalanced or nested [ ]", localeFiles[i], k)
				}
			}
		}
	}
	for i, l := range c.locales[1:] {
		if err := extraKeys(l, en); err != nil {
			return fmt.Errorf("scopetext: catalog %s.json: %w", localeFiles[i+1], err)
		}
	}
	return nil
}

func extraKeys(l, en *locale) error {
	for _, check := range []struct {
		what string
		key  string
	}{
		{"template short", extraKey(l.Short, en.Short)},
		{"template long", extraKey(l.Long, en.Long)},
		{"context scope", extraKey(l.Context, en.Context)},
		{"special", extraKey(l.Special, en.Special)},
		{"warning", extraKey(l.Warnings, en.Warnings)},
		{"resource type", extraKey(l.Resources, en.Resources)},
		{"query", extraKey(l.Queries, en.Queries)},
	} {
		if check.key != "" {
			return fmt.Errorf("%s %q is not in en.json", check.what, check.key)
		}
	}
	return nil
}

// extraKey returns the first key (in sorted order) of m that en lacks, or "".
func extraKey[V any](m, en map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if _, ok := en[k]; !ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	return slices.Min(keys)
}

// balanced reports whether the [detail] brackets of a catalog name are
// paired and not nested.
func balanced(name string) bool {
	open := false
	for _, r := range name {
		switch r {
		case '[':
			if open {
				return false
			}
			open = true
		case ']':
			if !open {
				return false
			}
			open = false
		}
	}
	return !open
}

func templateKeys() []string {
	var keys []string
	for _, ctx := range []string{"patient", "user", "system"} {
		for _, v := range templateVariants {
			keys = append(keys, ctx+"."+v)
		}
	}
	return keys
}

// Languages returns the catalog languages, English first: en, es, fr, de.
func (c *Catalog) Languages() []language.Tag { return slices.Clone(c.tags) }

// Match chooses a catalog language from an Accept-Language header value
// (RFC 9110 §12.5.4), or a single tag such as "fr-CA", with the
// golang.org/x/text/language matcher. An empty, malformed or unmatched
// value gives English.
func (c *Catalog) Match(acceptLanguage string) language.Tag {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return c.tags[0]
	}
	return c.tags[c.index(tags...)]
}

// index returns the position in c.tags of the best match for tags, or 0
// (English) when nothing matches.
func (c *Catalog) index(tags ...language.Tag) int {
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No || i < 0 || i >= len(c.tags) {
		return 0
	}
	return i
}

// maxShort returns the longest Short text locale i allows, in characters.
func (c *Catalog) maxShort(i int) int {
	if n := c.locales[i].MaxShort; n > 0 {
		return n
	}
	return c.locales[0].MaxShort
}

// text returns get's value for locale i, or English's when locale i
// leaves it empty.
func (c *Catalog) text(i int, get func(*locale) string) string {
	if s := get(c.locales[i]); s != "" {
		return s
	}
	return get(c.locales[0])
}

package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

//go:embed locales/*.json
var localeFS embed.FS

// Locale is the text of the pages in one language. Templates call
// {{.L.T "key"}}; a key missing in a language falls back to English, and
// one missing everywhere shows as the key itself, which the tests forbid.
type Locale struct {
	// Lang is the BCP 47 tag, for <html lang> and the language switcher.
	Lang string
	m    map[string]string
	en   map[string]string
}

// T returns the text for key.
func (l Locale) T(key string) string {
	if s, ok := l.m[key]; ok {
		return s
	}
	if s, ok := l.en[key]; ok {
		return s
	}
	return key
}

// Tf formats the text for key with args (fmt verbs in the catalog).
func (l Locale) Tf(key string, args ...any) string { return fmt.Sprintf(l.T(key), args...) }

// Locales holds every language's page text.
type Locales struct {
	by map[string]map[string]string
}

// LoadLocales reads the embedded catalogs (locales/<lang>.json).
func LoadLocales() (*Locales, error) {
	entries, err := localeFS.ReadDir("locales")
	if err != nil {
		return nil, fmt.Errorf("web: locales: %w", err)
	}
	ls := &Locales{by: map[string]map[string]string{}}
	for _, e := range entries {
		b, err := localeFS.ReadFile(path.Join("locales", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("web: locales: %w", err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("web: locale %s: %w", e.Name(), err)
		}
		ls.by[strings.TrimSuffix(e.Name(), ".json")] = m
	}
	if ls.by["en"] == nil {
		return nil, fmt.Errorf("web: no English catalog")
	}
	return ls, nil
}

// Get returns the locale for a language tag such as "es" (its base
// language is used); English when there is no catalog for it.
func (ls *Locales) Get(tag string) Locale {
	base, _, _ := strings.Cut(tag, "-")
	m, ok := ls.by[base]
	if !ok {
		base, m = "en", ls.by["en"]
	}
	return Locale{Lang: base, m: m, en: ls.by["en"]}
}

// Keys returns the keys of the English catalog, for tests.
func (ls *Locales) Keys() []string {
	var out []string
	for k := range ls.by["en"] {
		out = append(out, k)
	}
	return out
}

// Languages returns the languages that have a catalog.
func (ls *Locales) Languages() []string {
	var out []string
	for k := range ls.by {
		out = append(out, k)
	}
	return out
}

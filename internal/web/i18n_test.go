package web

import (
	"strings"
	"testing"
)

// TestLocalesComplete: every language has every English key, and no text
// is empty, so no page ever shows a key or a hole.
func TestLocalesComplete(t *testing.T) {
	ls, err := LoadLocales()
	if err != nil {
		t.Fatal(err)
	}
	langs := ls.Languages()
	for _, want := range []string{"en", "es", "fr", "de"} {
		if !strings.Contains(strings.Join(langs, " "), want) {
			t.Errorf("no %s catalog", want)
		}
	}
	for _, lang := range langs {
		l := ls.Get(lang)
		for _, k := range ls.Keys() {
			if _, ok := l.m[k]; !ok {
				t.Errorf("%s lacks %q", lang, k)
			}
			if strings.TrimSpace(l.T(k)) == "" {
				t.Errorf("%s: %q is empty", lang, k)
			}
		}
		if len(l.m) != len(ls.Keys()) {
			t.Errorf("%s has %d keys, English %d", lang, len(l.m), len(ls.Keys()))
		}
	}
	if got := ls.Get("pt-BR").Lang; got != "en" {
		t.Errorf("Get(pt-BR) = %s, want the English fallback", got)
	}
	if got := ls.Get("es-419").T("consent.allow"); got != "Permitir" {
		t.Errorf("es-419 consent.allow = %q", got)
	}
}

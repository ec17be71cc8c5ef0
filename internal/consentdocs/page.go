package consentdocs

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"path"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/smartlaunch/smartlaunch/docs"
	"github.com/smartlaunch/smartlaunch/smart"
	"github.com/smartlaunch/smartlaunch/smart/scopetext"
)

// pageData is what docs/consent.html shows. Every scope text in it comes
// from scopetext; the prose around them is in the template.
type pageData struct {
	Version      string
	ScopeCount   int
	Languages    []languageName
	Shots        []shot
	MetadataPath string
	SchemaPath   string
	// Families has one example per context: patient/, user/, system/.
	Families []scopetext.Text
	// Letters shows the permission letters on one kind of data, and the v1
	// spellings beside their v2 equivalents.
	Letters []scopetext.Text
	V1      []scopetext.Text
	// Wildcards are the "*" (every kind of data) examples.
	Wildcards []scopetext.Text
	Contexts  []scopetext.Text
	Queries   []example
	// Translations show one scope in every language.
	Translations []translation
}

type languageName struct{ Tag, Name string }

// shot is a screenshot on the page; Present is false when the file was
// not embedded, and the page shows a note instead.
type shot struct {
	docs.Screenshot
	URL     string
	Present bool
}

type example struct {
	scopetext.Text
	Note string
}

type translation struct {
	Scope string
	Texts []translatedText
}

type translatedText struct {
	Lang, Name string
	scopetext.Text
}

// buildPage gathers the page's data; present tells which screenshots
// exist.
func buildPage(texts *scopetext.Catalog, scopeCount int, present map[string]bool) pageData {
	en := language.English
	explain := func(scopes ...string) []scopetext.Text {
		out := make([]scopetext.Text, len(scopes))
		for i, s := range scopes {
			out[i] = texts.Explain(s, en)
		}
		return out
	}
	d := pageData{
		Version:      MetadataVersion,
		ScopeCount:   scopeCount,
		MetadataPath: MetadataPath,
		SchemaPath:   SchemaPath,
		Families:     explain("patient/Observation.rs", "user/Observation.rs", "system/Observation.rs"),
		Letters: explain("patient/MedicationRequest.r", "patient/MedicationRequest.s", "patient/MedicationRequest.rs",
			"patient/MedicationRequest.c", "patient/MedicationRequest.u", "patient/MedicationRequest.d",
			"patient/MedicationRequest.cruds"),
		V1:        explain("patient/MedicationRequest.read", "patient/MedicationRequest.write", "patient/MedicationRequest.*"),
		Wildcards: explain("patient/*.rs", "user/*.cruds", "system/*.rs"),
		Contexts:  explain(smart.ContextScopes...),
	}
	for _, tag := range texts.Languages() {
		d.Languages = append(d.Languages, languageName{Tag: tag.String(), Name: display.English.Languages().Name(tag)})
	}
	for _, s := range docs.Screenshots() {
		d.Shots = append(d.Shots, shot{Screenshot: s, URL: ScreenshotPrefix + s.Name, Present: present[s.Name]})
	}
	for _, q := range queryExamples {
		d.Queries = append(d.Queries, example{Text: texts.Explain(q.Scope, en), Note: q.Note})
	}
	for _, s := range []string{"patient/Observation.rs?category=laboratory", "offline_access"} {
		tr := translation{Scope: s}
		for _, l := range d.Languages {
			tr.Texts = append(tr.Texts, translatedText{Lang: l.Tag, Name: l.Name, Text: texts.Explain(s, language.Make(l.Tag))})
		}
		d.Translations = append(d.Translations, tr)
	}
	return d
}

// renderPage parses the page template from assets and renders d.
func renderPage(assets fs.FS, d pageData) ([]byte, error) {
	t, err := template.ParseFS(assets, pageTemplate)
	if err != nil {
		return nil, fmt.Errorf("consentdocs: parse %s: %w", pageTemplate, err)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, path.Base(pageTemplate), d); err != nil {
		return nil, fmt.Errorf("consentdocs: render %s: %w", pageTemplate, err)
	}
	return buf.Bytes(), nil
}

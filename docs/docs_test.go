package docs_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"path"
	"strings"
	"testing"

	"github.com/smartlaunch/smartlaunch/docs"
)

func TestAssetsEmbedded(t *testing.T) {
	for _, name := range []string{"consent.html", "consent.css", docs.SchemaPath, path.Join(docs.ScreenshotDir, "README.md")} {
		if b, err := fs.ReadFile(docs.FS, name); err != nil || len(b) == 0 {
			t.Errorf("%s: %d bytes, %v", name, len(b), err)
		}
	}
}

// The schema is JSON Schema draft 2020-12 with an $id and a description
// of every member and of the versioning rule.
func TestSchemaDocumented(t *testing.T) {
	b, err := fs.ReadFile(docs.FS, docs.SchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Schema     string `json:"$schema"`
		ID         string `json:"$id"`
		Properties map[string]struct {
			Description string `json:"description"`
		} `json:"properties"`
		Defs map[string]struct {
			Description string `json:"description"`
			Properties  map[string]struct {
				Description string `json:"description"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Schema != "https://json-schema.org/draft/2020-12/schema" || !strings.HasPrefix(s.ID, "https://") {
		t.Errorf("$schema %q, $id %q", s.Schema, s.ID)
	}
	for _, k := range []string{"version", "generated_by", "languages", "scopes"} {
		if s.Properties[k].Description == "" {
			t.Errorf("member %s has no description", k)
		}
	}
	if v := s.Properties["version"].Description; !strings.Contains(v, "MAJOR") || !strings.Contains(v, "PATCH") {
		t.Errorf("version's description does not state the versioning rule: %q", v)
	}
	for name, d := range s.Defs {
		if d.Description == "" {
			t.Errorf("$defs/%s has no description", name)
		}
		for k, p := range d.Properties {
			if p.Description == "" {
				t.Errorf("$defs/%s member %s has no description", name, k)
			}
		}
	}
}

// Screenshot names are unique PNG files; those present are PNGs.
func TestScreenshots(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range docs.Screenshots() {
		if seen[s.Name] || path.Ext(s.Name) != ".png" || s.Caption == "" || s.Lang == "" {
			t.Errorf("bad or repeated screenshot entry %+v", s)
		}
		seen[s.Name] = true
		b, err := fs.ReadFile(docs.FS, path.Join(docs.ScreenshotDir, s.Name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			t.Logf("%s has not been generated; the page shows a note", s.Name)
		case err != nil:
			t.Error(err)
		case !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
			t.Errorf("%s is not a PNG", s.Name)
		}
	}
}

package consentdocs_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/smartlaunch/smartlaunch/internal/consentdocs"
	"github.com/smartlaunch/smartlaunch/sampledata"
	"github.com/smartlaunch/smartlaunch/smart"
)

var update = flag.Bool("update", false, "rewrite testdata/metadata.sha256 (only after raising MetadataVersion)")

// metadata fetches the document from a fresh server.
func metadata(t *testing.T) ([]byte, consentdocs.Metadata) {
	t.Helper()
	srv := newServer(t, assetsWith(t))
	resp, body := get(t, srv.URL+consentdocs.MetadataPath)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", consentdocs.MetadataPath, resp.StatusCode)
	}
	var m consentdocs.Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return body, m
}

// Issue 7: the JSON metadata validates against its schema.
func TestMetadataValidatesAgainstSchema(t *testing.T) {
	body, _ := metadata(t)
	if err := validate(compileSchema(t), body); err != nil {
		t.Fatalf("metadata does not validate against docs/scope-metadata.schema.json:\n%v", err)
	}
}

// minimalDocument is a small valid document the broken cases start from.
const minimalDocument = `{
  "version": "1.0.0", "generated_by": "smartlaunch", "languages": ["en", "es"],
  "scopes": [
    {"scope": "openid", "pattern": false, "kind": "context",
     "texts": {"en": {"short": "Know who you are", "long": "The app learns who you are.", "explainable": true},
               "es": {"short": "Saber quién es", "long": "La app sabe quién es.", "explainable": true}}},
    {"scope": "patient/Observation.rs?status=final", "pattern": false, "kind": "query",
     "texts": {"en": {"short": "See some of your test results", "long": "Some.", "explainable": false, "warning": "Careful."}}}
  ]
}`

func TestSchemaRejectsBrokenDocuments(t *testing.T) {
	sch := compileSchema(t)
	if err := validate(sch, []byte(minimalDocument)); err != nil {
		t.Fatalf("the minimal document should be valid: %v", err)
	}
	scope0 := func(d map[string]any) map[string]any { return d["scopes"].([]any)[0].(map[string]any) }
	text0 := func(d map[string]any) map[string]any {
		return scope0(d)["texts"].(map[string]any)["en"].(map[string]any)
	}
	tests := []struct {
		name   string
		break_ func(d map[string]any)
	}{
		{"missing texts", func(d map[string]any) { delete(scope0(d), "texts") }},
		{"empty texts", func(d map[string]any) { scope0(d)["texts"] = map[string]any{} }},
		{"missing long", func(d map[string]any) { delete(text0(d), "long") }},
		{"empty short", func(d map[string]any) { text0(d)["short"] = "" }},
		{"pattern is a string", func(d map[string]any) { scope0(d)["pattern"] = "no" }},
		{"explainable is a number", func(d map[string]any) { text0(d)["explainable"] = 1 }},
		{"scope is a number", func(d map[string]any) { scope0(d)["scope"] = 42 }},
		{"scope with a space", func(d map[string]any) { scope0(d)["scope"] = "openid profile" }},
		{"unknown kind", func(d map[string]any) { scope0(d)["kind"] = "other" }},
		{"unexplainable without warning", func(d map[string]any) { text0(d)["explainable"] = false }},
		{"warning on an explainable text", func(d map[string]any) { text0(d)["warning"] = "Careful." }},
		{"version not semver", func(d map[string]any) { d["version"] = "1.0" }},
		{"missing version", func(d map[string]any) { delete(d, "version") }},
		{"languages not a list", func(d map[string]any) { d["languages"] = "en" }},
		{"bad language tag", func(d map[string]any) { scope0(d)["texts"].(map[string]any)["English"] = text0(d) }},
		{"scopes empty", func(d map[string]any) { d["scopes"] = []any{} }},
		{"unknown member", func(d map[string]any) { d["extra"] = true }},
		{"unknown text member", func(d map[string]any) { text0(d)["tooltip"] = "x" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d map[string]any
			if err := json.Unmarshal([]byte(minimalDocument), &d); err != nil {
				t.Fatal(err)
			}
			tt.break_(d)
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(sch, b); err == nil {
				t.Errorf("schema accepted a document with %s: %s", tt.name, b)
			}
		})
	}
}

// Issue 7: the metadata covers every scope pattern in every language,
// with short and long texts, and says what it is.
func TestMetadataCoverage(t *testing.T) {
	_, m := metadata(t)
	if m.Version != consentdocs.MetadataVersion || m.GeneratedBy != "smartlaunch" {
		t.Errorf("version %q, generated_by %q", m.Version, m.GeneratedBy)
	}
	if want := []string{"en", "es", "fr", "de"}; !slices.Equal(m.Languages, want) {
		t.Errorf("languages = %v, want %v", m.Languages, want)
	}
	byScope := map[string]consentdocs.Scope{}
	for _, s := range m.Scopes {
		if _, dup := byScope[s.Scope]; dup {
			t.Errorf("%s is listed twice", s.Scope)
		}
		byScope[s.Scope] = s
		if len(s.Texts) != len(m.Languages) {
			t.Errorf("%s has texts in %d languages, want %d", s.Scope, len(s.Texts), len(m.Languages))
		}
		for _, lang := range m.Languages {
			tx := s.Texts[lang]
			if strings.TrimSpace(tx.Short) == "" || strings.TrimSpace(tx.Long) == "" {
				t.Errorf("%s in %s: short %q, long %q; want both", s.Scope, lang, tx.Short, tx.Long)
			}
			if tx.Explainable == (tx.Warning != "") {
				t.Errorf("%s in %s: explainable %v with warning %q", s.Scope, lang, tx.Explainable, tx.Warning)
			}
		}
	}
	want := append(slices.Clone(smart.ContextScopes), texts(t).SupportedScopes()...)
	for _, ctx := range []string{"patient", "user", "system"} {
		for _, typ := range append([]string{"*"}, compartment(t)...) {
			for _, p := range []string{"rs", "cruds", "c", "s"} {
				want = append(want, ctx+"/"+typ+"."+p)
			}
		}
	}
	for _, sc := range want {
		s, ok := byScope[sc]
		switch {
		case !ok:
			t.Errorf("%s is missing", sc)
		case smart.IsContextScope(sc) && (s.Kind != "context" || s.Pattern):
			t.Errorf("%s: kind %q, pattern %v; want context, false", sc, s.Kind, s.Pattern)
		case !smart.IsContextScope(sc) && (s.Kind != "resource" || s.Pattern != strings.Contains(sc, "/*.")):
			t.Errorf("%s: kind %q, pattern %v", sc, s.Kind, s.Pattern)
		case !s.Texts["en"].Explainable:
			t.Errorf("%s is not explainable: %q", sc, s.Texts["en"].Warning)
		}
	}
	// Query examples: some explainable, some shown with a warning.
	var explainable, warned int
	for _, s := range m.Scopes {
		if s.Kind != "query" {
			continue
		}
		if s.Texts["en"].Explainable {
			explainable++
		} else {
			warned++
		}
	}
	if explainable < 3 || warned < 1 {
		t.Errorf("query examples: %d explainable, %d with a warning; want at least 3 and 1", explainable, warned)
	}
	slices.Sort(want)
	if got, min := len(m.Scopes), len(slices.Compact(want)); got < min {
		t.Errorf("%d scopes, want at least %d", got, min)
	}
}

// compartment lists the patient compartment's resource types.
func compartment(t *testing.T) []string {
	b, err := sampledata.FS.ReadFile("definitions/compartmentdefinition-patient.json")
	if err != nil {
		t.Fatal(err)
	}
	var def struct{ Resource []struct{ Code string } }
	if err := json.Unmarshal(b, &def); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, r := range def.Resource {
		types = append(types, r.Code)
	}
	if len(types) != 145 {
		t.Fatalf("compartment lists %d types, want 145", len(types))
	}
	return types
}

// The document is the same on every start: the same bytes, in the same
// order.
func TestMetadataDeterministic(t *testing.T) {
	a, _ := metadata(t)
	b, _ := metadata(t)
	if !bytes.Equal(a, b) {
		t.Error("two servers served different metadata")
	}
}

// TestMetadataVersionPinned holds the digest of the published document
// for its version: a change of content (wording included) fails here
// until MetadataVersion is raised and the digest updated with -update.
func TestMetadataVersionPinned(t *testing.T) {
	body, _ := metadata(t)
	sum := sha256.Sum256(body)
	got := fmt.Sprintf("%s %s\n", consentdocs.MetadataVersion, hex.EncodeToString(sum[:]))
	golden := filepath.Join("testdata", "metadata.sha256")
	old, err := os.ReadFile(golden)
	if *update {
		oldVersion, oldSum, _ := strings.Cut(strings.TrimSpace(string(old)), " ")
		if err == nil && oldVersion == consentdocs.MetadataVersion && oldSum != hex.EncodeToString(sum[:]) {
			t.Fatalf("the metadata changed but MetadataVersion is still %s: raise it (MAJOR: a member removed, renamed or changing meaning; MINOR: something added; PATCH: wording) and run -update again", oldVersion)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%v (run go test ./internal/consentdocs -run VersionPinned -update)", err)
	}
	if string(old) != got {
		t.Errorf("the scope metadata is not what version %s published (%s has %q, now %q): raise MetadataVersion in internal/consentdocs/metadata.go by the versioning rule, then run go test ./internal/consentdocs -run VersionPinned -update",
			consentdocs.MetadataVersion, golden, strings.TrimSpace(string(old)), strings.TrimSpace(got))
	}
}

// The JSON is public, readable from any origin, linked to its schema,
// gzip-compressed for clients that accept it, and answers If-None-Match.
func TestMetadataHTTP(t *testing.T) {
	srv := newServer(t, assetsWith(t))
	plain, body := get(t, srv.URL+consentdocs.MetadataPath, "Accept-Encoding", "identity")
	checks := map[string]string{
		"Content-Type":                "application/json",
		"Access-Control-Allow-Origin": "*",
		"Link":                        `</docs/consent/scopes.schema.json>; rel="describedby"`,
		"X-Content-Type-Options":      "nosniff",
	}
	for k, want := range checks {
		if got := plain.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if plain.Header.Get("Content-Encoding") != "" {
		t.Errorf("Content-Encoding %q for identity", plain.Header.Get("Content-Encoding"))
	}

	// The default transport decompresses only when it asked itself; ask
	// explicitly to see the encoding.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+consentdocs.MetadataPath, nil)
	req.Header.Set("Accept-Encoding", "br;q=1, gzip;q=0.8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unzipped, body) {
		t.Error("the gzip body differs from the plain one")
	}

	again, _ := get(t, srv.URL+consentdocs.MetadataPath, "Accept-Encoding", "identity", "If-None-Match", plain.Header.Get("ETag"))
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", again.StatusCode)
	}

	schema, schemaBody := get(t, srv.URL+consentdocs.SchemaPath)
	if schema.StatusCode != http.StatusOK || schema.Header.Get("Content-Type") != "application/schema+json" ||
		schema.Header.Get("Access-Control-Allow-Origin") != "*" || !json.Valid(schemaBody) {
		t.Errorf("GET %s: status %d, Content-Type %q, CORS %q", consentdocs.SchemaPath, schema.StatusCode,
			schema.Header.Get("Content-Type"), schema.Header.Get("Access-Control-Allow-Origin"))
	}
}

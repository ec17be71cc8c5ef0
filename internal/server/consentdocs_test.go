package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// getBody fetches url from the test server and fails unless it answers 200.
func getBody(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", url, resp.StatusCode)
	}
	return b
}

// Issue 7: discovery links the consent design documentation, whose scope
// metadata validates against its schema and describes every scope of
// scopes_supported in every language with a short and a long text.
func TestConsentDocumentation(t *testing.T) {
	e := newEnv(t)
	var conf struct {
		ScopesSupported      []string `json:"scopes_supported"`
		ConsentDocumentation string   `json:"consent_documentation"`
	}
	if err := json.Unmarshal(getBody(t, e.fhir+"/.well-known/smart-configuration"), &conf); err != nil {
		t.Fatal(err)
	}
	if want := e.base + "/docs/consent"; conf.ConsentDocumentation != want {
		t.Fatalf("consent_documentation = %q, want %q", conf.ConsentDocumentation, want)
	}
	if len(conf.ScopesSupported) == 0 {
		t.Fatal("discovery lists no scopes_supported")
	}
	page := string(getBody(t, conf.ConsentDocumentation))
	for _, link := range []string{`href="/docs/consent/scopes.json"`, `href="/docs/consent/scopes.schema.json"`} {
		if !strings.Contains(page, link) {
			t.Errorf("the documentation page lacks %s", link)
		}
	}

	body := getBody(t, e.base+"/docs/consent/scopes.json")
	schemaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(getBody(t, e.base+"/docs/consent/scopes.schema.json")))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("scopes.schema.json", schemaDoc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("scopes.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("the served metadata does not validate against the served schema: %v", err)
	}

	var meta struct {
		Languages []string `json:"languages"`
		Scopes    []struct {
			Scope string `json:"scope"`
			Texts map[string]struct {
				Short string `json:"short"`
				Long  string `json:"long"`
			} `json:"texts"`
		} `json:"scopes"`
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"en", "es", "fr", "de"} {
		if !strings.Contains(strings.Join(meta.Languages, " "), want) {
			t.Errorf("metadata languages %v lack %s", meta.Languages, want)
		}
	}
	described := map[string]int{}
	for i, s := range meta.Scopes {
		described[s.Scope] = i
	}
	for _, sc := range conf.ScopesSupported {
		i, ok := described[sc]
		if !ok {
			t.Errorf("scopes_supported has %s; the metadata does not describe it", sc)
			continue
		}
		for _, lang := range meta.Languages {
			tx := meta.Scopes[i].Texts[lang]
			if strings.TrimSpace(tx.Short) == "" || strings.TrimSpace(tx.Long) == "" {
				t.Errorf("%s in %s: short %q, long %q; want both", sc, lang, tx.Short, tx.Long)
			}
		}
	}
}

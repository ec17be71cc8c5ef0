package consentdocs_test

import (
	"bytes"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/smartlaunch/smartlaunch/docs"
	"github.com/smartlaunch/smartlaunch/internal/consentdocs"
	"github.com/smartlaunch/smartlaunch/smart/scopetext"
)

var (
	catalogOnce sync.Once
	catalog     *scopetext.Catalog
	catalogErr  error
)

func texts(t testing.TB) *scopetext.Catalog {
	t.Helper()
	catalogOnce.Do(func() { catalog, catalogErr = scopetext.New() })
	if catalogErr != nil {
		t.Fatal(catalogErr)
	}
	return catalog
}

// fakePNG is enough of a PNG for the handler, which never decodes it.
var fakePNG = []byte("\x89PNG\r\n\x1a\nfake")

// assetsWith copies the embedded documentation assets, without any
// screenshot, and adds the named screenshots.
func assetsWith(t testing.TB, shots ...string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	for _, name := range []string{"consent.html", "consent.css", docs.SchemaPath} {
		b, err := fs.ReadFile(docs.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		m[name] = &fstest.MapFile{Data: b}
	}
	for _, s := range shots {
		m[docs.ScreenshotDir+"/"+s] = &fstest.MapFile{Data: fakePNG}
	}
	return m
}

// newServer serves the documentation built from assets on a real
// listener.
func newServer(t testing.TB, assets fs.FS) *httptest.Server {
	t.Helper()
	h, err := consentdocs.New(consentdocs.Config{Texts: texts(t), Assets: assets})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// get fetches url with optional header pairs and returns the response
// with its body read.
func get(t testing.TB, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// compileSchema compiles the committed schema with a JSON Schema draft
// 2020-12 validator.
func compileSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	b, err := fs.ReadFile(docs.FS, docs.SchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(docs.SchemaPath, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(docs.SchemaPath)
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return sch
}

// validate checks a JSON document against the schema.
func validate(sch *jsonschema.Schema, body []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

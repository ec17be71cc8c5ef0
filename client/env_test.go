package client_test

// The tests of package client run the real smartlaunch server in-process,
// on a real listener with a real SQLite store. Only this external test
// package imports the server's internal packages (Go allows it within the
// module; DESIGN.md's rule is about package client itself, and
// internal/layering checks Imports, not TestImports).

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/net/html"

	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/server"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
	"github.com/smartlaunch/smartlaunch/sampledata"
)

const (
	testRedirect = "http://127.0.0.1:9/callback"
	publicApp    = "client-test-public"
	secretApp    = "client-test-confidential"
	appSecret    = "client-test-secret"
)

var (
	templateOnce sync.Once
	templateDB   []byte
	templateErr  error
)

// sample is the sample data's definitions and Jill Tillman's bundle only.
func sample() (fs.FS, error) {
	m := fstest.MapFS{}
	add := func(name string) error {
		b, err := fs.ReadFile(sampledata.FS, name)
		m[name] = &fstest.MapFile{Data: b}
		return err
	}
	defs, err := fs.ReadDir(sampledata.FS, "definitions")
	if err != nil {
		return nil, err
	}
	for _, d := range defs {
		if err := add(path.Join("definitions", d.Name())); err != nil {
			return nil, err
		}
	}
	return m, add("patients/Jill_Tillman_c4b7d178-c437-4202-9fb0-1b64afb8bc09.json")
}

// buildTemplate seeds a database once per test binary (password hashing
// and loading are the slow parts).
func buildTemplate() ([]byte, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "smartlaunch-client-template-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "template.db")
	st, err := sqlite.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	s, err := sample()
	if err != nil {
		return nil, err
	}
	if err := demo.Seed(ctx, st, s, time.Now()); err != nil {
		return nil, err
	}
	for _, c := range []store.Client{
		{ID: publicApp, Name: "Client Test Public", Type: store.ClientPublic, RedirectURIs: []string{testRedirect}, Scope: demo.AppScope},
		{ID: secretApp, Name: "Client Test Confidential", Type: store.ClientConfidentialSymmetric,
			SecretHash: store.Hash(appSecret), RedirectURIs: []string{testRedirect}, Scope: demo.AppScope},
	} {
		if err := st.CreateClient(ctx, c); err != nil {
			return nil, err
		}
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

// env is a running smartlaunch server.
type env struct {
	t    testing.TB
	st   *sqlite.DB
	app  *server.Server
	base string
	fhir string
}

func newEnv(t testing.TB, configure func(*server.Config)) *env {
	t.Helper()
	templateOnce.Do(func() { templateDB, templateErr = buildTemplate() })
	if templateErr != nil {
		t.Fatal(templateErr)
	}
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "smartlaunch.db")
	if err := os.WriteFile(p, templateDB, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	cfg := server.Config{Store: st, BaseURL: srv.URL, Now: time.Now}
	if configure != nil {
		configure(&cfg)
	}
	app, err := server.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h = app
	return &env{t: t, st: st, app: app, base: srv.URL, fhir: srv.URL + "/fhir"}
}

// reuseEndings counts the authorizations the server ended for
// refresh-token reuse, from its audit trail.
func (e *env) reuseEndings() int {
	e.t.Helper()
	evs, err := e.st.ListAuditEvents(context.Background(), store.AuditQuery{})
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == "authorization.ended" && ev.Detail == string(store.EndRefreshTokenReuse) {
			n++
		}
	}
	return n
}

// endAll ends every authorization of the demo patient user, as the
// connected-apps page's "End access" does.
func (e *env) endAll() {
	e.t.Helper()
	ctx := context.Background()
	as, err := e.st.ListUserAuthorizations(ctx, "user-patient")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range as {
		e.app.OAuth.EndAuthorization(ctx, a.ID, store.EndUserRevoked)
	}
}

// signIn plays the browser from the authorize URL through sign-in,
// (picker) and consent, and returns the app's callback URL.
func signIn(t testing.TB, authorizeURL, username, password string) *url.URL {
	t.Helper()
	b := newBrowser(t)
	p := b.get(authorizeURL)
	if p.URL.Path != "/login" {
		t.Fatalf("authorize led to %d %s, want the login page:\n%s", p.Status, p.URL, p.Body)
	}
	p = b.submit(p, url.Values{"username": {username}, "password": {password}})
	if p.URL.Path == "/pick" {
		p = b.submit(p, nil)
	}
	if p.URL.Path != "/consent" {
		t.Fatalf("after sign-in got %d %s, want the consent page:\n%s", p.Status, p.URL, p.Body)
	}
	p = b.submit(p, url.Values{"decision": {"allow"}})
	if !strings.HasPrefix(p.Location, testRedirect+"?") {
		t.Fatalf("consent led to %d %s with Location %q, want the app's redirect", p.Status, p.URL, p.Location)
	}
	u, err := url.Parse(p.Location)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// browser keeps cookies, follows redirects within the server and stops at
// the app's redirect URI (a trimmed copy of internal/server's test browser).
type browser struct {
	t testing.TB
	c *http.Client
}

type page struct {
	URL      *url.URL
	Status   int
	Body     string
	Location string
}

func newBrowser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), testRedirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(body), Location: resp.Header.Get("Location")}
}

func (b *browser) get(u string) page {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

// submit fills the page's first form (values replace the form's own) and
// posts it as a browser would.
func (b *browser) submit(p page, values url.Values) page {
	b.t.Helper()
	action, form := parseForm(b.t, p.Body)
	for k, v := range values {
		form[k] = v
	}
	target, err := p.URL.Parse(action)
	if err != nil {
		b.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.URL.Scheme+"://"+p.URL.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

func parseForm(t testing.TB, body string) (string, url.Values) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var action string
	var values url.Values
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			a := map[string]string{}
			for _, at := range n.Attr {
				a[at.Key] = at.Val
			}
			_, checked := a["checked"]
			switch {
			case n.Data == "form" && values == nil:
				action, values = a["action"], url.Values{}
			case n.Data == "input" && values != nil && a["name"] != "":
				switch a["type"] {
				case "checkbox":
					if checked {
						values.Add(a["name"], a["value"])
					}
				case "radio": // the checked one, else the first
					if checked || values.Get(a["name"]) == "" {
						values.Set(a["name"], a["value"])
					}
				case "submit":
				default:
					values.Set(a["name"], a["value"])
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if values == nil {
		t.Fatalf("no form on page:\n%s", body)
	}
	return action, values
}

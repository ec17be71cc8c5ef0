package main

// These tests run the real smartlaunch server in-process (a real listener,
// a real SQLite store, the demo apps and users) and drive smartapp's real
// commands through run, playing the browser with a cookie jar. Only test
// files import the server's internal packages; internal/layering checks
// the package's own imports.

import (
	"bytes"
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
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
	"github.com/smartlaunch/smartlaunch/sampledata"
)

const testPassphrase = "correct horse battery staple"

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

// buildTemplate seeds a database once per test binary (with the demo apps,
// whose public app smartapp uses by default).
func buildTemplate() ([]byte, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "smartapp-template-")
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
	if err := st.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

// testEnv is a running smartlaunch server and a smartapp configuration
// directory.
type testEnv struct {
	t    *testing.T
	st   *sqlite.DB
	app  *server.Server
	base string
	fhir string
	dir  string
}

// newEnv starts a server and makes seal.Default fall back to the
// passphrase deterministically: no session bus, so no keyring.
func newEnv(t *testing.T) *testEnv {
	t.Helper()
	t.Setenv("SMARTAPP_PASSPHRASE", testPassphrase)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
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
	app, err := server.New(ctx, server.Config{Store: st, BaseURL: srv.URL, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	h = app
	return &testEnv{t: t, st: st, app: app, base: srv.URL, fhir: srv.URL + "/fhir", dir: filepath.Join(t.TempDir(), "smartapp")}
}

// result is one smartapp run.
type result struct {
	code           int
	stdout, stderr string
}

// smartapp runs a command with --dir set to the environment's directory
// (the flag goes right after the subcommand).
func (e *testEnv) smartapp(args ...string) result {
	e.t.Helper()
	return e.smartappStdin("", args...)
}

// smartappStdin is smartapp with stdin.
func (e *testEnv) smartappStdin(stdin string, args ...string) result {
	e.t.Helper()
	if len(args) > 0 && args[0] != "scopes" && args[0] != "help" {
		args = append([]string{args[0], "--dir", e.dir}, args[1:]...)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// urlWriter is a stderr that hands the first authorize URL it sees to
// the test.
type urlWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	urls chan string
	sent bool
}

func (w *urlWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.sent {
		for _, f := range strings.Fields(w.buf.String()) {
			if strings.Contains(f, "/authorize?") {
				w.sent = true
				w.urls <- f // buffered: never blocks
				break
			}
		}
	}
	return len(p), nil
}

func (w *urlWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// login runs smartapp login --no-browser and plays the person at the
// browser: sign in as the demo patient, allow, follow the redirect to
// smartapp's loopback listener.
func (e *testEnv) login(extra ...string) result {
	e.t.Helper()
	stderr := &urlWriter{urls: make(chan string, 1)}
	var stdout bytes.Buffer
	codes := make(chan int, 1)
	args := append([]string{"login", "--dir", e.dir, "--fhir", e.fhir, "--no-browser"}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel) // ends a login left waiting by a failed test
	go func() { codes <- run(ctx, args, strings.NewReader(""), &stdout, stderr) }()
	var authorize string
	select {
	case authorize = <-stderr.urls:
	case code := <-codes:
		e.t.Fatalf("login exited %d before printing a URL:\n%s", code, stderr.String())
	}
	callback := signIn(e.t, authorize, "patient", "patient-demo")
	if callback.Host == "127.0.0.1:8000" || !strings.HasPrefix(callback.String(), "http://127.0.0.1:") || callback.Path != "/callback" {
		e.t.Fatalf("redirect %s is not smartapp's loopback listener on a free port", callback)
	}
	resp, err := http.Get(callback.String())
	if err != nil {
		e.t.Fatalf("browser at the callback: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	code := <-codes
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "You can close this tab") {
		e.t.Errorf("callback page: %d %s", resp.StatusCode, body)
	}
	// The login goroutine has returned: stdout is ours alone.
	return result{code, stdout.String(), stderr.String()}
}

// signIn plays the browser from the authorize URL through sign-in,
// (picker) and consent, and returns the app's redirect.
func signIn(t *testing.T, authorizeURL, username, password string) *url.URL {
	t.Helper()
	au, err := url.Parse(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, au.Host)
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
	if p.Location == "" {
		t.Fatalf("consent led to %d %s without a redirect:\n%s", p.Status, p.URL, p.Body)
	}
	u, err := url.Parse(p.Location)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// browser keeps cookies, follows redirects within the server and stops at
// any other host (the app's redirect URI).
type browser struct {
	t *testing.T
	c *http.Client
}

type webPage struct {
	URL      *url.URL
	Status   int
	Body     string
	Location string
}

func newBrowser(t *testing.T, serverHost string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != serverHost {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
}

func (b *browser) do(req *http.Request) webPage {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return webPage{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(body), Location: resp.Header.Get("Location")}
}

func (b *browser) get(u string) webPage {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

// submit fills the webPage's first form (values replace the form's own) and
// posts it as a browser would.
func (b *browser) submit(p webPage, values url.Values) webPage {
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

func parseForm(t *testing.T, body string) (string, url.Values) {
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
		t.Fatalf("no form on webPage:\n%s", body)
	}
	return action, values
}

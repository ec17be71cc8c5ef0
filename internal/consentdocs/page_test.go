package consentdocs_test

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/smartlaunch/smartlaunch/docs"
	"github.com/smartlaunch/smartlaunch/internal/consentdocs"
	"github.com/smartlaunch/smartlaunch/smart"
)

// Issue 7: the documentation page renders, links the JSON and its schema,
// explains every scope family, shows screenshots that exist and a note for
// those that do not, and carries the page security headers.
func TestPage(t *testing.T) {
	srv := newServer(t, assetsWith(t, "consent-en.png"))
	resp, body := get(t, srv.URL+consentdocs.PagePath)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	page := string(body)

	t.Run("headers", func(t *testing.T) {
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "frame-ancestors 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
			}
		}
		// No source list names another origin (form-action may post to
		// apps' redirect URIs, which is the consent flow's business).
		for directive := range strings.SplitSeq(csp, ";") {
			d := strings.Fields(directive)
			if len(d) > 0 && d[0] != "form-action" && strings.Contains(directive, "http") {
				t.Errorf("CSP directive %q allows an external source", directive)
			}
		}
		for k, want := range map[string]string{
			"X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
	})

	t.Run("no external assets", func(t *testing.T) {
		for _, m := range regexp.MustCompile(`(?i)<(?:img|script|link|iframe|source)\b[^>]*>`).FindAllString(page, -1) {
			if regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).MatchString(m) {
				t.Errorf("external asset: %s", m)
			}
		}
		if strings.Contains(page, "<script") || strings.Contains(page, " style=") {
			t.Error("the page has a script or an inline style, which the CSP forbids")
		}
	})

	t.Run("content", func(t *testing.T) {
		want := []string{
			`href="/docs/consent/scopes.json"`, `href="/docs/consent/scopes.schema.json"`,
			"version " + consentdocs.MetadataVersion,
			`<th scope="row">patient/</th>`, `<th scope="row">user/</th>`, `<th scope="row">system/</th>`,
			"<code>c</code> create", "<code>r</code> read", "<code>u</code> update", "<code>d</code> delete", "<code>s</code> search",
			"<code>.read</code>", "<code>.write</code>", "<code>*</code>",
			"English", "Spanish", "French", "German",
			"See your lab results",                                      // an explainable category query
			"<code>patient/Observation.rs?status=final</code>",          // an unexplainable one
			"narrower kind of access that we can&#39;t describe simply", // with its warning
		}
		for _, s := range smart.ContextScopes {
			want = append(want, "<code>"+s+"</code>")
		}
		for _, s := range want {
			if !strings.Contains(page, s) {
				t.Errorf("page lacks %q", s)
			}
		}
	})

	t.Run("screenshots", func(t *testing.T) {
		for _, s := range docs.Screenshots() {
			img := `<img src="/docs/screenshots/` + s.Name + `"`
			note := "<code>" + s.Name + "</code> has not been generated"
			present := s.Name == "consent-en.png"
			if strings.Contains(page, img) != present || strings.Contains(page, note) == present {
				t.Errorf("%s (present %v): image shown %v, note shown %v", s.Name, present,
					strings.Contains(page, img), strings.Contains(page, note))
			}
		}
	})
}

func TestScreenshots(t *testing.T) {
	srv := newServer(t, assetsWith(t, "consent-en.png"))
	tests := []struct {
		name, path string
		status     int
	}{
		{"present", "/docs/screenshots/consent-en.png", http.StatusOK},
		{"missing", "/docs/screenshots/consent-es.png", http.StatusNotFound},
		{"not a screenshot", "/docs/screenshots/README.md", http.StatusNotFound},
		{"escaped traversal", "/docs/screenshots/..%2Fconsent.html", http.StatusNotFound},
		{"style sheet", "/docs/consent/consent.css", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, srv.URL+tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("GET %s: status %d, want %d", tt.path, resp.StatusCode, tt.status)
			}
			if tt.status == http.StatusOK && resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s without nosniff", tt.path)
			}
			if strings.HasSuffix(tt.path, ".png") && tt.status == http.StatusOK &&
				(resp.Header.Get("Content-Type") != "image/png" || !bytes.Equal(body, fakePNG)) {
				t.Errorf("GET %s: Content-Type %q, %d bytes", tt.path, resp.Header.Get("Content-Type"), len(body))
			}
		})
	}
}

// The embedded assets build a handler: the template parses and renders
// with the real catalogs, whatever screenshots exist.
func TestNewWithEmbeddedAssets(t *testing.T) {
	if _, err := consentdocs.New(consentdocs.Config{Texts: texts(t)}); err != nil {
		t.Fatal(err)
	}
	if _, err := consentdocs.New(consentdocs.Config{}); err == nil {
		t.Error("New without Texts succeeded")
	}
}

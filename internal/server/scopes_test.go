package server_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smartlaunch/smartlaunch/internal/server"
)

// TestConsentPlainLanguage: the consent page says each scope in plain
// words in the browser's language, and a query scope that cannot be said
// in one sentence is shown with a warning and its raw text.
func TestConsentPlainLanguage(t *testing.T) {
	e := newEnv(t)
	const odd = "patient/Observation.rs?code:in=http://example.org/ValueSet/x"
	scope := "launch/patient patient/Observation.rs?category=laboratory " + odd
	for _, tt := range []struct {
		lang, want, notWant string
	}{
		{"fr-CA,fr;q=0.9", "résultats", "lab results"},
		{"en-US", "See your lab results", "résultats"},
		{"ja", "See your lab results", ""},
	} {
		b := newBrowser(t, testRedirect)
		b.lang = tt.lang
		p := b.get(authorizeURL(e, url.Values{"scope": {scope}}))
		p = b.submit(p, url.Values{"username": {"patient"}, "password": {"patient-demo"}})
		body := html.UnescapeString(p.Body)
		if p.URL.Path != "/consent" || !strings.Contains(body, tt.want) || (tt.notWant != "" && strings.Contains(body, tt.notWant)) {
			t.Errorf("Accept-Language %s: consent page lacks %q or has %q:\n%s", tt.lang, tt.want, tt.notWant, body)
		}
		if !strings.Contains(body, `class="warning"`) || !strings.Contains(body, "<code>"+odd+"</code>") {
			t.Errorf("Accept-Language %s: the unexplainable scope is not shown with a warning and its raw text", tt.lang)
		}
		for _, jargon := range []string{"Observation", "FHIR"} {
			if strings.Contains(strings.ReplaceAll(body, odd, ""), jargon+" ") {
				t.Errorf("consent page uses jargon %q outside the raw scope", jargon)
			}
		}
	}
}

// TestRefuseUnexplainableScopes: with the server set to refuse them, a
// scope that cannot be said in one sentence gets invalid_scope naming it.
func TestRefuseUnexplainableScopes(t *testing.T) {
	e := newEnvWith(t, func(c *server.Config) { c.RefuseUnexplainableScopes = true })
	const odd = "patient/Observation.rs?code:in=http://example.org/ValueSet/x"
	b := newBrowser(t, testRedirect)
	q := e.appRedirect(b.get(authorizeURL(e, url.Values{"scope": {"launch/patient " + odd}})))
	if q.Get("error") != "invalid_scope" || !strings.Contains(q.Get("error_description"), "patient/Observation.rs?code:in") {
		t.Errorf("redirect %v, want invalid_scope naming the scope", q)
	}
	// An explainable query scope is still fine.
	if p := b.get(authorizeURL(e, url.Values{"scope": {"launch/patient patient/Observation.rs?category=laboratory"}})); p.Status != http.StatusOK || p.URL.Path != "/login" {
		t.Errorf("explainable query scope: %v, want the login page", p)
	}
}

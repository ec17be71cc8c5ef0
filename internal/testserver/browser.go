package testserver

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// SignIn plays the person at the browser from authorizeURL: sign in as
// username, take the first patient if the picker shows, allow on the
// consent page. It returns the redirect to the app (the first redirect
// that leaves the server) without following it.
func SignIn(t testing.TB, authorizeURL, username, password string) *url.URL {
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
	t testing.TB
	c *http.Client
}

// page is a fetched page and, when navigation stopped at the app, the
// redirect's Location.
type page struct {
	URL      *url.URL
	Status   int
	Body     string
	Location string
}

func newBrowser(t testing.TB, serverHost string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != serverHost {
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
// posts it as a browser would, with the Origin and Sec-Fetch-Site headers
// the server's CSRF checks read.
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

// parseForm reads the first form of a page: its action and its inputs
// (checked checkboxes; the checked radio, else the first).
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
		t.Fatalf("no form on the page:\n%s", body)
	}
	return action, values
}

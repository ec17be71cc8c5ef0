package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// browser plays a person's web browser: it keeps cookies, follows
// redirects within the server, stops at the app's redirect URI, and fills
// in and submits HTML forms as they are written.
type browser struct {
	t      testing.TB
	c      *http.Client
	stopAt string // a redirect whose Location starts with this ends navigation
	lang   string // Accept-Language, when set
}

func newBrowser(t testing.TB, stopAt string) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, stopAt: stopAt}
	b.c = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), b.stopAt) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

// page is a fetched page: its final URL, status, body and the final
// redirect (to the app) if navigation stopped at one.
type page struct {
	URL      *url.URL
	Status   int
	Body     string
	Location string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(body), Location: resp.Header.Get("Location")}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// submit fills the page's only form with values (which replace the form's
// own values of the same names) and submits it as a browser would,
// including the Origin header browsers send with POSTs.
func (b *browser) submit(p page, values url.Values) page {
	b.t.Helper()
	f := parseForm(b.t, p.Body)
	for k, v := range values {
		f.values[k] = v
	}
	action, err := p.URL.Parse(f.action)
	if err != nil {
		b.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(f.values.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.URL.Scheme+"://"+p.URL.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

type form struct {
	action string
	values url.Values
	// radios lists the values offered by each radio group.
	radios map[string][]string
}

// parseForm reads the first form of an HTML page: hidden, text and
// password inputs, checked checkboxes and radios.
func parseForm(t testing.TB, body string) form {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var f *form
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			a := attrs(n)
			switch {
			case n.Data == "form" && f == nil:
				f = &form{action: a["action"], values: url.Values{}, radios: map[string][]string{}}
			case n.Data == "input" && f != nil && a["name"] != "":
				switch a["type"] {
				case "checkbox", "radio":
					if a["type"] == "radio" {
						f.radios[a["name"]] = append(f.radios[a["name"]], a["value"])
					}
					if _, checked := a["checked"]; checked {
						f.values.Add(a["name"], a["value"])
					}
				case "submit":
				default:
					f.values.Set(a["name"], a["value"])
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if f == nil {
		t.Fatalf("no form on page:\n%s", body)
	}
	return *f
}

func attrs(n *html.Node) map[string]string {
	m := map[string]string{}
	for _, a := range n.Attr {
		m[a.Key] = a.Val
	}
	return m
}

func (p page) String() string { return fmt.Sprintf("%d %s", p.Status, p.URL) }

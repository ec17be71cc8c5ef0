package fhir

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// TestPagingLinksBound: next and previous links carry the authorization
// they were made for; followed with another authorization's token — even
// one with the same scopes and patient — they are refused with 403, and
// a tampered binding is refused too (issue 10: "a paging link is bound to
// the token that made it"). The self link carries no binding.
func TestPagingLinksBound(t *testing.T) {
	mine := access("patient/*.rs", p355)
	mine.AuthorizationID = "auth-1"
	other := mine
	other.AuthorizationID = "auth-2"
	ts := newTestServer(t, sampleStore(t), fakeVerifier{"mine": mine, "other": other})
	for _, first := range []string{
		"/Observation?_count=5",
		"/?_type=Observation,Condition&_count=5",
		"/Observation/_history?_count=5",
	} {
		t.Run(first, func(t *testing.T) {
			links := func(token, u string) (int, map[string]string) {
				status, body := get(t, u, token, nil)
				var b bundleJSON
				_ = json.Unmarshal(body, &b)
				out := map[string]string{}
				for _, l := range b.Link {
					out[l.Relation] = localURL(ts, l.URL)
				}
				return status, out
			}
			status, page1 := links("mine", ts.URL+"/fhir"+first)
			next := page1["next"]
			if status != 200 || next == "" || !strings.Contains(next, bindingParam+"=") || strings.Contains(page1["self"], bindingParam) {
				t.Fatalf("page 1: %d, links %v; want a bound next link and an unbound self link", status, page1)
			}
			if status, body := get(t, next, "other", nil); status != 403 || outcomeCode(t, body) != "forbidden" {
				t.Errorf("next link with another authorization's token: %d, want 403", status)
			}
			status, page2 := links("mine", next)
			if status != 200 || page2["previous"] == "" {
				t.Fatalf("next link with the same authorization: %d, links %v", status, page2)
			}
			if status, _ := get(t, page2["previous"], "mine", nil); status != 200 {
				t.Errorf("previous link: %d, want 200", status)
			}
			u, _ := url.Parse(next)
			q := u.Query()
			q.Set(bindingParam, "AAAAAAAAAAAAAAAA")
			u.RawQuery = q.Encode()
			if status, _ := get(t, u.String(), "mine", nil); status != 403 {
				t.Errorf("tampered binding: %d, want 403", status)
			}
		})
	}
}

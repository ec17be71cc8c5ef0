package fhir

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// maxBody is the largest request body read.
const maxBody = 1 << 20

// searchParams returns the URL query parameters and, for POST, the form
// body's, refusing malformed ones.
func searchParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, invalid("malformed query string")
	}
	if r.Method != http.MethodPost {
		return params, nil
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, &apiError{Status: http.StatusUnsupportedMediaType, Code: "not-supported",
			Diagnostics: "a search body must be application/x-www-form-urlencoded"}
	}
	body := http.MaxBytesReader(w, r.Body, maxBody)
	b, err := io.ReadAll(body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too-costly", Diagnostics: "request body too large"}
		}
		return nil, invalid("unreadable request body")
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, invalid("malformed form body")
	}
	for k, vs := range form {
		params[k] = append(params[k], vs...)
	}
	return params, nil
}

// bundle is a FHIR R4 searchset or history Bundle.
type bundle struct {
	ResourceType string        `json:"resourceType"`
	Meta         bundleMeta    `json:"meta"`
	Type         string        `json:"type"`
	Total        int           `json:"total"`
	Link         []bundleLink  `json:"link"`
	Entry        []bundleEntry `json:"entry,omitempty"`
}

type bundleMeta struct {
	LastUpdated string `json:"lastUpdated"`
}

type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type bundleEntry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Search   *entrySearch    `json:"search,omitempty"`
	Request  *entryRequest   `json:"request,omitempty"`
	Response *entryResponse  `json:"response,omitempty"`
}

type entrySearch struct {
	Mode string `json:"mode"`
}

type entryRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

type entryResponse struct {
	Status       string `json:"status"`
	Etag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
}

// searchset builds the Bundle of one page of matches of a search at path
// (an absolute URL without query), with self, next and previous links
// carrying the applied parameters, _count and _offset.
func (s *Server) searchset(path string, q search, rs []store.Resource, total int, now time.Time) bundle {
	b := bundle{ResourceType: "Bundle", Type: "searchset", Total: total,
		Meta: bundleMeta{LastUpdated: now.UTC().Format(time.RFC3339)}}
	b.Link = pageLinks(path, q, total)
	for _, r := range rs {
		res := r.JSON
		if q.Elements != nil {
			res = subset(res, q.Elements)
		}
		b.Entry = append(b.Entry, bundleEntry{FullURL: s.base + "/" + r.Type + "/" + r.ID,
			Resource: res, Search: &entrySearch{Mode: "match"}})
	}
	return b
}

// pageLinks are the self, next and previous links of a page; the next
// and previous links carry q's binding (bindPages).
func pageLinks(path string, q search, total int) []bundleLink {
	links := []bundleLink{{"self", pageURL(path, q.params, q.Count, q.Offset)}}
	paging := q.params
	if q.binding != "" {
		paging = maps.Clone(q.params)
		paging.Set(bindingParam, q.binding)
	}
	if q.Count > 0 && q.Offset+q.Count < total {
		links = append(links, bundleLink{"next", pageURL(path, paging, q.Count, q.Offset+q.Count)})
	}
	if q.Offset > 0 {
		links = append(links, bundleLink{"previous", pageURL(path, paging, q.Count, max(q.Offset-max(q.Count, 1), 0))})
	}
	return links
}

// addIncluded appends resources added by _include and _revinclude.
func (b *bundle) addIncluded(base string, rs []store.Resource) {
	for _, r := range rs {
		b.Entry = append(b.Entry, bundleEntry{FullURL: base + "/" + r.Type + "/" + r.ID,
			Resource: r.JSON, Search: &entrySearch{Mode: "include"}})
	}
}

// addOutcome appends an OperationOutcome entry (search.mode "outcome")
// when included resources were withheld (D-6) or parameters were left out
// under lenient handling.
func (b *bundle) addOutcome(withheld bool, ignored []string) {
	if e, ok := outcomeEntry(withheld, ignored); ok {
		b.Entry = append(b.Entry, e)
	}
}

// outcomeEntry is the OperationOutcome entry of addOutcome; ok is false
// when there is nothing to say.
func outcomeEntry(withheld bool, ignored []string) (bundleEntry, bool) {
	var issues []fhirwire.Issue
	if withheld {
		issues = append(issues, fhirwire.Issue{Severity: "warning", Code: "suppressed",
			Diagnostics: "some included resources were withheld: the access token does not allow reading them"})
	}
	if len(ignored) > 0 {
		names := make([]string, 0, len(ignored))
		for _, n := range ignored {
			names = append(names, strconv.Quote(truncate(n, 64)))
		}
		issues = append(issues, fhirwire.Issue{Severity: "warning", Code: "not-supported",
			Diagnostics: "search parameters not supported and not applied: " + strings.Join(names, ", ")})
	}
	if len(issues) == 0 {
		return bundleEntry{}, false
	}
	oo, _ := json.Marshal(fhirwire.OperationOutcome{ResourceType: "OperationOutcome", Issue: issues})
	return bundleEntry{Resource: oo, Search: &entrySearch{Mode: "outcome"}}, true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// pageURL is the absolute URL of one page of a search at path.
func pageURL(path string, params url.Values, count, offset int) string {
	v := url.Values{}
	for k, vs := range params {
		v[k] = vs
	}
	v.Set("_count", strconv.Itoa(count))
	v.Set(offsetParam, strconv.Itoa(offset))
	return path + "?" + v.Encode()
}

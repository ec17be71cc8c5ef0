package fhir

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// maxBody is the largest request body read.
const maxBody = 1 << 20

// search serves GET /{type}?params and POST /{type}/_search (FHIR R4 search
// §3.1.1), answering a searchset Bundle.
func (s *Server) search(w http.ResponseWriter, r *http.Request, a Access, typ string) error {
	params, err := searchParams(w, r)
	if err != nil {
		return err
	}
	res, err := s.grant(a, typ, smart.Search)
	if err != nil {
		return err
	}
	now := s.now()
	q, err := s.defs.parseSearch(typ, params, now)
	if err != nil {
		return err
	}
	sq := store.ResourceQuery{Type: typ, Patient: res.patient, Count: q.Count, Offset: q.Offset,
		Filters: append(q.Filters, res.filters...)}
	rs, total, err := s.store.SearchResources(r.Context(), sq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.searchset(typ, q, rs, total, now))
	return nil
}

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

// bundle is a FHIR R4 searchset Bundle.
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
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	Search   entrySearch     `json:"search"`
}

type entrySearch struct {
	Mode string `json:"mode"`
}

// searchset builds the Bundle of one page, with self, next and previous
// links carrying _count and _offset.
func (s *Server) searchset(typ string, q search, rs []store.Resource, total int, now time.Time) bundle {
	b := bundle{ResourceType: "Bundle", Type: "searchset", Total: total,
		Meta: bundleMeta{LastUpdated: now.UTC().Format(time.RFC3339)}}
	b.Link = append(b.Link, bundleLink{"self", s.pageURL(typ, q.params, q.Count, q.Offset)})
	if q.Count > 0 && q.Offset+q.Count < total {
		b.Link = append(b.Link, bundleLink{"next", s.pageURL(typ, q.params, q.Count, q.Offset+q.Count)})
	}
	if q.Offset > 0 {
		b.Link = append(b.Link, bundleLink{"previous", s.pageURL(typ, q.params, q.Count, max(q.Offset-max(q.Count, 1), 0))})
	}
	for _, r := range rs {
		b.Entry = append(b.Entry, bundleEntry{FullURL: s.base + "/" + typ + "/" + r.ID,
			Resource: r.JSON, Search: entrySearch{Mode: "match"}})
	}
	return b
}

// pageURL is the absolute search URL of one page.
func (s *Server) pageURL(typ string, params url.Values, count, offset int) string {
	v := url.Values{}
	for k, vs := range params {
		v[k] = vs
	}
	v.Set("_count", strconv.Itoa(count))
	v.Set(offsetParam, strconv.Itoa(offset))
	return s.base + "/" + typ + "?" + v.Encode()
}

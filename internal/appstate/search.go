package appstate

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// search serves GET /Basic?code=system|code&subject=<ref> and
// GET /Basic?code=system|code&subject:missing=true (R-STATE-26..28).
func (h *Handler) search(w http.ResponseWriter, r *http.Request, c Caller) error {
	q, err := parseSearch(r.URL.RawQuery)
	if err != nil {
		return err
	}
	if err := h.checkSubject(q.Subject); err != nil {
		return err
	}
	if err := h.authorize(r.Context(), c, smart.Search, q.Code, q.Subject, false); err != nil {
		return err
	}
	states, err := h.store.SearchAppStates(r.Context(), q)
	if err != nil {
		return err
	}
	self := url.Values{"code": {q.Code}}
	if q.Subject == "" {
		self.Set("subject:missing", "true")
	} else {
		self.Set("subject", q.Subject)
	}
	b := bundle{
		ResourceType: "Bundle",
		Type:         "searchset",
		Total:        len(states),
		Link:         []link{{Relation: "self", URL: h.base + "/Basic?" + self.Encode()}},
		Entry:        make([]entry, 0, len(states)),
	}
	for _, st := range states {
		b.Entry = append(b.Entry, entry{
			FullURL:  h.base + "/Basic/" + st.ID,
			Resource: json.RawMessage(st.JSON),
			Search:   entrySearch{Mode: "match"},
		})
	}
	fhirwire.WriteJSON(w, http.StatusOK, b)
	return nil
}

// parseSearch reads the App State search parameters (R-STATE-27): code
// (system|code, exactly as stored) and exactly one of subject (an absolute
// reference) and subject:missing=true. Any other parameter is refused.
func parseSearch(raw string) (store.AppStateQuery, error) {
	var q store.AppStateQuery
	params, err := url.ParseQuery(raw)
	if err != nil {
		return q, invalid("the query string is malformed")
	}
	for k := range params {
		if k != "code" && k != "subject" && k != "subject:missing" {
			return q, invalid("supported search parameters are code, subject and subject:missing")
		}
	}
	codes := params["code"]
	if len(codes) != 1 {
		return q, invalid("one code=system|code is required")
	}
	system, code, ok := strings.Cut(codes[0], "|")
	if !ok || system == "" || code == "" {
		return q, invalid("one code=system|code is required")
	}
	q.Code = codes[0]
	subjects, missing := params["subject"], params["subject:missing"]
	switch {
	case len(subjects) == 1 && subjects[0] != "" && len(missing) == 0:
		q.Subject = subjects[0]
	case len(subjects) == 0 && len(missing) == 1 && missing[0] == "true":
	default:
		return q, invalid("exactly one of subject=<absolute reference> and subject:missing=true is required")
	}
	return q, nil
}

// bundle is a FHIR R4 searchset Bundle (R-STATE-28).
type bundle struct {
	ResourceType string  `json:"resourceType"`
	Type         string  `json:"type"`
	Total        int     `json:"total"`
	Link         []link  `json:"link"`
	Entry        []entry `json:"entry,omitempty"`
}

type link struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type entry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	Search   entrySearch     `json:"search"`
}

type entrySearch struct {
	Mode string `json:"mode"`
}

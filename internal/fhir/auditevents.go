package fhir

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// AuditTrail is the audit trail the Server exports as AuditEvent
// resources.
type AuditTrail interface {
	ListAuditEvents(ctx context.Context, q store.AuditQuery) ([]store.AuditEvent, error)
}

// auditAfterParam pages an AuditEvent search: the id of the last event
// of the previous page.
const auditAfterParam = "_after"

// auditEvents serves GET AuditEvent/{id} and GET AuditEvent?search from
// the audit trail, never from the resource store or the upstream. The
// trail is security data, not clinical data: only a system/AuditEvent
// scope with r (read) or s (search), and no query, gives access — an
// administrator's backend client; wildcards (system/*.rs) and patient or
// user scopes do not. The trail is append-only: every other method is
// answered 405.
func (s *Server) auditEvents(w http.ResponseWriter, r *http.Request, a Access, rest []string) error {
	switch {
	case len(rest) == 0:
		return s.methods(w, r, handlers{http.MethodGet: func() error { return s.searchAuditEvents(w, r, a) }})
	case len(rest) == 1 && rest[0] == "_search":
		return s.methods(w, r, handlers{http.MethodPost: func() error { return s.searchAuditEvents(w, r, a) }})
	case len(rest) == 1 && !strings.HasPrefix(rest[0], "$") && !strings.HasPrefix(rest[0], "_"):
		return s.methods(w, r, handlers{http.MethodGet: func() error { return s.readAuditEvent(w, r, a, rest[0]) }})
	}
	return &apiError{Status: http.StatusBadRequest, Code: "not-supported", Diagnostics: "AuditEvent supports only read and search"}
}

// mayReadAudit reports whether a's scopes include a plain system/AuditEvent
// scope with permission p.
func mayReadAudit(a Access, p smart.Permission) bool {
	for _, sc := range a.Scopes.Resources {
		if sc.Context == "system" && sc.ResourceType == "AuditEvent" && len(sc.Query) == 0 && sc.Permissions.Has(p) {
			return true
		}
	}
	return false
}

var errAuditScope = forbidden("the audit trail needs a system/AuditEvent scope (an administrator's backend client)")

func (s *Server) readAuditEvent(w http.ResponseWriter, r *http.Request, a Access, id string) error {
	if !mayReadAudit(a, smart.Read) {
		return errAuditScope
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return notFound("no such AuditEvent")
	}
	evs, err := s.audit.ListAuditEvents(r.Context(), store.AuditQuery{AfterID: n - 1, Limit: 1})
	if err != nil {
		return err
	}
	if len(evs) == 0 || evs[0].ID != n {
		return notFound("no such AuditEvent")
	}
	fhirwire.WriteJSON(w, http.StatusOK, audit.Resource(evs[0], s.rootURL()))
	return nil
}

// auditBundle is a searchset of AuditEvents; the total is not counted.
type auditBundle struct {
	ResourceType string       `json:"resourceType"`
	Meta         bundleMeta   `json:"meta"`
	Type         string       `json:"type"`
	Link         []bundleLink `json:"link"`
	Entry        []auditEntry `json:"entry,omitempty"`
}

type auditEntry struct {
	FullURL  string           `json:"fullUrl"`
	Resource audit.AuditEvent `json:"resource"`
	Search   entrySearch      `json:"search"`
}

// searchAuditEvents answers an AuditEvent search, oldest event first. The
// parameters are date (with the prefixes eq, ge, gt, le, lt; repeatable),
// subtype (an event type such as signin.failed, with or without
// audit.EventTypeSystem), altid (a user id), _count and the paging
// parameter of its own next links. Any other parameter is refused with
// 400: a filter silently dropped would export more than was asked.
func (s *Server) searchAuditEvents(w http.ResponseWriter, r *http.Request, a Access) error {
	if !mayReadAudit(a, smart.Search) {
		return errAuditScope
	}
	params, err := searchParams(w, r)
	if err != nil {
		return err
	}
	q, err := auditQuery(params)
	if err != nil {
		return err
	}
	q.Limit++ // one more, to know whether there is a next page
	evs, err := s.audit.ListAuditEvents(r.Context(), q)
	if err != nil {
		return err
	}
	q.Limit--
	path := s.base + "/AuditEvent"
	b := auditBundle{ResourceType: "Bundle", Type: "searchset",
		Meta: bundleMeta{LastUpdated: s.now().UTC().Format(time.RFC3339)}}
	b.Link = []bundleLink{{"self", path + "?" + params.Encode()}}
	if len(evs) > q.Limit {
		evs = evs[:q.Limit]
		next := url.Values{}
		for k, vs := range params {
			next[k] = vs
		}
		next.Set(auditAfterParam, strconv.FormatInt(evs[len(evs)-1].ID, 10))
		b.Link = append(b.Link, bundleLink{"next", path + "?" + next.Encode()})
	}
	root := s.rootURL()
	for _, e := range evs {
		b.Entry = append(b.Entry, auditEntry{FullURL: path + "/" + strconv.FormatInt(e.ID, 10),
			Resource: audit.Resource(e, root), Search: entrySearch{Mode: "match"}})
	}
	fhirwire.WriteJSON(w, http.StatusOK, b)
	return nil
}

// auditQuery turns AuditEvent search parameters into a store query.
func auditQuery(params url.Values) (store.AuditQuery, error) {
	q := store.AuditQuery{Limit: defaultCount}
	for name, vs := range params {
		for _, v := range vs {
			switch name {
			case "date":
				if err := auditDate(&q, v); err != nil {
					return q, err
				}
			case "subtype":
				code := strings.TrimPrefix(v, audit.EventTypeSystem+"|")
				if q.Type != "" && q.Type != code {
					return q, invalid("subtype: give one event type")
				}
				q.Type = code
			case "altid":
				if q.UserID != "" && q.UserID != v {
					return q, invalid("altid: give one user")
				}
				q.UserID = v
			case "_count":
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 {
					return q, invalid("_count must be a positive integer")
				}
				q.Limit = min(n, maxCount)
			case auditAfterParam:
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n < 0 {
					return q, invalid(auditAfterParam + " must be an event id")
				}
				q.AfterID = n
			default:
				return q, &apiError{Status: http.StatusBadRequest, Code: "not-supported",
					Diagnostics: "AuditEvent search supports date, subtype, altid and _count; not " + truncate(name, 64)}
			}
		}
	}
	return q, nil
}

// auditDate narrows q's time window by one date parameter.
func auditDate(q *store.AuditQuery, v string) error {
	prefix := "eq"
	if len(v) > 2 && v[0] >= 'a' && v[0] <= 'z' {
		prefix, v = v[:2], v[2:]
	}
	lo, hi, err := dateRange(v)
	if err != nil {
		return invalid("date: " + err.Error())
	}
	since, before := time.Time{}, time.Time{}
	switch prefix {
	case "eq":
		since, before = lo, hi.Add(time.Microsecond)
	case "ge":
		since = lo
	case "gt":
		since = hi.Add(time.Microsecond)
	case "le":
		before = hi.Add(time.Microsecond)
	case "lt":
		before = lo
		if before.IsZero() { // the zero time means no bound: year 1 holds no events anyway
			before = lo.Add(time.Microsecond)
		}
	default:
		return invalid("date: the prefix must be eq, ge, gt, le or lt")
	}
	if !since.IsZero() && since.After(q.Since) {
		q.Since = since
	}
	if !before.IsZero() && (q.Before.IsZero() || before.Before(q.Before)) {
		q.Before = before
	}
	return nil
}

// rootURL is the server's public base: the FHIR base without "/fhir".
func (s *Server) rootURL() string {
	return strings.TrimSuffix(s.base, "/fhir")
}

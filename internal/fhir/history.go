package fhir

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// vread serves GET /{type}/{id}/_history/{vid} (FHIR R4 http §3.1.0.3).
// The version asked for is judged on its own content, not the current
// one's: a version the token may not read is not found, whatever
// the current version says; a deletion is 410 Gone.
func (s *Server) vread(w http.ResponseWriter, r *http.Request, a Access, typ, id, vid string) error {
	dec, err := s.defs.decide(a, typ, interVRead, s.now())
	if err != nil {
		return err
	}
	if !validID(id) {
		return notFound("resource version not found")
	}
	versions, err := s.versions(r.Context(), dec, typ, id)
	if err != nil {
		return err
	}
	for _, v := range versions {
		switch {
		case v.VersionID != vid:
		case v.Deleted:
			return &apiError{Status: http.StatusGone, Code: "deleted", Diagnostics: "this version records the resource's deletion"}
		default:
			writeResource(w, v)
			return nil
		}
	}
	return notFound("resource version not found")
}

// versions returns the versions of typ/id that dec permits, newest first,
// each judged on its own compartments and index.
func (s *Server) versions(ctx context.Context, dec decision, typ, id string) ([]store.Resource, error) {
	var out []store.Resource
	cur, err := s.store.GetResource(ctx, typ, id)
	switch {
	case err == nil && dec.permits(cur):
		out = append(out, cur)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	former, err := s.store.ResourceHistory(ctx, store.HistoryQuery{Type: typ, ID: id})
	if err != nil {
		return nil, err
	}
	for _, v := range former {
		if dec.permits(v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// historyParams checks the parameters of a history interaction: only
// _count, _offset, _elements and _format (and _type at system level) are
// supported; others are refused under handling=strict and otherwise left
// out and returned.
func historyParams(w http.ResponseWriter, r *http.Request, system bool) (url.Values, []string, error) {
	params, err := searchParams(w, r)
	if err != nil {
		return nil, nil, err
	}
	var ignored []string
	for _, name := range slices.Sorted(maps.Keys(params)) {
		if isResultParam(name) || system && name == "_type" {
			continue
		}
		if strictHandling(r) {
			return nil, nil, unsupportedParam(name)
		}
		ignored = append(ignored, name)
		delete(params, name)
	}
	return params, ignored, nil
}

// historyInstance serves GET /{type}/{id}/_history (FHIR R4 http
// §3.1.0.11): every version of the resource the token may read, each
// judged on its own content, newest first. A resource with no such
// version is not found.
func (s *Server) historyInstance(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error {
	params, ignored, err := historyParams(w, r, false)
	if err != nil {
		return err
	}
	now := s.now()
	dec, err := s.defs.decide(a, typ, interHistoryInstance, now)
	if err != nil {
		return err
	}
	if !validID(id) {
		return notFound("resource not found")
	}
	q, err := s.defs.parseSearch(typ, params, true, now)
	if err != nil {
		return err
	}
	if err := bindPages(&q, a); err != nil {
		return err
	}
	vs, err := s.versions(r.Context(), dec, typ, id)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		return notFound("resource not found")
	}
	b := s.history(s.base+"/"+typ+"/"+id+"/_history", q, page(vs, q), len(vs), now)
	b.addOutcome(false, ignored)
	fhirwire.WriteJSON(w, http.StatusOK, b)
	return nil
}

// historyType serves GET /{type}/_history: the versions of resources of
// typ the token may search, current and former, each judged on its own
// content, newest first and paged.
func (s *Server) historyType(w http.ResponseWriter, r *http.Request, a Access, typ string) error {
	params, ignored, err := historyParams(w, r, false)
	if err != nil {
		return err
	}
	now := s.now()
	dec, err := s.defs.decide(a, typ, interHistoryType, now)
	if err != nil {
		return err
	}
	q, err := s.defs.parseSearch(typ, params, true, now)
	if err != nil {
		return err
	}
	if err := bindPages(&q, a); err != nil {
		return err
	}
	vs, total, err := s.historyOf(r.Context(), []typeDecision{{typ, dec}}, q)
	if err != nil {
		return err
	}
	b := s.history(s.base+"/"+typ+"/_history", q, vs, total, now)
	b.addOutcome(false, ignored)
	fhirwire.WriteJSON(w, http.StatusOK, b)
	return nil
}

// historyOf returns one page of the versions of the types, newest first,
// and their number: the current versions the store selects for each
// type's decision, and the former versions the decision permits.
func (s *Server) historyOf(ctx context.Context, types []typeDecision, q search) ([]store.Resource, int, error) {
	var (
		all   []store.Resource
		total int
	)
	decs := make(map[string]decision, len(types))
	for _, t := range types {
		decs[t.name] = t.dec
		sq := store.ResourceQuery{Type: t.name, Count: q.Offset + q.Count,
			Sort: []store.SortKey{{Param: "_lastUpdated", Desc: true}}}
		t.dec.restrict(&sq)
		rs, n, err := s.store.SearchResources(ctx, sq)
		if err != nil {
			return nil, 0, err
		}
		all, total = append(all, rs...), total+n
	}
	hq := store.HistoryQuery{}
	if len(types) == 1 {
		hq.Type = types[0].name
	}
	former, err := s.store.ResourceHistory(ctx, hq)
	if err != nil {
		return nil, 0, err
	}
	for _, v := range former {
		if dec, ok := decs[v.Type]; ok && dec.permits(v) {
			all, total = append(all, v), total+1
		}
	}
	slices.SortStableFunc(all, newestFirst)
	return page(all, q), total, nil
}

// newestFirst orders versions by time of change, newest first, then by
// type, id and version.
func newestFirst(x, y store.Resource) int {
	vx, _ := strconv.Atoi(x.VersionID)
	vy, _ := strconv.Atoi(y.VersionID)
	return cmp.Or(y.LastUpdated.Compare(x.LastUpdated), cmp.Compare(x.Type, y.Type),
		cmp.Compare(x.ID, y.ID), cmp.Compare(vy, vx))
}

// page returns the page of vs that q asks for.
func page(vs []store.Resource, q search) []store.Resource {
	return vs[min(q.Offset, len(vs)):min(q.Offset+q.Count, len(vs))]
}

// history builds a history Bundle of the versions rs (FHIR R4 http
// §3.1.0.11): each entry says how the version came to be — POST for a
// first version, PUT for a later one, DELETE (without a resource) for a
// deletion.
func (s *Server) history(path string, q search, rs []store.Resource, total int, now time.Time) bundle {
	b := bundle{ResourceType: "Bundle", Type: "history", Total: total,
		Meta: bundleMeta{LastUpdated: now.UTC().Format(time.RFC3339)}}
	b.Link = pageLinks(path, q, total)
	for _, r := range rs {
		req := &entryRequest{Method: http.MethodPut, URL: r.Type + "/" + r.ID}
		resp := &entryResponse{Status: "200 OK", Etag: `W/"` + r.VersionID + `"`}
		switch {
		case r.Deleted:
			req.Method, resp.Status = http.MethodDelete, "204 No Content"
		case r.VersionID == "1":
			req, resp.Status = &entryRequest{Method: http.MethodPost, URL: r.Type}, "201 Created"
		}
		if !r.LastUpdated.IsZero() {
			resp.LastModified = r.LastUpdated.UTC().Format(time.RFC3339)
		}
		res := r.JSON
		if q.Elements != nil && res != nil {
			res = subset(res, q.Elements)
		}
		b.Entry = append(b.Entry, bundleEntry{FullURL: s.base + "/" + r.Type + "/" + r.ID,
			Resource: res, Request: req, Response: resp})
	}
	return b
}

package fhir

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// read serves GET /{type}/{id} (FHIR R4 http §3.1.0.2), and answers a
// conditional read (§3.1.0.2.1: If-None-Match, If-Modified-Since) of an
// unchanged resource 304 — only after the access check, so a 304 never
// tells a token about a resource it may not read.
func (s *Server) read(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error {
	found, err := s.visible(r.Context(), a, typ, id, interRead)
	if err != nil {
		return err
	}
	if notModified(r, found) {
		h := w.Header()
		if found.VersionID != "" {
			h.Set("ETag", `W/"`+found.VersionID+`"`)
		}
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	writeResource(w, found)
	return nil
}

// notModified reports whether r's conditions say the client holds res
// already: If-None-Match naming its version (or "*"), or else, without
// If-None-Match, If-Modified-Since at or after its last update (RFC 9110
// §13.1.2, §13.1.3).
func notModified(r *http.Request, res store.Resource) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" || res.VersionID != "" && tag == `"`+res.VersionID+`"` {
				return true
			}
		}
		return false
	}
	since, err := http.ParseTime(r.Header.Get("If-Modified-Since"))
	return err == nil && !res.LastUpdated.IsZero() && !res.LastUpdated.Truncate(time.Second).After(since)
}

// vread serves GET /{type}/{id}/_history/{vid} (FHIR R4 http §3.1.0.3).
// Only the current version is kept: any other vid is not found.
func (s *Server) vread(w http.ResponseWriter, r *http.Request, a Access, typ, id, vid string) error {
	found, err := s.visible(r.Context(), a, typ, id, interVRead)
	if err != nil {
		return err
	}
	if vid != found.VersionID {
		return notFound("resource version not found")
	}
	writeResource(w, found)
	return nil
}

// visible returns the resource typ/id if a may perform in on it. A
// resource the decision does not permit is answered exactly like a
// missing one (D-4).
func (s *Server) visible(ctx context.Context, a Access, typ, id string, in interaction) (store.Resource, error) {
	dec, err := s.defs.decide(a, typ, in, s.now())
	if err != nil {
		return store.Resource{}, err
	}
	if !validID(id) {
		return store.Resource{}, notFound("resource not found")
	}
	found, err := s.store.GetResource(ctx, typ, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && !dec.permits(found) {
		return store.Resource{}, notFound("resource not found")
	}
	return found, err
}

// writeResource answers one resource with its ETag and Last-Modified.
func writeResource(w http.ResponseWriter, r store.Resource) {
	h := w.Header()
	if r.VersionID != "" {
		h.Set("ETag", `W/"`+r.VersionID+`"`)
	}
	if !r.LastUpdated.IsZero() {
		h.Set("Last-Modified", r.LastUpdated.UTC().Format(http.TimeFormat))
	}
	fhirwire.WriteBody(w, http.StatusOK, r.JSON)
}

// historyInstance serves GET /{type}/{id}/_history (FHIR R4 http
// §3.1.0.11): a history Bundle holding the one version kept.
func (s *Server) historyInstance(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error {
	found, err := s.visible(r.Context(), a, typ, id, interHistoryInstance)
	if err != nil {
		return err
	}
	now := s.now()
	q := search{Count: 1, params: url.Values{}}
	fhirwire.WriteJSON(w, http.StatusOK, s.history(s.base+"/"+typ+"/"+id+"/_history", q, []store.Resource{found}, 1, now))
	return nil
}

// historyType serves GET /{type}/_history: the current version of every
// resource of typ the token may see, paged like a search. Only _count,
// _offset and _format are supported; others (_since, _at, ...) follow the
// lenient or strict handling of unsupported search parameters.
func (s *Server) historyType(w http.ResponseWriter, r *http.Request, a Access, typ string) error {
	params, err := searchParams(w, r)
	if err != nil {
		return err
	}
	now := s.now()
	dec, err := s.defs.decide(a, typ, interHistoryType, now)
	if err != nil {
		return err
	}
	var ignored []string
	for name := range params {
		if !isResultParam(name) {
			if strictHandling(r) {
				return unsupportedParam(name)
			}
			ignored = append(ignored, name)
			delete(params, name)
		}
	}
	q, err := s.defs.parseSearch(typ, params, true, now)
	if err != nil {
		return err
	}
	if err := bindPages(&q, a); err != nil {
		return err
	}
	sq := store.ResourceQuery{Type: typ, Count: q.Count, Offset: q.Offset}
	dec.restrict(&sq)
	rs, total, err := s.store.SearchResources(r.Context(), sq)
	if err != nil {
		return err
	}
	b := s.history(s.base+"/"+typ+"/_history", q, rs, total, now)
	b.addOutcome(false, ignored)
	fhirwire.WriteJSON(w, http.StatusOK, b)
	return nil
}

// history builds a history Bundle of the current versions rs.
func (s *Server) history(path string, q search, rs []store.Resource, total int, now time.Time) bundle {
	b := bundle{ResourceType: "Bundle", Type: "history", Total: total,
		Meta: bundleMeta{LastUpdated: now.UTC().Format(time.RFC3339)}}
	b.Link = pageLinks(path, q, total)
	for _, r := range rs {
		req := &entryRequest{Method: http.MethodPut, URL: r.Type + "/" + r.ID}
		if r.VersionID == "1" {
			req = &entryRequest{Method: http.MethodPost, URL: r.Type}
		}
		resp := &entryResponse{Status: "200 OK", Etag: `W/"` + r.VersionID + `"`}
		if !r.LastUpdated.IsZero() {
			resp.LastModified = r.LastUpdated.UTC().Format(time.RFC3339)
		}
		res := r.JSON
		if q.Elements != nil {
			res = subset(res, q.Elements)
		}
		b.Entry = append(b.Entry, bundleEntry{FullURL: s.base + "/" + r.Type + "/" + r.ID,
			Resource: res, Request: req, Response: resp})
	}
	return b
}

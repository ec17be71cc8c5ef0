package fhir

import (
	"context"
	"errors"
	"net/http"
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

package fhir

import (
	"errors"
	"net/http"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// read serves GET /{type}/{id} (FHIR R4 http §3.1.0.2). A resource outside
// what the caller may see is answered exactly like a missing one.
func (s *Server) read(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error {
	if !validID(id) {
		return notFound("resource not found")
	}
	res, err := s.grant(a, typ, smart.Read)
	if err != nil {
		return err
	}
	var found store.Resource
	if len(res.filters) == 0 {
		found, err = s.store.GetResource(r.Context(), typ, id)
		if errors.Is(err, store.ErrNotFound) || err == nil && !res.allowsPatients(found.Patients) {
			return notFound("resource not found")
		}
		if err != nil {
			return err
		}
	} else {
		q := store.ResourceQuery{Type: typ, Patient: res.patient, Count: 1,
			Filters: append(res.filters, store.Filter{Param: "_id", Any: []store.Match{{Value: id}}})}
		rs, _, err := s.store.SearchResources(r.Context(), q)
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			return notFound("resource not found")
		}
		found = rs[0]
	}
	h := w.Header()
	if found.VersionID != "" {
		h.Set("ETag", `W/"`+found.VersionID+`"`)
	}
	if !found.LastUpdated.IsZero() {
		h.Set("Last-Modified", found.LastUpdated.UTC().Format(http.TimeFormat))
	}
	writeBody(w, http.StatusOK, found.JSON)
	return nil
}

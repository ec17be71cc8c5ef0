package appstate

import (
	"crypto/rand"
	"net/http"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// create serves POST /Basic (R-STATE-13..17): it checks the new resource,
// assigns an id and version 1, stores it and answers 201 with ETag,
// Location and the stored resource.
func (h *Handler) create(w http.ResponseWriter, r *http.Request, c Caller) error {
	b, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	res, err := parseBasic(b)
	switch {
	case err != nil:
		return err
	case res.id != "":
		return invalid("a new resource must not have an id")
	case res.hasVersion:
		return invalid("a new resource must not have meta.versionId")
	}
	if err := h.checkSubject(res.subject); err != nil {
		return err
	}
	if err := h.authorize(r.Context(), c, smart.Create, res.code, res.subject, false); err != nil {
		return err
	}
	now := h.now().UTC().Truncate(time.Microsecond)
	st := store.AppState{
		// 26 base32 characters (130 bits): a valid FHIR id nobody guesses.
		ID:          rand.Text(),
		Version:     1,
		Code:        res.code,
		Subject:     res.subject,
		ClientID:    c.ClientID,
		LastUpdated: now,
	}
	if st.JSON, err = res.encode(st.ID, st.Version, now); err != nil {
		return err
	}
	if err := h.store.CreateAppState(r.Context(), st); err != nil {
		return err
	}
	w.Header().Set("Location", h.base+"/Basic/"+st.ID+"/_history/1")
	writeState(w, http.StatusCreated, st)
	return nil
}

// writeState answers a stored resource with its ETag and Last-Modified
// (R-STATE-17, R-STATE-21).
func writeState(w http.ResponseWriter, status int, st store.AppState) {
	w.Header().Set("ETag", etag(st.Version))
	w.Header().Set("Last-Modified", st.LastUpdated.UTC().Format(http.TimeFormat))
	fhirwire.WriteBody(w, status, st.JSON)
}

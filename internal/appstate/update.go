package appstate

import (
	"errors"
	"net/http"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// update serves PUT /Basic/{id} (R-STATE-18..21).
func (h *Handler) update(w http.ResponseWriter, r *http.Request, c Caller, id string) error {
	b, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	res, err := parseBasic(b)
	switch {
	case err != nil:
		return err
	case res.id != id:
		return invalid("the resource's id must equal the id in the URL")
	}
	if err := h.checkSubject(res.subject); err != nil {
		return err
	}
	stored, err := h.load(r, c, smart.Update, id)
	if err != nil {
		return err
	}
	if err := ifMatch(r, stored); err != nil {
		return err
	}
	if res.code != stored.Code || res.subject != stored.Subject {
		return preconditionFailed("subject and code cannot change")
	}
	now := h.now().UTC().Truncate(time.Microsecond)
	next := stored
	next.Version, next.LastUpdated = stored.Version+1, now
	if next.JSON, err = res.encode(id, next.Version, now); err != nil {
		return err
	}
	if err := h.store.UpdateAppState(r.Context(), next, stored.Version); err != nil {
		return casError(err)
	}
	writeState(w, http.StatusOK, next)
	return nil
}

// delete serves DELETE /Basic/{id} (R-STATE-22..25).
func (h *Handler) delete(w http.ResponseWriter, r *http.Request, c Caller, id string) error {
	stored, err := h.load(r, c, smart.Delete, id)
	if err != nil {
		return err
	}
	if err := ifMatch(r, stored); err != nil {
		return err
	}
	if err := h.store.DeleteAppState(r.Context(), id, stored.Version, h.now()); err != nil {
		return casError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// load returns the stored resource id for interaction p. An unknown id and
// one the caller may not use are both 404 (D-4); a deleted one the caller
// may use is 412 (R-STATE-24).
func (h *Handler) load(r *http.Request, c Caller, p smart.Permission, id string) (store.AppState, error) {
	st, err := h.store.GetAppState(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return st, notFound()
	} else if err != nil {
		return st, err
	}
	if err := h.authorize(r.Context(), c, p, st.Code, st.Subject, true); err != nil {
		return st, err
	}
	if !st.DeletedAt.IsZero() {
		return st, preconditionFailed("the resource was deleted")
	}
	return st, nil
}

// ifMatch requires an If-Match header naming the stored version
// (R-STATE-18, R-STATE-20, R-STATE-22, R-STATE-23). A missing one is 412,
// as FHIR R4 http says for servers requiring version-aware updates.
func ifMatch(r *http.Request, stored store.AppState) error {
	v, ok := parseIfMatch(r.Header.Get("If-Match"))
	switch {
	case !ok:
		return preconditionFailed(`If-Match with the ETag of the latest version, such as W/"1", is required`)
	case v != stored.Version:
		return preconditionFailed("If-Match does not name the latest version")
	}
	return nil
}

// casError maps a lost compare-and-set (a concurrent update or delete) to
// 412.
func casError(err error) error {
	switch {
	case errors.Is(err, store.ErrConflict):
		return preconditionFailed("the resource was changed or deleted meanwhile")
	case errors.Is(err, store.ErrNotFound):
		return notFound()
	}
	return err
}

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

// conditions are the preconditions of a write: If-Match (FHIR R4 http
// §3.1.0.4.2, a version ETag) and If-None-Exist (§3.1.0.8.1, a search
// query).
type conditions struct {
	ifMatch, ifNoneExist string
}

func conditionsOf(h http.Header) conditions {
	return conditions{ifMatch: h.Get("If-Match"), ifNoneExist: h.Get("If-None-Exist")}
}

// plan is a write decided and not yet applied: the change to store (nil
// when there is nothing to write, as for a conditional create that found
// its match), and the answer once it is stored.
type plan struct {
	change *store.Change
	status int
	// res is the version current after the write (JSON nil after a
	// deletion).
	res store.Resource
}

// commit applies one plan and answers it (FHIR R4 http §3.1.0.4 - 3.1.0.8):
// the resource with its Location, ETag and Last-Modified, or less as
// "Prefer: return=" asks. A change that lost a race with another writer
// is answered 409, or 412 when the request named the version it expected.
func (s *Server) commit(w http.ResponseWriter, r *http.Request, p plan) error {
	if p.change != nil {
		if err := s.store.WriteResources(r.Context(), []store.Change{*p.change}); err != nil {
			return writeConflict(err, r.Header.Get("If-Match") != "")
		}
	}
	return s.answer(w, r, p)
}

// answer writes the answer to a stored write.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, p plan) error {
	h := w.Header()
	if p.res.JSON == nil {
		w.WriteHeader(p.status)
		return nil
	}
	h.Set("Location", s.base+"/"+p.res.Type+"/"+p.res.ID+"/_history/"+p.res.VersionID)
	h.Set("ETag", `W/"`+p.res.VersionID+`"`)
	h.Set("Last-Modified", p.res.LastUpdated.UTC().Format(http.TimeFormat))
	switch preferReturn(r) {
	case "minimal":
		w.WriteHeader(p.status)
	case "OperationOutcome":
		fhirwire.WriteJSON(w, p.status, fhirwire.OperationOutcome{ResourceType: "OperationOutcome",
			Issue: []fhirwire.Issue{{Severity: "information", Code: "informational", Diagnostics: http.StatusText(p.status)}}})
	default:
		fhirwire.WriteBody(w, p.status, p.res.JSON)
	}
	return nil
}

// preferReturn is the "return" preference of the Prefer header (RFC 7240,
// FHIR R4 http §3.1.0.1.9).
func preferReturn(r *http.Request) string {
	for _, v := range r.Header.Values("Prefer") {
		for _, pref := range strings.Split(v, ",") {
			if val, ok := strings.CutPrefix(strings.TrimSpace(pref), "return="); ok {
				return strings.Trim(val, `"`)
			}
		}
	}
	return ""
}

// writeConflict turns a store conflict into 409, or 412 when the client
// named the version it expected; other errors pass.
func writeConflict(err error, versioned bool) error {
	if !errors.Is(err, store.ErrConflict) {
		return err
	}
	if versioned {
		return preconditionFailed("the resource has changed since the version named in If-Match")
	}
	return &apiError{Status: http.StatusConflict, Code: "conflict",
		Diagnostics: "the resource was changed by another request at the same time; retry", Cause: err}
}

func preconditionFailed(msg string) error {
	return &apiError{Status: http.StatusPreconditionFailed, Code: "conflict", Diagnostics: msg}
}

// create serves POST /{type} (FHIR R4 http §3.1.0.8), conditional when
// If-None-Exist is sent.
func (s *Server) create(w http.ResponseWriter, r *http.Request, a Access, typ string) error {
	body, err := readBody(w, r, resourceTypes...)
	if err != nil {
		return err
	}
	res, err := s.defs.parseResource(body, typ)
	if err != nil {
		return err
	}
	p, err := s.planCreate(r.Context(), a, typ, newID(), res, conditionsOf(r.Header))
	if err != nil {
		return err
	}
	return s.commit(w, r, p)
}

// planCreate decides the creation of res as typ/id. The new content must
// be something the token may create: a patient/ scope cannot create a
// resource outside its patient's compartment. With If-None-Exist,
// one match the token may search is answered instead (200), several are
// refused (412).
func (s *Server) planCreate(ctx context.Context, a Access, typ, id string, res map[string]any, c conditions) (plan, error) {
	now := s.now()
	dec, err := s.defs.decide(a, typ, interCreate, now)
	if err != nil {
		return plan{}, err
	}
	if c.ifNoneExist != "" {
		found, err := s.conditionalMatch(ctx, a, typ, strings.TrimPrefix(c.ifNoneExist, typ+"?"), now)
		if err != nil || found != nil {
			return plan{status: http.StatusOK, res: deref(found)}, err
		}
	}
	nr, err := s.defs.stamp(res, id, "1", now)
	if err != nil {
		return plan{}, err
	}
	if !dec.permits(nr) {
		return plan{}, forbidden("the token may not create this resource: it would be outside the granted scopes or the patient in context")
	}
	return plan{change: &store.Change{Resource: nr}, status: http.StatusCreated, res: nr}, nil
}

func deref(r *store.Resource) store.Resource {
	if r == nil {
		return store.Resource{}
	}
	return *r
}

// conditionalMatch runs the search of a conditional create or update
// (query, "param=value&..."): strictly (a parameter the server does not
// support is refused, never dropped, since dropping it would match more),
// confined to what the token may search. It returns the one match, nil
// for none, and 412 for several.
func (s *Server) conditionalMatch(ctx context.Context, a Access, typ, query string, now time.Time) (*store.Resource, error) {
	params, err := url.ParseQuery(query)
	if err != nil || len(params) == 0 {
		return nil, invalid("malformed conditional search")
	}
	dec, err := s.defs.decide(a, typ, interSearchType, now)
	if err != nil {
		return nil, forbidden("a conditional write needs a scope that allows searching this resource type")
	}
	q, err := s.defs.parseSearch(typ, params, true, now)
	if err != nil {
		return nil, err
	}
	if len(q.Include) > 0 || len(q.RevInclude) > 0 || len(q.Sort) > 0 {
		return nil, invalid("a conditional search takes search parameters only")
	}
	sq := store.ResourceQuery{Type: typ, Filters: q.Filters, ReferencedBy: q.Has, Count: 2}
	dec.restrict(&sq)
	if err := s.restrictNested(a, &sq, now); err != nil {
		return nil, err
	}
	rs, total, err := s.store.SearchResources(ctx, sq)
	switch {
	case err != nil:
		return nil, err
	case total > 1:
		return nil, preconditionFailed("the conditional search matches more than one resource")
	case total == 0:
		return nil, nil
	}
	found, err := s.store.GetResource(ctx, typ, rs[0].ID)
	return &found, err
}

// update serves PUT /{type}/{id} (FHIR R4 http §3.1.0.4), creating the
// resource when it does not exist (update as create), and PUT
// /{type}?search, the conditional update (§3.1.0.4.3).
func (s *Server) update(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error {
	body, err := readBody(w, r, resourceTypes...)
	if err != nil {
		return err
	}
	res, err := s.defs.parseResource(body, typ)
	if err != nil {
		return err
	}
	var p plan
	if id == "" {
		p, err = s.planConditionalUpdate(r.Context(), a, typ, r.URL.RawQuery, res, conditionsOf(r.Header))
	} else {
		p, err = s.planUpdate(r.Context(), a, typ, id, res, conditionsOf(r.Header))
	}
	if err != nil {
		return err
	}
	return s.commit(w, r, p)
}

// planConditionalUpdate decides PUT /{type}?query: no match the token may
// search creates (with the body's id, if any), one match is updated,
// several are refused (412).
func (s *Server) planConditionalUpdate(ctx context.Context, a Access, typ, query string, res map[string]any, c conditions) (plan, error) {
	found, err := s.conditionalMatch(ctx, a, typ, query, s.now())
	if err != nil {
		return plan{}, err
	}
	id, _ := res["id"].(string)
	switch {
	case found != nil && id != "" && id != found.ID:
		return plan{}, invalid("the resource id differs from the one the conditional search found")
	case found != nil:
		id = found.ID
		res["id"] = id
	case id == "":
		return s.planCreate(ctx, a, typ, newID(), res, conditions{})
	}
	return s.planUpdate(ctx, a, typ, id, res, c)
}

// planUpdate decides the replacement of typ/id by res. Both the stored
// version and the new content must be something the token may update:
// an update can move nothing into or out of the patient's compartment
// . A stored resource the token may not update is refused with
// 403 (it cannot be created over either). If-Match must name the current
// version (412 otherwise).
func (s *Server) planUpdate(ctx context.Context, a Access, typ, id string, res map[string]any, c conditions) (plan, error) {
	if bodyID, _ := res["id"].(string); bodyID != id {
		return plan{}, invalid("the resource id must equal the id in the URL")
	}
	now := s.now()
	dec, err := s.defs.decide(a, typ, interUpdate, now)
	if err != nil {
		return plan{}, err
	}
	cur, vid, err := s.currentForWrite(ctx, dec, typ, id, c, true)
	if err != nil {
		return plan{}, err
	}
	base := cur.VersionID
	nr, err := s.defs.stamp(res, id, vid, now)
	if err != nil {
		return plan{}, err
	}
	if !dec.permits(nr) {
		return plan{}, forbidden("the token may not update this resource: the new content would be outside the granted scopes or the patient in context")
	}
	status := http.StatusOK
	if base == "" {
		status = http.StatusCreated
	}
	return plan{change: &store.Change{Resource: nr, Base: base}, status: status, res: nr}, nil
}

// currentForWrite returns the current version of typ/id a write is based
// on (zero when there is none and create is set) and the version id the
// write gets. The stored version must be permitted by dec; If-Match must
// name it.
func (s *Server) currentForWrite(ctx context.Context, dec decision, typ, id string, c conditions, create bool) (store.Resource, string, error) {
	cur, err := s.store.GetResource(ctx, typ, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if !create {
			return store.Resource{}, "", notFound("resource not found")
		}
		if c.ifMatch != "" {
			return store.Resource{}, "", preconditionFailed("If-Match names a version of a resource that does not exist")
		}
		old, err := s.store.ResourceHistory(ctx, store.HistoryQuery{Type: typ, ID: id})
		if err != nil || len(old) == 0 {
			return store.Resource{}, "1", err
		}
		return store.Resource{}, nextVersion(old[0].VersionID), nil
	case err != nil:
		return store.Resource{}, "", err
	case !dec.permits(cur) && create:
		return store.Resource{}, "", forbidden("the token may not update this resource")
	case !dec.permits(cur):
		return store.Resource{}, "", notFound("resource not found")
	case c.ifMatch != "" && etagVersion(c.ifMatch) != cur.VersionID:
		return store.Resource{}, "", preconditionFailed("If-Match does not name the current version")
	}
	return cur, nextVersion(cur.VersionID), nil
}

// existing decides in on the stored resource typ/id, which must exist
// and be permitted (404 otherwise, D-4), and returns the decision, the
// stored version and the version id the write gets.
func (s *Server) existing(ctx context.Context, a Access, typ, id string, in interaction, c conditions, now time.Time) (decision, store.Resource, string, error) {
	dec, err := s.defs.decide(a, typ, in, now)
	if err != nil {
		return decision{}, store.Resource{}, "", err
	}
	if !validID(id) {
		return decision{}, store.Resource{}, "", notFound("resource not found")
	}
	cur, vid, err := s.currentForWrite(ctx, dec, typ, id, c, false)
	return dec, cur, vid, err
}

// etagVersion is the version id in an ETag: W/"3" or "3".
func etagVersion(tag string) string {
	return strings.Trim(strings.TrimPrefix(strings.TrimSpace(tag), "W/"), `"`)
}

// patchTypes are the media types of a patch body; only JSON Patch (RFC
// 6902) is supported.
var patchTypes = []string{"application/json-patch+json"}

// patch serves PATCH /{type}/{id} with a JSON Patch (FHIR R4 http
// §3.1.0.5).
func (s *Server) patch(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error {
	body, err := readBody(w, r, patchTypes...)
	if err != nil {
		return err
	}
	p, err := s.planPatch(r.Context(), a, typ, id, body, conditionsOf(r.Header))
	if err != nil {
		return err
	}
	return s.commit(w, r, p)
}

// planPatch decides a JSON Patch of typ/id: the patched resource must
// still be a valid resource of typ with the same id, and both versions
// must be something the token may update. A resource the token may
// not update is answered as missing.
func (s *Server) planPatch(ctx context.Context, a Access, typ, id string, patchDoc []byte, c conditions) (plan, error) {
	now := s.now()
	dec, cur, vid, err := s.existing(ctx, a, typ, id, interUpdate, c, now)
	if err != nil {
		return plan{}, err
	}
	patched, err := applyPatch(cur.JSON, patchDoc)
	if err != nil {
		return plan{}, err
	}
	res, err := s.defs.parseResource(patched, typ)
	if err != nil {
		return plan{}, &apiError{Status: http.StatusUnprocessableEntity, Code: "processing",
			Diagnostics: "the patched resource is not valid", Cause: err}
	}
	if patchedID, _ := res["id"].(string); patchedID != id {
		return plan{}, &apiError{Status: http.StatusUnprocessableEntity, Code: "processing", Diagnostics: "a patch cannot change the id"}
	}
	nr, err := s.defs.stamp(res, id, vid, now)
	if err != nil {
		return plan{}, err
	}
	if !dec.permits(nr) {
		return plan{}, forbidden("the token may not update this resource: the patched content would be outside the granted scopes or the patient in context")
	}
	return plan{change: &store.Change{Resource: nr, Base: cur.VersionID}, status: http.StatusOK, res: nr}, nil
}

// remove serves DELETE /{type}/{id} (FHIR R4 http §3.1.0.7). A resource
// that does not exist, or that the token may not delete, is answered 404
// alike (D-4); If-Match, when sent, must name the current version.
func (s *Server) remove(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error {
	p, err := s.planDelete(r.Context(), a, typ, id, conditionsOf(r.Header))
	if err != nil {
		return err
	}
	return s.commit(w, r, p)
}

func (s *Server) planDelete(ctx context.Context, a Access, typ, id string, c conditions) (plan, error) {
	now := s.now()
	_, cur, vid, err := s.existing(ctx, a, typ, id, interDelete, c, now)
	if err != nil {
		return plan{}, err
	}
	del := store.Resource{Type: typ, ID: id, VersionID: vid, LastUpdated: now.UTC().Truncate(time.Millisecond)}
	return plan{change: &store.Change{Resource: del, Delete: true, Base: cur.VersionID}, status: http.StatusNoContent, res: del}, nil
}

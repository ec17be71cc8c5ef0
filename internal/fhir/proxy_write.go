package fhir

import (
	"errors"
	"io"
	"net/http"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/smartlaunch/smartlaunch/internal/fhir/upstream"
	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// proxyCreate serves POST /{type} through the upstream: the new content
// must be something the token may create, exactly as in embedded
// mode. A conditional create is sent on only for a token that may search
// every resource of the type, since the upstream searches everything it
// holds.
func (s *Server) proxyCreate(w http.ResponseWriter, r *http.Request, a Access, typ string) error {
	body, err := readBody(w, r, resourceTypes...)
	if err != nil {
		return err
	}
	res, err := s.defs.parseResource(body, typ)
	if err != nil {
		return err
	}
	now := s.now()
	dec, err := s.defs.decide(a, typ, interCreate, now)
	if err != nil {
		return err
	}
	if r.Header.Get("If-None-Exist") != "" {
		if sd, err := s.defs.decide(a, typ, interSearchType, now); err != nil || !sd.all {
			return forbidden("in proxy mode, a conditional create needs a scope that allows searching every resource of the type")
		}
	}
	delete(res, "id")
	nr, err := s.defs.stamp(res, newID(), "1", now)
	if err != nil {
		return err
	}
	if !dec.permits(nr) {
		return forbidden("the token may not create this resource: it would be outside the granted scopes or the patient in context")
	}
	return s.forward(w, r, http.MethodPost, typ, body, "")
}

// proxyUpdate serves PUT (or, with patch, a JSON Patch) of typ/id through
// the upstream, under the rules of embedded mode: the stored
// version, fetched first, and the new content must both be something the
// token may update, and If-Match must name the stored version. The write
// is sent with If-Match naming the version the decision was made on, so a
// versioning upstream refuses it if the resource changed in between. A
// patch is applied here and sent as an update.
func (s *Server) proxyUpdate(w http.ResponseWriter, r *http.Request, a Access, typ, id string, patch bool) error {
	types := resourceTypes
	if patch {
		types = patchTypes
	}
	body, err := readBody(w, r, types...)
	if err != nil {
		return err
	}
	now := s.now()
	dec, err := s.defs.decide(a, typ, interUpdate, now)
	if err != nil {
		return err
	}
	if !validID(id) {
		return notFound("resource not found")
	}
	cur, err := s.fetchResource(r.Context(), dec, typ, id, "")
	switch {
	case errors.As(err, new(*apiError)) && err.(*apiError).Status == http.StatusNotFound && !patch:
		cur = store.Resource{}
	case err != nil:
		return err
	case !dec.permits(cur) && patch:
		return notFound("resource not found")
	case !dec.permits(cur):
		return forbidden("the token may not update this resource")
	}
	if im := r.Header.Get("If-Match"); im != "" && etagVersion(im) != cur.VersionID {
		return preconditionFailed("If-Match does not name the current version")
	}
	if patch {
		if body, err = applyPatch(cur.JSON, body); err != nil {
			return err
		}
	}
	res, err := s.defs.parseResource(body, typ)
	switch {
	case err != nil && patch:
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "processing",
			Diagnostics: "the patched resource is not valid", Cause: err}
	case err != nil:
		return err
	}
	if bodyID, _ := res["id"].(string); bodyID != id && patch {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "processing", Diagnostics: "a patch cannot change the id"}
	} else if bodyID != id {
		return invalid("the resource id must equal the id in the URL")
	}
	nr, err := s.defs.stamp(res, id, nextVersion(cur.VersionID), now)
	if err != nil {
		return err
	}
	if !dec.permits(nr) {
		return forbidden("the token may not update this resource: the new content would be outside the granted scopes or the patient in context")
	}
	return s.forward(w, r, http.MethodPut, typ+"/"+id, upstream.RewriteURLs(body, s.base, s.proxy.up.Base()), cur.VersionID)
}

// applyPatch applies a JSON Patch document to a resource.
func applyPatch(doc, patchDoc []byte) ([]byte, error) {
	ops, err := jsonpatch.DecodePatch(patchDoc)
	if err != nil {
		return nil, invalid("the body is not a JSON Patch document")
	}
	opts := jsonpatch.NewApplyOptions()
	opts.SupportNegativeIndices = false
	opts.AccumulatedCopySizeLimit = maxResourceBody
	out, err := ops.ApplyWithOptions(doc, opts)
	if err != nil {
		return nil, &apiError{Status: http.StatusUnprocessableEntity, Code: "processing",
			Diagnostics: "the JSON Patch cannot be applied to the resource", Cause: err}
	}
	return out, nil
}

// proxyDelete serves DELETE of typ/id through the upstream: a resource
// the token may not delete is answered as missing (D-4); the delete is
// sent with If-Match naming the version judged.
func (s *Server) proxyDelete(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error {
	dec, err := s.defs.decide(a, typ, interDelete, s.now())
	if err != nil {
		return err
	}
	if !validID(id) {
		return notFound("resource not found")
	}
	cur, err := s.fetchResource(r.Context(), dec, typ, id, "")
	if err != nil {
		return err
	}
	if !dec.permits(cur) {
		return notFound("resource not found")
	}
	if im := r.Header.Get("If-Match"); im != "" && etagVersion(im) != cur.VersionID {
		return preconditionFailed("If-Match does not name the current version")
	}
	return s.forward(w, r, http.MethodDelete, typ+"/"+id, nil, cur.VersionID)
}

// forward sends a write to the upstream, with If-Match naming version
// when set, and relays the answer with its URLs on this server's base.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, method, ref string, body []byte, version string) error {
	h := http.Header{}
	for _, name := range []string{"Prefer", "If-None-Exist"} {
		if v := r.Header.Get(name); v != "" {
			h.Set(name, v)
		}
	}
	if body != nil {
		h.Set("Content-Type", contentType)
	}
	if version != "" {
		h.Set("If-Match", `W/"`+version+`"`)
	}
	resp, err := s.proxy.up.Do(r.Context(), method, ref, h, body)
	if err != nil {
		return upstreamError(err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPreconditionFailed || resp.StatusCode == http.StatusConflict:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return writeConflict(store.ErrConflict, r.Header.Get("If-Match") != "")
	case resp.StatusCode >= 300:
		return upstreamStatus(resp)
	}
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return upstreamError(err)
	}
	for _, name := range []string{"Location", "Content-Location", "ETag", "Last-Modified"} {
		if v := resp.Header.Get(name); v != "" {
			w.Header().Set(name, s.localURL(v))
		}
	}
	if len(out) == 0 {
		w.WriteHeader(resp.StatusCode)
		return nil
	}
	fhirwire.WriteBody(w, resp.StatusCode, upstream.RewriteURLs(out, s.proxy.up.Base(), s.base))
	return nil
}

// localURL turns an absolute URL under the upstream base into the same
// URL under this server's base; other values are returned as they are.
func (s *Server) localURL(u string) string {
	if rest, ok := strings.CutPrefix(u, s.proxy.up.Base()); ok && (rest == "" || rest[0] == '/' || rest[0] == '?') {
		return s.base + rest
	}
	return u
}

// proxyConditionalUpdate serves PUT /{type}?search through the upstream,
// which searches everything it holds: only for a token that may search,
// and update, every resource of the type.
func (s *Server) proxyConditionalUpdate(w http.ResponseWriter, r *http.Request, a Access, typ string) error {
	body, err := readBody(w, r, resourceTypes...)
	if err != nil {
		return err
	}
	if _, err := s.defs.parseResource(body, typ); err != nil {
		return err
	}
	now := s.now()
	for _, in := range []interaction{interSearchType, interUpdate, interCreate} {
		if dec, err := s.defs.decide(a, typ, in, now); err != nil || !dec.all {
			return forbidden("in proxy mode, a conditional update needs scopes that allow searching, creating and updating every resource of the type")
		}
	}
	if r.URL.RawQuery == "" {
		return invalid("a conditional update needs a search")
	}
	return s.forward(w, r, http.MethodPut, typ+"?"+r.URL.RawQuery, upstream.RewriteURLs(body, s.base, s.proxy.up.Base()), "")
}

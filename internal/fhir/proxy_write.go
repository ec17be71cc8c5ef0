package fhir

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/smartlaunch/smartlaunch/internal/fhir/upstream"
	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// upstreamWrite is a write decided under the rules of embedded mode and
// ready to send to the upstream, alone or as a transaction entry.
type upstreamWrite struct {
	method, ref string
	// body is the resource to send, with this server's URLs turned into
	// the upstream's.
	body []byte
	// ifMatch is the version the decision was made on ("" for none), so
	// that a versioning upstream refuses the write if the resource
	// changed in between.
	ifMatch     string
	ifNoneExist string
}

// parseWithRefs decodes and checks a resource of typ, first replacing
// references to other entries of a transaction (refs: fullUrl to
// "Type/id") so that they are judged as the resources they will be.
func (d *definitions) parseWithRefs(body []byte, typ string, refs map[string]string) (map[string]any, error) {
	res, err := decodeObject(body)
	if err != nil {
		return nil, invalid("the body is not a JSON object")
	}
	rewriteRefs(res, refs)
	if err := d.checkResource(res, typ); err != nil {
		return nil, err
	}
	return res, nil
}

// checkCreate decides a create: the new content must be something the
// token may create. A conditional create is allowed only to a
// token that may search every resource of the type, since the upstream
// searches everything it holds.
func (s *Server) checkCreate(a Access, typ string, body []byte, ifNoneExist string, refs map[string]string) (upstreamWrite, error) {
	res, err := s.defs.parseWithRefs(body, typ, refs)
	if err != nil {
		return upstreamWrite{}, err
	}
	now := s.now()
	dec, err := s.defs.decide(a, typ, interCreate, now)
	if err != nil {
		return upstreamWrite{}, err
	}
	if ifNoneExist != "" {
		if sd, err := s.defs.decide(a, typ, interSearchType, now); err != nil || !sd.all {
			return upstreamWrite{}, forbidden("in proxy mode, a conditional create needs a scope that allows searching every resource of the type")
		}
	}
	delete(res, "id")
	nr, err := s.defs.stamp(res, newID(), "1", now)
	if err != nil {
		return upstreamWrite{}, err
	}
	if !dec.permits(nr) {
		return upstreamWrite{}, forbidden("the token may not create this resource: it would be outside the granted scopes or the patient in context")
	}
	return upstreamWrite{method: http.MethodPost, ref: typ, body: s.upstreamURLs(body), ifNoneExist: ifNoneExist}, nil
}

// checkUpdate decides an update (or, with patch, a JSON Patch, applied
// here and sent as an update) of typ/id: the stored version, fetched
// first, and the new content must both be something the token may update
// and ifMatch, when set, must name the stored version. A resource
// a patch may not update is answered as missing.
func (s *Server) checkUpdate(ctx context.Context, a Access, typ, id string, body []byte, patch bool, ifMatch string, refs map[string]string) (upstreamWrite, error) {
	now := s.now()
	dec, err := s.defs.decide(a, typ, interUpdate, now)
	if err != nil {
		return upstreamWrite{}, err
	}
	if !validID(id) {
		return upstreamWrite{}, notFound("resource not found")
	}
	cur, err := s.fetchResource(ctx, dec, typ, id, "")
	var missing *apiError
	switch {
	case errors.As(err, &missing) && missing.Status == http.StatusNotFound && !patch:
		cur = store.Resource{}
	case err != nil:
		return upstreamWrite{}, err
	case !dec.permits(cur) && patch:
		return upstreamWrite{}, notFound("resource not found")
	case !dec.permits(cur):
		return upstreamWrite{}, forbidden("the token may not update this resource")
	}
	if ifMatch != "" && etagVersion(ifMatch) != cur.VersionID {
		return upstreamWrite{}, preconditionFailed("If-Match does not name the current version")
	}
	if patch {
		if body, err = applyPatch(cur.JSON, body); err != nil {
			return upstreamWrite{}, err
		}
	}
	res, err := s.defs.parseWithRefs(body, typ, refs)
	switch {
	case err != nil && patch:
		return upstreamWrite{}, &apiError{Status: http.StatusUnprocessableEntity, Code: "processing",
			Diagnostics: "the patched resource is not valid", Cause: err}
	case err != nil:
		return upstreamWrite{}, err
	}
	if bodyID, _ := res["id"].(string); bodyID != id && patch {
		return upstreamWrite{}, &apiError{Status: http.StatusUnprocessableEntity, Code: "processing", Diagnostics: "a patch cannot change the id"}
	} else if bodyID != id {
		return upstreamWrite{}, invalid("the resource id must equal the id in the URL")
	}
	nr, err := s.defs.stamp(res, id, nextVersion(cur.VersionID), now)
	if err != nil {
		return upstreamWrite{}, err
	}
	if !dec.permits(nr) {
		return upstreamWrite{}, forbidden("the token may not update this resource: the new content would be outside the granted scopes or the patient in context")
	}
	return upstreamWrite{method: http.MethodPut, ref: typ + "/" + id, body: s.upstreamURLs(body), ifMatch: cur.VersionID}, nil
}

// checkConditionalUpdate decides PUT /{type}?query, which the upstream
// evaluates over everything it holds: only for a token that may search,
// create and update every resource of the type.
func (s *Server) checkConditionalUpdate(a Access, typ, query string, body []byte) (upstreamWrite, error) {
	if _, err := s.defs.parseResource(body, typ); err != nil {
		return upstreamWrite{}, err
	}
	now := s.now()
	for _, in := range []interaction{interSearchType, interUpdate, interCreate} {
		if dec, err := s.defs.decide(a, typ, in, now); err != nil || !dec.all {
			return upstreamWrite{}, forbidden("in proxy mode, a conditional update needs scopes that allow searching, creating and updating every resource of the type")
		}
	}
	if query == "" {
		return upstreamWrite{}, invalid("a conditional update needs a search")
	}
	return upstreamWrite{method: http.MethodPut, ref: typ + "?" + query, body: s.upstreamURLs(body)}, nil
}

// checkDelete decides a delete: a resource the token may not delete is
// answered as missing (D-4).
func (s *Server) checkDelete(ctx context.Context, a Access, typ, id, ifMatch string) (upstreamWrite, error) {
	dec, err := s.defs.decide(a, typ, interDelete, s.now())
	if err != nil {
		return upstreamWrite{}, err
	}
	if !validID(id) {
		return upstreamWrite{}, notFound("resource not found")
	}
	cur, err := s.fetchResource(ctx, dec, typ, id, "")
	if err != nil {
		return upstreamWrite{}, err
	}
	if !dec.permits(cur) {
		return upstreamWrite{}, notFound("resource not found")
	}
	if ifMatch != "" && etagVersion(ifMatch) != cur.VersionID {
		return upstreamWrite{}, preconditionFailed("If-Match does not name the current version")
	}
	return upstreamWrite{method: http.MethodDelete, ref: typ + "/" + id, ifMatch: cur.VersionID}, nil
}

// proxyCreate serves POST /{type} through the upstream (checkCreate).
func (s *Server) proxyCreate(w http.ResponseWriter, r *http.Request, a Access, typ string) error {
	body, err := readBody(w, r, resourceTypes...)
	if err != nil {
		return err
	}
	uw, err := s.checkCreate(a, typ, body, r.Header.Get("If-None-Exist"), nil)
	if err != nil {
		return err
	}
	return s.forward(w, r, uw)
}

// proxyUpdate serves PUT (or, with patch, PATCH) of typ/id through the
// upstream (checkUpdate).
func (s *Server) proxyUpdate(w http.ResponseWriter, r *http.Request, a Access, typ, id string, patch bool) error {
	types := resourceTypes
	if patch {
		types = patchTypes
	}
	body, err := readBody(w, r, types...)
	if err != nil {
		return err
	}
	uw, err := s.checkUpdate(r.Context(), a, typ, id, body, patch, r.Header.Get("If-Match"), nil)
	if err != nil {
		return err
	}
	return s.forward(w, r, uw)
}

// proxyConditionalUpdate serves PUT /{type}?search through the upstream
// (checkConditionalUpdate).
func (s *Server) proxyConditionalUpdate(w http.ResponseWriter, r *http.Request, a Access, typ string) error {
	body, err := readBody(w, r, resourceTypes...)
	if err != nil {
		return err
	}
	uw, err := s.checkConditionalUpdate(a, typ, r.URL.RawQuery, body)
	if err != nil {
		return err
	}
	return s.forward(w, r, uw)
}

// proxyDelete serves DELETE of typ/id through the upstream (checkDelete).
func (s *Server) proxyDelete(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error {
	uw, err := s.checkDelete(r.Context(), a, typ, id, r.Header.Get("If-Match"))
	if err != nil {
		return err
	}
	return s.forward(w, r, uw)
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

// forward sends a decided write to the upstream and relays the answer
// with its URLs on this server's base. A conflict the upstream reports
// (the resource changed after it was judged) is 409, or 412 when the
// client named the version it expected.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, uw upstreamWrite) error {
	h := http.Header{}
	if v := r.Header.Get("Prefer"); v != "" {
		h.Set("Prefer", v)
	}
	if uw.ifNoneExist != "" {
		h.Set("If-None-Exist", uw.ifNoneExist)
	}
	if uw.body != nil {
		h.Set("Content-Type", contentType)
	}
	if uw.ifMatch != "" {
		h.Set("If-Match", `W/"`+uw.ifMatch+`"`)
	}
	resp, err := s.proxy.up.Do(r.Context(), uw.method, uw.ref, h, uw.body)
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

// upstreamURLs turns this server's absolute URLs in a resource into the
// upstream's.
func (s *Server) upstreamURLs(body []byte) []byte {
	return upstream.RewriteURLs(body, s.base, s.proxy.up.Base())
}

// localURL turns an absolute URL under the upstream base into the same
// URL under this server's base; other values are returned as they are.
func (s *Server) localURL(u string) string {
	if rest, ok := strings.CutPrefix(u, s.proxy.up.Base()); ok && (rest == "" || rest[0] == '/' || rest[0] == '?') {
		return s.base + rest
	}
	return u
}

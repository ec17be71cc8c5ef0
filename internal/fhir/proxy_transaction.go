package fhir

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// proxyTransaction serves a transaction Bundle in proxy mode: every entry
// is decided as if sent alone, under the rules of embedded mode,
// each update and delete is made conditional on the version judged
// (If-Match), a patch is applied here and sent as an update, and the
// Bundle goes on to the upstream, which applies it atomically — all or
// nothing. References to other entries' fullUrl are judged as the
// resources they will be, and left for the upstream to resolve. Reads are
// refused in a proxied transaction (its answer could not be judged entry
// by entry before the writes are made): send them in a batch.
func (s *Server) proxyTransaction(w http.ResponseWriter, r *http.Request, a Access, entries []inEntry) error {
	refs := map[string]string{}
	for _, e := range entries {
		if e.Request.Method == http.MethodPost && e.FullURL != "" {
			parts, _ := s.entryURL(e)
			refs[e.FullURL] = parts[0] + "/" + newID()
		}
	}
	out := make([]map[string]any, len(entries))
	touched := map[string]bool{}
	for i, e := range entries {
		uw, err := s.checkEntry(r.Context(), a, e, refs)
		if err != nil {
			return entryError(i, err)
		}
		if uw.method != http.MethodPost && !strings.Contains(uw.ref, "?") {
			if touched[uw.ref] {
				return entryError(i, invalid("a transaction may change a resource only once"))
			}
			touched[uw.ref] = true
		}
		req := map[string]any{"method": uw.method, "url": uw.ref}
		if uw.ifMatch != "" {
			req["ifMatch"] = `W/"` + uw.ifMatch + `"`
		}
		if uw.ifNoneExist != "" {
			req["ifNoneExist"] = uw.ifNoneExist
		}
		entry := map[string]any{"request": req}
		if e.FullURL != "" {
			entry["fullUrl"] = e.FullURL
		}
		if uw.body != nil {
			entry["resource"] = json.RawMessage(uw.body)
		}
		out[i] = entry
	}
	body, err := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": out})
	if err != nil {
		return err
	}
	return s.forward(w, r, upstreamWrite{method: http.MethodPost, ref: "", body: body})
}

// checkEntry decides one entry of a proxied transaction.
func (s *Server) checkEntry(ctx context.Context, a Access, e inEntry, refs map[string]string) (upstreamWrite, error) {
	parts, query := s.entryURL(e)
	m := e.Request.Method
	switch {
	case m == http.MethodGet:
		return upstreamWrite{}, &apiError{Status: http.StatusBadRequest, Code: "not-supported",
			Diagnostics: "reads are not supported in a transaction in proxy mode: send them in a batch"}
	case !s.defs.known(parts[0]) || slices.ContainsFunc(parts, func(p string) bool { return strings.HasPrefix(p, "$") }):
		return upstreamWrite{}, notFound("unknown resource type")
	}
	typ := parts[0]
	switch {
	case m == http.MethodPost && len(parts) == 1 && query == "":
		return s.checkCreate(a, typ, e.Resource, e.Request.IfNoneExist, refs)
	case m == http.MethodPut && len(parts) == 1 && query != "":
		return s.checkConditionalUpdate(a, typ, query, e.Resource)
	case m == http.MethodPut && len(parts) == 2 && query == "":
		return s.checkUpdate(ctx, a, typ, parts[1], e.Resource, false, e.Request.IfMatch, refs)
	case m == http.MethodPatch && len(parts) == 2 && query == "":
		patch, ctype, err := patchOf(e)
		if err != nil {
			return upstreamWrite{}, err
		}
		if !slices.Contains(patchTypes, ctype) {
			return upstreamWrite{}, &apiError{Status: http.StatusUnsupportedMediaType, Code: "not-supported",
				Diagnostics: "the body must be " + strings.Join(patchTypes, " or ")}
		}
		return s.checkUpdate(ctx, a, typ, parts[1], patch, true, e.Request.IfMatch, refs)
	case m == http.MethodDelete && len(parts) == 2 && query == "":
		return s.checkDelete(ctx, a, typ, parts[1], e.Request.IfMatch)
	}
	return upstreamWrite{}, invalid("request.url does not fit request.method")
}

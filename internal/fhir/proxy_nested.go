package fhir

import (
	"context"
	"encoding/json"
	"io"
	stdmaps "maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// maxResolved bounds the resources one chained parameter or _has may
// resolve to in proxy mode.
const maxResolved = 200

// resolveNested rewrites the chained parameters and _has of a proxied
// search (FHIR R4 search §3.1.1.4.9, §3.1.1.4.10) into plain ones, so
// that the upstream, which evaluates them over everything it holds, never
// looks at a resource the token could not read: each is evaluated here,
// by a search of the type it refers to confined exactly to what the
// token may read, and replaced by the references or ids it found — the
// same confinement as embedded mode. empty reports that one found
// nothing, so that the search matches nothing.
func (s *Server) resolveNested(ctx context.Context, a Access, typ string, params url.Values, now time.Time) (empty bool, err error) {
	for _, name := range slices.Sorted(stdmaps.Keys(params)) {
		var found []string
		for _, v := range params[name] {
			switch {
			case strings.HasPrefix(name, "_has:"):
				found, err = s.resolveHas(ctx, a, typ, name, v, now)
			case strings.Contains(name, "."):
				found, err = s.resolveChain(ctx, a, typ, name, v, now)
			default:
				continue
			}
			if err != nil || len(found) == 0 {
				return err == nil, err
			}
			key := "_id"
			if !strings.HasPrefix(name, "_has:") {
				key, _, _ = strings.Cut(strings.SplitN(name, ".", 2)[0], ":")
			}
			params.Add(key, strings.Join(found, ","))
		}
		if found != nil {
			delete(params, name)
		}
	}
	return false, nil
}

// resolveChain evaluates ref[:Type].param=value: the references
// "Type/id" to the resources of the target types, readable by the token,
// that match param=value.
func (s *Server) resolveChain(ctx context.Context, a Access, typ, name, value string, now time.Time) ([]string, error) {
	head, param, _ := strings.Cut(name, ".")
	ref, only, _ := strings.Cut(head, ":")
	sp, _ := s.defs.param(typ, ref)
	targets := sp.Targets
	if only != "" {
		targets = []string{only}
	}
	var out []string
	readable := false
	for _, t := range targets {
		rs, err := s.readableMatches(ctx, a, t, url.Values{param: {value}}, now)
		if err == errUnreadable {
			continue
		}
		if err != nil {
			return nil, err
		}
		readable = true
		for _, r := range rs {
			out = append(out, r.Type+"/"+r.ID)
		}
	}
	if !readable {
		return nil, forbidden("no granted scope allows reading the resources a chained parameter refers to")
	}
	return out, nil
}

// resolveHas evaluates _has:Source:ref:param=value: the ids of the
// resources of typ that a resource of Source, readable by the token and
// matching param=value, references through ref.
func (s *Server) resolveHas(ctx context.Context, a Access, typ, name, value string, now time.Time) ([]string, error) {
	parts := strings.Split(name, ":")
	if len(parts) != 4 {
		return nil, invalid("malformed _has parameter")
	}
	rs, err := s.readableMatches(ctx, a, parts[1], url.Values{parts[3]: {value}}, now)
	if err == errUnreadable {
		return nil, forbidden("no granted scope allows reading the resources a _has parameter refers to")
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range rs {
		for _, e := range r.Index {
			if id, ok := strings.CutPrefix(e.Value, typ+"/"); ok && e.Param == parts[2] && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// errUnreadable reports a type the token may not read at all.
var errUnreadable = forbidden("no granted scope allows reading this type")

// readableMatches searches the upstream for the resources of typ that
// match query and that the token may read, confined exactly to them (the
// search is refused when the scopes cannot be expressed as one upstream
// search), and checks each again. More than maxResolved is refused.
func (s *Server) readableMatches(ctx context.Context, a Access, typ string, query url.Values, now time.Time) ([]store.Resource, error) {
	dec, err := s.defs.decide(a, typ, interRead, now)
	if err != nil {
		return nil, errUnreadable
	}
	nw := s.defs.narrow(a, typ, interRead, now)
	if !nw.exact {
		return nil, forbidden("in proxy mode, a chained parameter or _has cannot be confined to what these scopes allow reading")
	}
	nw.addTo(query)
	query.Set("_count", strconv.Itoa(maxResolved+1))
	resp, err := s.proxy.up.Do(ctx, http.MethodGet, nw.path(typ)+"?"+query.Encode(), nil, nil)
	if err != nil {
		return nil, upstreamError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, upstreamStatus(resp)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, upstreamError(err)
	}
	var b struct {
		Entry []struct {
			Resource json.RawMessage
			Search   struct{ Mode string }
		}
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, upstreamError(err)
	}
	var out []store.Resource
	for _, e := range b.Entry {
		if e.Search.Mode != "" && e.Search.Mode != "match" {
			continue
		}
		r, err := s.indexRaw(e.Resource)
		if err == nil && r.Type == typ && dec.permits(r) {
			out = append(out, r)
		}
	}
	if len(out) > maxResolved {
		return nil, &apiError{Status: http.StatusBadRequest, Code: "too-costly",
			Diagnostics: "a chained parameter or _has matches too many resources in proxy mode; narrow it"}
	}
	return out, nil
}

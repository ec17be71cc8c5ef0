package fhir

import (
	"cmp"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// searchSystem serves GET /?params and POST /_search (FHIR R4 search
// §3.1.1, "system" level). _type lists the types searched; each must be
// one the token may search, or the request is refused (D-4). Without _type
// every type the token may search is searched. Only parameters every
// searched type supports apply; _include, _revinclude, chains and _has are
// not supported at this level. Matches are ordered by type, then id.
func (s *Server) searchSystem(w http.ResponseWriter, r *http.Request, a Access) error {
	params, err := searchParams(w, r)
	if err != nil {
		return err
	}
	q, page, total, err := s.systemMatches(r, a, params, interSearchSystem)
	if err != nil {
		return err
	}
	b := s.searchset(s.base, q, page, total, s.now())
	b.addOutcome(false, q.ignored)
	fhirwire.WriteJSON(w, http.StatusOK, b)
	return nil
}

// historySystem serves GET /_history (FHIR R4 http §3.1.0.11, system
// level): the versions, current and former, of every resource the token
// may search, of the types in _type or of all, newest first (A-91: system
// history needs s, sees only what a search would, and judges every
// version on its own content). Parameters other than _type and the
// result parameters are refused under handling=strict and otherwise left
// out and named.
func (s *Server) historySystem(w http.ResponseWriter, r *http.Request, a Access) error {
	params, ignored, err := historyParams(w, r, true)
	if err != nil {
		return err
	}
	types, explicit, err := s.systemTypes(a, params["_type"], interHistorySystem)
	if err != nil {
		return err
	}
	delete(params, "_type")
	q, err := s.defs.parseSearch(types[0].name, params, true, s.now())
	if err != nil {
		return err
	}
	if err := bindPages(&q, a); err != nil {
		return err
	}
	if len(explicit) > 0 {
		q.params.Set("_type", strings.Join(explicit, ","))
	}
	vs, total, err := s.historyOf(r.Context(), types, q)
	if err != nil {
		return err
	}
	b := s.history(s.base+"/_history", q, vs, total, s.now())
	b.addOutcome(false, ignored)
	fhirwire.WriteJSON(w, http.StatusOK, b)
	return nil
}

// systemMatches runs a system-level search or history (in): _type lists
// the types looked at; each must be one the token may search, or the
// request is refused (D-4). Without _type every type the token may search
// is looked at. Only parameters every type supports apply; the others are
// refused under handling=strict and otherwise listed in q.ignored. It
// returns the page of matches, ordered by type, then id, and the total.
func (s *Server) systemMatches(r *http.Request, a Access, params url.Values, in interaction) (search, []store.Resource, int, error) {
	now := s.now()
	types, explicit, err := s.systemTypes(a, params["_type"], in)
	if err != nil {
		return search{}, nil, 0, err
	}
	delete(params, "_type")
	ignored, err := s.defs.commonParams(types, params, strictHandling(r))
	if err != nil {
		return search{}, nil, 0, err
	}
	var (
		q     search
		all   []store.Resource
		total int
	)
	for _, t := range types {
		if q, err = s.defs.parseSearch(t.name, params, true, now); err != nil {
			return search{}, nil, 0, err
		}
		if err := bindPages(&q, a); err != nil {
			return search{}, nil, 0, err
		}
		sq := store.ResourceQuery{Type: t.name, Filters: q.Filters, Count: q.Offset + q.Count}
		t.dec.restrict(&sq)
		rs, n, err := s.store.SearchResources(r.Context(), sq)
		if err != nil {
			return search{}, nil, 0, err
		}
		all, total = append(all, rs...), total+n
	}
	slices.SortFunc(all, func(x, y store.Resource) int { return cmp.Or(cmp.Compare(x.Type, y.Type), cmp.Compare(x.ID, y.ID)) })
	if len(explicit) > 0 {
		q.params.Set("_type", strings.Join(explicit, ","))
	}
	q.ignored = ignored
	return q, page(all, q), total, nil
}

// typeDecision is one type a system search looks at, with what the token
// may see of it.
type typeDecision struct {
	name string
	dec  decision
}

// systemTypes returns the types a system search looks at: those listed in
// _type, each of which the token must be allowed to search, or else every
// type it may search.
func (s *Server) systemTypes(a Access, values []string, in interaction) ([]typeDecision, []string, error) {
	var listed []string
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if !s.defs.known(t) {
				return nil, nil, invalid("_type names an unknown resource type")
			}
			if !slices.Contains(listed, t) {
				listed = append(listed, t)
			}
		}
	}
	slices.Sort(listed)
	names := listed
	if len(names) == 0 {
		names = s.defs.typeNames()
	}
	var out []typeDecision
	for _, t := range names {
		dec, err := s.defs.decide(a, t, in, s.now())
		if err != nil && len(listed) > 0 {
			return nil, nil, err
		}
		if err == nil {
			out = append(out, typeDecision{t, dec})
		}
	}
	if len(out) == 0 {
		return nil, nil, forbidden("no granted scope allows searching")
	}
	return out, listed, nil
}

// commonParams removes from params, and returns, the parameters not every
// type supports as a plain parameter, or refuses them under strict
// handling.
func (d *definitions) commonParams(types []typeDecision, params url.Values, strict bool) ([]string, error) {
	var ignored []string
	for _, name := range slices.Sorted(maps.Keys(params)) {
		if isResultParam(name) {
			continue
		}
		ok := !strings.Contains(name, ".") && !strings.HasPrefix(name, "_has:")
		for _, t := range types {
			if _, supported := d.plainParam(t.name, name); !supported {
				ok = false
			}
		}
		if ok {
			continue
		}
		if strict {
			return nil, unsupportedParam(name)
		}
		ignored = append(ignored, name)
		delete(params, name)
	}
	return ignored, nil
}

package fhir

import (
	"context"
	"net/http"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// maxIncluded bounds the resources one _include or _revinclude adds.
const maxIncluded = 1000

// search serves GET /{type}?params and POST /{type}/_search (FHIR R4 search
// §3.1.1), and with a compartment patient GET /Patient/{id}/{type}?params
// (a compartment search, FHIR R4 compartments §1.15.2), answering a
// searchset Bundle. The matches are confined to what the token may search;
// chained parameters, _has and included resources to what it may read.
func (s *Server) search(w http.ResponseWriter, r *http.Request, a Access, typ, compartment string) error {
	params, err := searchParams(w, r)
	if err != nil {
		return err
	}
	now := s.now()
	dec, err := s.defs.decide(a, typ, interSearchType, now)
	if err != nil {
		return err
	}
	q, err := s.defs.parseSearch(typ, params, strictHandling(r), now)
	if err != nil {
		return err
	}
	if err := bindPages(&q, a); err != nil {
		return err
	}
	sq := store.ResourceQuery{Type: typ, Filters: q.Filters, ReferencedBy: q.Has, Sort: q.Sort, Count: q.Count, Offset: q.Offset}
	path := s.base + "/" + typ
	if compartment != "" {
		if !s.defs.inCompartment(typ) || !validID(compartment) {
			return notFound("no such compartment search")
		}
		sq.Patient, path = compartment, s.base+"/Patient/"+compartment+"/"+typ
	}
	dec.restrict(&sq)
	if err := s.restrictNested(a, &sq, now); err != nil {
		return err
	}
	rs, total, err := s.store.SearchResources(r.Context(), sq)
	if err != nil {
		return err
	}
	inc, withheld, err := s.includes(r.Context(), a, typ, q, rs, now)
	if err != nil {
		return err
	}
	b := s.searchset(path, q, rs, total, now)
	b.addIncluded(s.base, inc)
	b.addOutcome(withheld, q.ignored)
	fhirwire.WriteJSON(w, http.StatusOK, b)
	return nil
}

// restrictNested confines the resources that chained parameters and _has
// conditions look at to those the token may read, so that neither can
// reveal a resource the token could not read directly. A chain alternative
// whose type the token may not read is dropped; a chain left with none, or
// a _has over such a type, is refused with 403.
func (s *Server) restrictNested(a Access, q *store.ResourceQuery, now time.Time) error {
	for i := range q.Filters {
		f := &q.Filters[i]
		var kept []store.Match
		for _, m := range f.Any {
			if m.Target == nil {
				kept = append(kept, m)
				continue
			}
			dec, err := s.defs.decide(a, m.Target.Type, interRead, now)
			if err != nil {
				continue
			}
			dec.restrict(m.Target)
			kept = append(kept, m)
		}
		if len(kept) == 0 {
			return forbidden("no granted scope allows reading the resources a chained parameter refers to")
		}
		f.Any = kept
	}
	for i := range q.ReferencedBy {
		from := &q.ReferencedBy[i].From
		dec, err := s.defs.decide(a, from.Type, interRead, now)
		if err != nil {
			return forbidden("no granted scope allows reading the resources a _has parameter refers to")
		}
		dec.restrict(from)
	}
	return nil
}

// includes returns the resources _include and _revinclude add to page,
// without those already in it, and whether the token's access left some
// out (D-6). For _include, "left out" is exact: a referenced resource
// exists that the token may not read (the page already shows the
// reference). For _revinclude it is reported whenever the token may not
// read every resource of the referencing type, whatever the data, so that
// the answer never reveals that hidden resources exist (D-4).
func (s *Server) includes(ctx context.Context, a Access, typ string, q search, page []store.Resource, now time.Time) ([]store.Resource, bool, error) {
	if len(page) == 0 {
		return nil, false, nil
	}
	ids, refs := store.Filter{Param: "_id"}, store.Filter{}
	seen := map[string]bool{}
	for _, r := range page {
		ids.Any = append(ids.Any, store.Match{Value: r.ID})
		refs.Any = append(refs.Any, store.Match{Value: typ + "/" + r.ID})
		seen[typ+"/"+r.ID] = true
	}
	var queries []store.ResourceQuery
	var exact []bool
	for _, inc := range q.Include {
		from := store.ResourceQuery{Type: typ, Filters: []store.Filter{ids}}
		for _, t := range inc.Targets {
			queries = append(queries, store.ResourceQuery{Type: t, Count: maxIncluded,
				ReferencedBy: []store.Link{{Param: inc.Param, From: from}}})
			exact = append(exact, true)
		}
	}
	for _, inc := range q.RevInclude {
		queries = append(queries, store.ResourceQuery{Type: inc.Source, Count: maxIncluded,
			Filters: []store.Filter{{Param: inc.Param, Any: refs.Any}}})
		exact = append(exact, false)
	}
	var out []store.Resource
	withheld := false
	for i, iq := range queries {
		rs, w, err := s.readable(ctx, a, iq, exact[i], now)
		if err != nil {
			return nil, false, err
		}
		withheld = withheld || w
		for _, r := range rs {
			if key := r.Type + "/" + r.ID; !seen[key] {
				seen[key] = true
				out = append(out, r)
			}
		}
	}
	return out, withheld, nil
}

// readable runs iq confined to what a may read, and reports whether that
// confinement may have left resources out: exactly (some matching
// resource was left out) or, when exact is false, whenever the token may
// not read every resource of the type.
func (s *Server) readable(ctx context.Context, a Access, iq store.ResourceQuery, exact bool, now time.Time) ([]store.Resource, bool, error) {
	dec, err := s.defs.decide(a, iq.Type, interRead, now)
	if err != nil {
		if !exact {
			return nil, true, nil
		}
		_, n, err := s.store.SearchResources(ctx, withCount(iq, 0))
		return nil, n > 0, err
	}
	if dec.all {
		rs, _, err := s.store.SearchResources(ctx, iq)
		return rs, false, err
	}
	all := -1
	if exact {
		if _, all, err = s.store.SearchResources(ctx, withCount(iq, 0)); err != nil {
			return nil, false, err
		}
	}
	dec.restrict(&iq)
	rs, n, err := s.store.SearchResources(ctx, iq)
	return rs, !exact || all > n, err
}

func withCount(q store.ResourceQuery, n int) store.ResourceQuery {
	q.Count = n
	return q
}

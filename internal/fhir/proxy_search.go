package fhir

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// narrowing is how a proxied search is confined at the upstream to what
// the token may search: a patient compartment (searched as
// Patient/{id}/{type}) and a scope's query, both ANDed with the client's
// parameters. exact reports that the confinement is exactly the access
// decision, so that the upstream's pages and total need no correction;
// otherwise the answer is filtered and carries no total.
type narrowing struct {
	patient string
	params  url.Values
	exact   bool
}

// path is where the upstream is searched for typ under nw: the patient's
// compartment (Patient/{id}/{type}) or the type.
func (nw narrowing) path(typ string) string {
	if nw.patient != "" {
		return "Patient/" + nw.patient + "/" + typ
	}
	return typ
}

// addTo ANDs nw's parameters to v.
func (nw narrowing) addTo(v url.Values) {
	for k, vs := range nw.params {
		v[k] = append(v[k], vs...)
	}
}

// cloneValues copies v, its value slices too, so that adding to the copy
// never changes v.
func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// narrow returns the narrowing of a search of typ: none, exact, when a
// covering scope allows every resource; the one grant's compartment and
// query, exact, when the covering scopes come down to one; and otherwise
// the compartment they share, if any, inexact.
func (d *definitions) narrow(a Access, typ string, in interaction, now time.Time) narrowing {
	var grants []narrowing
	for _, sc := range a.Scopes.Resources {
		if !sc.Allows(in.permission(), typ) {
			continue
		}
		c, ok := d.scopeClause(a, sc, typ, now)
		switch {
		case !ok:
			continue
		case c.Patient == "" && len(c.Filters) == 0:
			return narrowing{exact: true}
		}
		g := narrowing{patient: c.Patient, params: sc.Query, exact: true}
		if !slices.ContainsFunc(grants, func(x narrowing) bool { return reflect.DeepEqual(x, g) }) {
			grants = append(grants, g)
		}
	}
	if len(grants) == 1 {
		return grants[0]
	}
	for _, g := range grants {
		if g.patient != grants[0].patient {
			return narrowing{}
		}
	}
	if len(grants) == 0 {
		return narrowing{}
	}
	return narrowing{patient: grants[0].patient}
}

// proxySearch serves a search through the upstream: type level, within a
// compartment (compartment set), or at system level (typ ""). The client's
// parameters are checked exactly as in embedded mode, and only those
// applied are sent on, ANDed with the narrowing; every match and included
// resource the upstream answers is judged again before it is passed on.
// Chained parameters and _has are resolved here first (resolveNested).
func (s *Server) proxySearch(w http.ResponseWriter, r *http.Request, a Access, typ, compartment string) error {
	params, err := searchParams(w, r)
	if err != nil {
		return err
	}
	if typ == "" {
		return s.proxySystemSearch(w, r, a, params)
	}
	now := s.now()
	if _, err := s.defs.decide(a, typ, interSearchType, now); err != nil {
		return err
	}
	q, err := s.defs.parseSearch(typ, params, strictHandling(r), now)
	if err != nil {
		return err
	}
	nw := s.defs.narrow(a, typ, interSearchType, now)
	path := nw.path(typ)
	if compartment != "" {
		if !s.defs.inCompartment(typ) || !validID(compartment) {
			return notFound("no such compartment search")
		}
		path = narrowing{patient: compartment}.path(typ)
		nw.exact = nw.exact && (nw.patient == "" || nw.patient == compartment)
	}
	v := cloneValues(q.params)
	empty, err := s.resolveNested(r.Context(), a, typ, v, now)
	if err != nil {
		return err
	}
	if empty {
		b := s.searchset(s.base+"/"+path, q, nil, 0, now)
		b.addOutcome(false, q.ignored)
		fhirwire.WriteJSON(w, http.StatusOK, b)
		return nil
	}
	nw.addTo(v)
	kind := relayKind{judge: judgeSearch}
	if nw.exact {
		kind.exact = true
	}
	for _, inc := range q.RevInclude {
		if dec, err := s.defs.decide(a, inc.Source, interRead, now); err != nil || !dec.all {
			kind.withheld = true
			break
		}
	}
	return s.relaySearch(w, r, a, path, v, q, kind)
}

// relaySearch sends a search with its paging parameters and relays the
// answer. A count alone (_summary=count) needs an exact narrowing.
func (s *Server) relaySearch(w http.ResponseWriter, r *http.Request, a Access, path string, v url.Values, q search, kind relayKind) error {
	if q.Count == 0 && !kind.exact {
		return &apiError{Status: http.StatusBadRequest, Code: "not-supported",
			Diagnostics: "with these scopes, a proxied search cannot be counted without reading it; page through it instead"}
	}
	v.Set("_count", strconv.Itoa(q.Count))
	v.Del("_elements")
	kind.elements = q.Elements
	if q.Offset > 0 {
		v.Set(offsetParam, strconv.Itoa(q.Offset))
	}
	return s.relay(w, r, a, path+"?"+v.Encode(), kind, q.ignored)
}

// proxySystemSearch serves GET /?_type=... through the upstream: the types
// are checked as in embedded mode, and the matches judged per type.
func (s *Server) proxySystemSearch(w http.ResponseWriter, r *http.Request, a Access, params url.Values) error {
	types, explicit, err := s.systemTypes(a, params["_type"], interSearchSystem)
	if err != nil {
		return err
	}
	delete(params, "_type")
	ignored, err := s.defs.commonParams(types, params, strictHandling(r))
	if err != nil {
		return err
	}
	q, err := s.defs.parseSearch(types[0].name, params, true, s.now())
	if err != nil {
		return err
	}
	q.ignored = append(ignored, q.ignored...)
	if q.Count == 0 {
		return s.proxyCount(w, r, a, types, q)
	}
	v := cloneValues(q.params)
	names := explicit
	if len(names) == 0 {
		for _, t := range types {
			names = append(names, t.name)
		}
	}
	v.Set("_type", strings.Join(names, ","))
	return s.relaySearch(w, r, a, "", v, q, relayKind{judge: judgeSearch})
}

// proxyHistory serves history through the upstream: of one resource (typ
// and id), of a type, or of the system. Every version is judged on its own
// content.
func (s *Server) proxyHistory(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error {
	params, ignored, err := historyParams(w, r, typ == "")
	if err != nil {
		return err
	}
	now := s.now()
	results := url.Values{}
	for k, vs := range params {
		if k != "_type" {
			results[k] = vs
		}
	}
	if _, err := s.defs.parseSearch(cmp.Or(typ, "Patient"), results, true, now); err != nil {
		return err // a malformed _count, _summary, _elements, ...
	}
	v := url.Values{}
	var elements []string
	if e, ok := params["_elements"]; ok {
		if elements, err = parseElements(e); err != nil {
			return err
		}
	}
	for _, name := range []string{"_count", offsetParam} {
		if n, ok := params[name]; ok {
			c, err := singleInt(name, n)
			if err != nil {
				return err
			}
			if name == "_count" {
				c = min(c, maxCount)
			}
			v.Set(name, strconv.Itoa(c))
		}
	}
	switch {
	case id != "":
		if _, err := s.defs.decide(a, typ, interHistoryInstance, now); err != nil {
			return err
		}
		if !validID(id) {
			return notFound("resource not found")
		}
		return s.relay(w, r, a, typ+"/"+id+"/_history?"+v.Encode(), relayKind{judge: judgeInstance, elements: elements}, ignored)
	case typ != "":
		dec, err := s.defs.decide(a, typ, interHistoryType, now)
		if err != nil {
			return err
		}
		kind := relayKind{judge: judgeHistory, elements: elements, exact: dec.all}
		if params.Get("_summary") == "count" {
			if !dec.all {
				return &apiError{Status: http.StatusBadRequest, Code: "not-supported",
					Diagnostics: "with these scopes, a proxied history cannot be counted without reading it; page through it instead"}
			}
			v.Set("_summary", "count")
		}
		return s.relay(w, r, a, typ+"/_history?"+v.Encode(), kind, ignored)
	}
	types, _, err := s.systemTypes(a, params["_type"], interHistorySystem)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(types))
	for _, t := range types {
		names = append(names, t.name)
	}
	v.Set("_type", strings.Join(names, ","))
	return s.relay(w, r, a, "_history?"+v.Encode(), relayKind{judge: judgeHistory, elements: elements}, ignored)
}

// proxyEverything serves Patient/{id}/$everything through the upstream:
// the patient must be one the token may read, and every resource the
// upstream answers is judged by the search decision of its type.
func (s *Server) proxyEverything(w http.ResponseWriter, r *http.Request, a Access, id string) error {
	params, err := searchParams(w, r)
	if err != nil {
		return err
	}
	if id == "" {
		if a.Patient == "" {
			return &apiError{Status: http.StatusBadRequest, Code: "not-supported", Diagnostics: "name the patient: Patient/{id}/$everything"}
		}
		id = a.Patient
	}
	dec, err := s.defs.decide(a, "Patient", interRead, s.now())
	if err != nil {
		return err
	}
	if !validID(id) {
		return notFound("resource not found")
	}
	pat, err := s.fetchResource(r.Context(), dec, "Patient", id, "")
	if err != nil {
		return err
	}
	if !dec.permits(pat) {
		return notFound("resource not found")
	}
	v := url.Values{}
	for _, t := range params["_type"] {
		for _, name := range strings.Split(t, ",") {
			if !s.defs.known(name) {
				return invalid("_type names a resource type this server does not serve")
			}
		}
		v.Add("_type", t)
	}
	return s.relay(w, r, a, "Patient/"+id+"/$everything?"+v.Encode(), relayKind{judge: judgeEverything}, nil)
}

// proxyCount answers a system search's _summary=count through the
// upstream: the sum of one count per type, each confined exactly to what
// the token may search (or refused, when its scopes cannot be).
func (s *Server) proxyCount(w http.ResponseWriter, r *http.Request, a Access, types []typeDecision, q search) error {
	now, total := s.now(), 0
	for _, t := range types {
		nw := s.defs.narrow(a, t.name, interSearchSystem, now)
		if !nw.exact {
			return &apiError{Status: http.StatusBadRequest, Code: "not-supported",
				Diagnostics: "with these scopes, a proxied search cannot be counted without reading it; page through it instead"}
		}
		v := cloneValues(q.params)
		nw.addTo(v)
		n, err := s.upstreamCount(r.Context(), nw.path(t.name)+"?"+v.Encode())
		if err != nil {
			return err
		}
		total += n
	}
	b := s.searchset(s.base, q, nil, total, now)
	b.addOutcome(false, q.ignored)
	fhirwire.WriteJSON(w, http.StatusOK, b)
	return nil
}

// upstreamCount is the total of an upstream search.
func (s *Server) upstreamCount(ctx context.Context, ref string) (int, error) {
	resp, err := s.proxy.up.Do(ctx, http.MethodGet, ref, nil, nil)
	if err != nil {
		return 0, upstreamError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, upstreamStatus(resp)
	}
	var b struct{ Total *int }
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil || b.Total == nil {
		return 0, upstreamError(errors.New("upstream count without a total"))
	}
	return *b.Total, nil
}

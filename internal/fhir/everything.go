package fhir

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// maxEverything bounds the resources one $everything answers; a larger
// record is refused, to be read by searches, which page.
const maxEverything = 10000

// everything serves GET /Patient/{id}/$everything (FHIR R4 Patient
// $everything) and, for a token with a patient in context, GET
// /Patient/$everything: the Patient and every resource of its compartment
// that the token may search — each type decided exactly as a search of it
// would be, so the answer holds only what the granted scopes allow
// (attack catalog A-92). _type narrows the types; other parameters are
// refused under Prefer: handling=strict and otherwise left out and named.
func (s *Server) everything(w http.ResponseWriter, r *http.Request, a Access, id string) error {
	params, err := searchParams(w, r)
	if err != nil {
		return err
	}
	if id == "" {
		if a.Patient == "" {
			return &apiError{Status: http.StatusBadRequest, Code: "not-supported",
				Diagnostics: "name the patient: Patient/{id}/$everything"}
		}
		id = a.Patient
	}
	ctx, now := r.Context(), s.now()
	var types []string
	var ignored []string
	for _, name := range slices.Sorted(maps.Keys(params)) {
		switch name {
		case "_type":
			for _, v := range params[name] {
				for _, t := range strings.Split(v, ",") {
					if !s.defs.known(t) {
						return invalid("_type names a resource type this server does not serve")
					}
					types = append(types, t)
				}
			}
		case "_format":
			if err := checkFormat(params[name]); err != nil {
				return err
			}
		default:
			if strictHandling(r) {
				return unsupportedParam(name)
			}
			ignored = append(ignored, name)
		}
	}
	pat, err := s.visible(ctx, a, "Patient", id, interRead)
	if err != nil {
		return err
	}
	if types == nil {
		types = s.defs.typeNames()
	}
	rs := []store.Resource{}
	if slices.Contains(types, "Patient") {
		rs = append(rs, pat)
	}
	for _, typ := range slices.Compact(slices.Sorted(slices.Values(types))) {
		if typ == "Patient" {
			continue
		}
		dec, err := s.defs.decide(a, typ, interSearchType, now)
		if err != nil {
			continue // no granted scope lets the token search typ
		}
		q := store.ResourceQuery{Type: typ, Patient: id, Count: maxEverything + 1 - len(rs)}
		dec.restrict(&q)
		found, total, err := s.store.SearchResources(ctx, q)
		if err != nil {
			return err
		}
		if len(rs)+total > maxEverything {
			return &apiError{Status: http.StatusBadRequest, Code: "too-costly",
				Diagnostics: "the record is too large for $everything; search it type by type, which pages"}
		}
		rs = append(rs, found...)
	}
	self := s.base + "/Patient/" + id + "/$everything"
	if t := params["_type"]; t != nil {
		self += "?" + url.Values{"_type": t}.Encode()
	}
	b := bundle{ResourceType: "Bundle", Type: "searchset", Total: len(rs),
		Meta: bundleMeta{LastUpdated: now.UTC().Format(time.RFC3339)}, Link: []bundleLink{{"self", self}}}
	for _, r := range rs {
		b.Entry = append(b.Entry, bundleEntry{FullURL: s.base + "/" + r.Type + "/" + r.ID,
			Resource: r.JSON, Search: &entrySearch{Mode: "match"}})
	}
	b.addOutcome(false, ignored)
	fhirwire.WriteJSON(w, http.StatusOK, b)
	return nil
}

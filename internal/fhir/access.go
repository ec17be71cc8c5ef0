package fhir

import (
	"slices"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// restriction is what a caller's scopes add to a read or search of one type.
type restriction struct {
	// patient confines the request to this patient's compartment.
	patient string
	// filters come from granular (query) scopes; they are ANDed with the
	// request's own.
	filters []store.Filter
}

// grant decides whether a may perform perm on typ (SMART App Launch 2.1
// §"Scopes for requesting FHIR resources") and returns the restriction to
// apply. See the package documentation for the rules.
func (s *Server) grant(a Access, typ string, perm smart.Permission) (restriction, error) {
	var patientScopes, otherScopes []smart.Scope
	for _, sc := range a.Scopes.Resources {
		if !sc.Allows(perm, typ) {
			continue
		}
		if sc.Context == "patient" {
			patientScopes = append(patientScopes, sc)
		} else {
			otherScopes = append(otherScopes, sc)
		}
	}
	var res restriction
	scopes := otherScopes
	if len(otherScopes) == 0 {
		if len(patientScopes) == 0 {
			return res, forbidden("no granted scope allows this interaction on this resource type")
		}
		if a.Patient == "" {
			return res, forbidden("patient scopes need a patient context")
		}
		if s.defs.inCompartment(typ) {
			res.patient = a.Patient
		}
		scopes = patientScopes
	}
	filters, err := s.scopeFilters(typ, scopes)
	if err != nil {
		return res, err
	}
	res.filters = filters
	return res, nil
}

// scopeFilters turns the queries of granular scopes into filters. A scope
// without a query grants the type unrestricted (within its context). Several
// query scopes are combined only when each restricts the same single
// parameter, as in SMART's "category=laboratory" and "category=vital-signs"
// example: their values are then OR-ed.
func (s *Server) scopeFilters(typ string, scopes []smart.Scope) ([]store.Filter, error) {
	var merged []store.Filter
	for _, sc := range scopes {
		if len(sc.Query) == 0 {
			return nil, nil
		}
		q, err := s.defs.parseSearch(typ, sc.Query, s.now())
		if err != nil || len(q.Filters) == 0 || q.Count != defaultCount || q.Offset != 0 {
			return nil, forbidden("a granted scope's query is not supported")
		}
		merged = append(merged, q.Filters...)
	}
	if len(scopes) == 1 {
		return merged, nil
	}
	one := store.Filter{Param: merged[0].Param}
	for _, f := range merged {
		if f.Param != one.Param || len(merged) != len(scopes) {
			return nil, forbidden("the granted scopes' queries are too complex to combine")
		}
		one.Any = append(one.Any, f.Any...)
	}
	return []store.Filter{one}, nil
}

// allowsPatients reports whether r permits a resource with the given compartment
// membership, ignoring filters.
func (r restriction) allowsPatients(patients []string) bool {
	return r.patient == "" || slices.Contains(patients, r.patient)
}

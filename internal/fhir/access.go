package fhir

import (
	"maps"
	"net/url"
	"reflect"
	"slices"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// interaction is a FHIR R4 RESTful interaction (http.html §3.1.0) that the
// access decision answers for.
type interaction uint8

const (
	interRead            interaction = iota // GET [type]/[id]
	interVRead                              // GET [type]/[id]/_history/[vid]
	interHistoryInstance                    // GET [type]/[id]/_history
	interSearchType                         // GET [type]?...
	interHistoryType                        // GET [type]/_history
	interSearchSystem                       // GET [base]?_type=...
	interHistorySystem                      // GET [base]/_history
	interCreate                             // POST [type]
	interUpdate                             // PUT [type]/[id]
	interDelete                             // DELETE [type]/[id]
)

// interactions lists every interaction, for tests and documentation.
var interactions = []interaction{interRead, interVRead, interHistoryInstance, interSearchType,
	interHistoryType, interSearchSystem, interHistorySystem, interCreate, interUpdate, interDelete}

var interactionNames = [...]string{"read", "vread", "history-instance", "search-type",
	"history-type", "search-system", "history-system", "create", "update", "delete"}

func (in interaction) String() string { return interactionNames[in] }

// permission is the SMART v2 permission letter an interaction needs
// (R-SCOPE-05): r for read, vread and instance history; s for type search,
// type history and system search and history; c, u and d for create,
// update and delete.
func (in interaction) permission() smart.Permission {
	switch in {
	case interRead, interVRead, interHistoryInstance:
		return smart.Read
	case interSearchType, interHistoryType, interSearchSystem, interHistorySystem:
		return smart.Search
	case interCreate:
		return smart.Create
	case interUpdate:
		return smart.Update
	}
	return smart.Delete
}

// decision is what the granted scopes allow for one interaction on one
// resource type: every resource when all is set, otherwise the resources
// that satisfy at least one of grants (the union of the covering scopes).
type decision struct {
	all    bool
	grants []store.Clause
}

// permits reports whether the decision allows the resource r, judged on
// its compartments and index entries. For create and update, r is the
// indexed new content; for read, vread, update and delete the stored one.
func (d decision) permits(r store.Resource) bool {
	if d.all {
		return true
	}
	for _, c := range d.grants {
		if c.Matches(r) {
			return true
		}
	}
	return false
}

// restrict confines q to what the decision allows.
func (d decision) restrict(q *store.ResourceQuery) {
	if !d.all {
		q.AnyOf = d.grants
	}
}

// add unions one scope's clause into the decision.
func (d *decision) add(c store.Clause) {
	if c.Patient == "" && len(c.Filters) == 0 {
		d.all, d.grants = true, nil
	}
	if d.all || slices.ContainsFunc(d.grants, func(g store.Clause) bool { return reflect.DeepEqual(g, c) }) {
		return
	}
	d.grants = append(d.grants, c)
}

// decide is the one access decision of the FHIR API: whether a may perform
// in on resources of typ, and on which of them (see the package
// documentation for the rules). It answers 403 when no granted scope covers
// typ for in's permission, or when none of the covering scopes can grant
// anything (a patient scope without a patient context, a query the server
// cannot evaluate). A nil error means the interaction is allowed on the
// resources the decision permits; the others must be treated as missing.
func (d *definitions) decide(a Access, typ string, in interaction, now time.Time) (decision, error) {
	var dec decision
	covered := false
	for _, sc := range a.Scopes.Resources {
		if !sc.Allows(in.permission(), typ) {
			continue
		}
		covered = true
		if c, ok := d.scopeClause(a, sc, typ, now); ok {
			dec.add(c)
		}
	}
	if !covered {
		return dec, forbidden("no granted scope allows this interaction on this resource type")
	}
	if !dec.all && len(dec.grants) == 0 {
		return dec, forbidden("the granted scopes for this resource type need a patient context or carry an unsupported query")
	}
	return dec, nil
}

// scopeClause is what one scope covering typ allows: a patient/ scope
// confines compartment types to the patient in context (and grants nothing
// without one); a query confines every scope to the resources that match
// it. ok is false when the scope grants nothing.
func (d *definitions) scopeClause(a Access, sc smart.Scope, typ string, now time.Time) (store.Clause, bool) {
	var c store.Clause
	if sc.Context == "patient" {
		if a.Patient == "" {
			return c, false
		}
		if d.inCompartment(typ) {
			c.Patient = a.Patient
		}
	}
	if len(sc.Query) > 0 {
		fs, err := d.scopeFilters(typ, sc.Query, now)
		if err != nil {
			return c, false
		}
		c.Filters = fs
	}
	return c, true
}

// scopeFilters parses a granular scope's query (SMART App Launch 2.1
// §"Finer-grained resource constraints using search parameters") strictly:
// only plain search parameters the server supports, no modifiers other
// than a reference's type, chains, _has, _include or result parameters.
// Anything else is an error, so the scope grants nothing rather than more
// than it says.
func (d *definitions) scopeFilters(typ string, query url.Values, now time.Time) ([]store.Filter, error) {
	var out []store.Filter
	for _, name := range slices.Sorted(maps.Keys(query)) {
		values := query[name]
		if err := checkText(name, values); err != nil {
			return nil, err
		}
		sp, ok := d.plainParam(typ, name)
		if !ok {
			return nil, unsupportedParam(name)
		}
		for _, v := range values {
			f, err := parseFilter(sp, v, now)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
	}
	return out, nil
}

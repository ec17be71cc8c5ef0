package store

import (
	"context"
	"time"
)

// Resource is one stored FHIR resource with the values it is searched by.
// The backend stores JSON as given and never parses it: the index rows and
// the compartment membership are computed by the caller (package fhir).
type Resource struct {
	Type        string
	ID          string
	VersionID   string
	LastUpdated time.Time
	// JSON is the resource exactly as served.
	JSON []byte
	// Patients are the ids of the patients in whose compartment it is.
	Patients []string
	// Index holds the search values extracted from the resource.
	Index []IndexEntry
}

// IndexEntry is one value of one search parameter of a resource. A token
// or reference value sets Value (and System for tokens); a date value sets
// Low and High instead.
type IndexEntry struct {
	Param  string // search parameter code, such as "code" or "date"
	System string // token system, when the value is a token
	Value  string // token code or "Type/id" reference
	// Low and High bound, inclusively, the instants covered by a date value.
	// A zero Low means "since forever", a zero High "for ever after".
	Low, High time.Time
}

// IsDate reports whether e is a date value.
func (e IndexEntry) IsDate() bool { return !e.Low.IsZero() || !e.High.IsZero() }

// ResourceQuery selects resources of one type.
type ResourceQuery struct {
	Type string
	// Patient, when set, keeps only resources in that patient's compartment.
	Patient string
	// Filters must all match (AND); each filter's Any alternatives are OR-ed.
	Filters []Filter
	// Count is the page size (0 returns no resources, only the total);
	// Offset the number of matches skipped before the page.
	Count  int
	Offset int
}

// Filter is one search parameter of a query: a resource matches when one of
// its index entries for Param matches one of Any.
type Filter struct {
	Param string
	Any   []Match
}

// Date comparison prefixes (FHIR R4 search §3.1.1.4.2), applied to the
// stored range [L, H] and the searched range [Low, High] of a Match:
//
//	eq  L >= Low and H <= High   (the value lies within the searched range)
//	ne  not eq
//	lt  L < Low                  (the value starts before the range)
//	gt  H > High                 (the value ends after the range)
//	le  L <= High
//	ge  H >= Low
//	sa  L > High                 (starts after)
//	eb  H < Low                  (ends before)
//	ap  L <= High and H >= Low   (overlaps; the caller widens the range)
const (
	PrefixEq = "eq"
	PrefixNe = "ne"
	PrefixLt = "lt"
	PrefixGt = "gt"
	PrefixLe = "le"
	PrefixGe = "ge"
	PrefixSa = "sa"
	PrefixEb = "eb"
	PrefixAp = "ap"
)

// Match is one alternative value of a Filter. With a Prefix it is a date
// comparison against index entries' ranges; otherwise it compares Value
// (and System, when HasSystem) with index entries' values exactly.
type Match struct {
	// System and HasSystem express the token forms "system|code", "|code"
	// (HasSystem with empty System) and "code" (no HasSystem).
	System    string
	HasSystem bool
	Value     string
	// Prefix and Low/High express a date comparison; see PrefixEq. Zero
	// Low or High mean unbounded, as in IndexEntry.
	Prefix    string
	Low, High time.Time
}

// Resources stores FHIR resources.
type Resources interface {
	// PutResources inserts or replaces resources by type and id, with their
	// index rows and compartment membership, in one transaction. A replaced
	// resource keeps none of its former index or compartment rows.
	PutResources(ctx context.Context, rs []Resource) error
	// GetResource returns one resource with its Patients (without Index),
	// or ErrNotFound.
	GetResource(ctx context.Context, typ, id string) (Resource, error)
	// SearchResources returns one page of matches (without Patients and
	// Index), ordered
	// by id, and the total number of matches.
	SearchResources(ctx context.Context, q ResourceQuery) ([]Resource, int, error)
	// CountResources returns how many resources are stored.
	CountResources(ctx context.Context) (int, error)
}

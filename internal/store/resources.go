package store

import (
	"context"
	"math"
	"slices"
	"strings"
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
	// JSON is the resource exactly as served; nil for a deletion in a
	// history.
	JSON []byte
	// Deleted marks a version of ResourceHistory that records a deletion:
	// it has no JSON, and the Patients and Index of the version deleted.
	Deleted bool
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
	// AnyOf, when not empty, keeps only resources that satisfy at least one
	// of its clauses (the union of what several access grants allow). An
	// empty AnyOf adds no condition.
	AnyOf []Clause
	// ReferencedBy keeps only resources that, for each link, are referenced
	// through the link's parameter by a resource the link selects (FHIR
	// _has, and the targets of _include).
	ReferencedBy []Link
	// Sort orders the matches, first key first; the id breaks ties, and
	// is the whole order when Sort is empty. Ignored in nested queries.
	Sort []SortKey
	// Count is the page size (0 returns no resources, only the total);
	// Offset the number of matches skipped before the page. Both are
	// ignored in nested queries (Match.Target, Link.From).
	Count  int
	Offset int
}

// SortKey is one key of ResourceQuery.Sort (FHIR R4 search §3.1.1.5.3).
// Param "_lastUpdated" orders by Resource.LastUpdated; any other Param
// names a date index parameter, ordered ascending by a resource's earliest
// value (its lowest Low) and descending by its latest (its highest High,
// an open end being the latest of all). Resources without a value come
// last in either direction.
type SortKey struct {
	Param string
	Desc  bool
}

// Clause is one alternative of ResourceQuery.AnyOf: a compartment (when
// Patient is set) and filters, all of which must match.
type Clause struct {
	Patient string
	Filters []Filter
}

// Link relates a resource to those that reference it: a resource r
// satisfies the link when some resource selected by From has an index
// entry for Param whose value is r's "Type/id".
type Link struct {
	Param string
	From  ResourceQuery
}

// Filter is one search parameter of a query: a resource matches when one of
// its index entries for Param matches one of Any. Callers index every
// resource's id under "_id", and a backend may match "_id" values against
// the id itself.
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
// comparison against index entries' ranges; with a Target it matches
// reference values "Type/id" of the resources Target selects (a chained
// parameter); otherwise it compares Value (and System, when HasSystem) with
// index entries' values, exactly or, with StartsWith, as a prefix.
type Match struct {
	// System and HasSystem express the token forms "system|code", "|code"
	// (HasSystem with empty System) and "code" (no HasSystem).
	System    string
	HasSystem bool
	Value     string
	// StartsWith makes Value match every index value it is a prefix of
	// (string parameters, normalized by the caller).
	StartsWith bool
	// Prefix and Low/High express a date comparison; see PrefixEq. Zero
	// Low or High mean unbounded, as in IndexEntry.
	Prefix    string
	Low, High time.Time
	// Target, when set, selects the referenced resources.
	Target *ResourceQuery
}

// Resources stores FHIR resources.
type Resources interface {
	// PutResources inserts or replaces resources by type and id, with their
	// index rows and compartment membership, in one transaction. A replaced
	// resource keeps none of its former index or compartment rows.
	PutResources(ctx context.Context, rs []Resource) error
	// GetResource returns one resource with its Patients and Index, or
	// ErrNotFound.
	GetResource(ctx context.Context, typ, id string) (Resource, error)
	// SearchResources returns one page of matches (without Patients and
	// Index), ordered
	// by id, and the total number of matches.
	SearchResources(ctx context.Context, q ResourceQuery) ([]Resource, int, error)
	// CountResources returns how many resources are stored.
	CountResources(ctx context.Context) (int, error)
	// WriteResources applies changes in one transaction, all or none
	// (FHIR create, update, patch, delete and transaction Bundles). Each
	// change first checks its Base against the stored current version and
	// fails the whole call with ErrConflict when they differ. The current
	// version a change replaces or deletes is kept, with its Patients and
	// Index, for ResourceHistory. Two changes of one resource in one call
	// are ErrConflict.
	WriteResources(ctx context.Context, changes []Change) error
	// ResourceHistory returns the former versions (replaced and deleted)
	// of the resources q selects, newest first, with their Patients and
	// Index; the current versions are not included.
	ResourceHistory(ctx context.Context, q HistoryQuery) ([]Resource, error)
}

// Change is one write of WriteResources.
type Change struct {
	// Resource is the new current version, with its Patients and Index.
	// For a deletion it names Type, ID, and the VersionID and LastUpdated
	// the deletion is recorded with; the backend records it with the
	// Patients and Index of the version deleted, so that a history is
	// judged on what was deleted.
	Resource Resource
	// Delete removes the resource from the current ones.
	Delete bool
	// Base is the version the change was decided on: the stored current
	// version's VersionID, or "" when the resource must not exist (a
	// create). It is the compare-and-swap that keeps an access decision
	// or an If-Match true at the moment of the write.
	Base string
}

// HistoryQuery selects the former versions of resources: of one resource
// (Type and ID), of one type (Type), or of all (neither).
type HistoryQuery struct {
	Type, ID string
}

// Matches reports whether r satisfies c, judged on r.Patients and r.Index
// with the semantics every backend's SearchResources applies. A Match with
// a Target never matches here: following references needs the store.
func (c Clause) Matches(r Resource) bool {
	if c.Patient != "" && !slices.Contains(r.Patients, c.Patient) {
		return false
	}
	for _, f := range c.Filters {
		if !f.Matches(r.Index) {
			return false
		}
	}
	return true
}

// Matches reports whether one of entries matches f.
func (f Filter) Matches(entries []IndexEntry) bool {
	for _, e := range entries {
		if e.Param != f.Param {
			continue
		}
		for _, m := range f.Any {
			if m.matches(e) {
				return true
			}
		}
	}
	return false
}

func (m Match) matches(e IndexEntry) bool {
	switch {
	case m.Target != nil:
		return false
	case m.Prefix != "":
		return e.IsDate() && m.matchesDate(e)
	case e.IsDate():
		return false
	case m.StartsWith:
		return strings.HasPrefix(e.Value, m.Value)
	case m.HasSystem:
		return e.Value == m.Value && e.System == m.System
	}
	return e.Value == m.Value
}

// matchesDate applies the prefix table of PrefixEq.
func (m Match) matchesDate(e IndexEntry) bool {
	l, h := lowBound(e.Low), highBound(e.High)
	lo, hi := lowBound(m.Low), highBound(m.High)
	switch m.Prefix {
	case PrefixEq:
		return l >= lo && h <= hi
	case PrefixNe:
		return !(l >= lo && h <= hi)
	case PrefixLt:
		return l < lo
	case PrefixGt:
		return h > hi
	case PrefixLe:
		return l <= hi
	case PrefixGe:
		return h >= lo
	case PrefixSa:
		return l > hi
	case PrefixEb:
		return h < lo
	case PrefixAp:
		return l <= hi && h >= lo
	}
	return false
}

// lowBound and highBound turn range ends into unix microseconds, an
// unbounded end into the smallest or largest int64.
func lowBound(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixMicro()
}

func highBound(t time.Time) int64 {
	if t.IsZero() {
		return math.MaxInt64
	}
	return t.UnixMicro()
}

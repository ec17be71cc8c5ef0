package fhir

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// index computes the search index entries and the patient compartments of
// res, a parsed resource of a known type whose references are already
// relative ("Type/id").
func (d *definitions) index(res map[string]any) (store.Resource, error) {
	typ, _ := res["resourceType"].(string)
	id, _ := res["id"].(string)
	td := d.types[typ]
	if td == nil {
		return store.Resource{}, fmt.Errorf("fhir: index: unknown resource type %q", typ)
	}
	if !validID(id) {
		return store.Resource{}, fmt.Errorf("fhir: index: %s: invalid id %q", typ, id)
	}
	r := store.Resource{Type: typ, ID: id, Index: []store.IndexEntry{{Param: "_id", Value: id}}}
	for code, sp := range td.search {
		if code == "_id" {
			continue
		}
		for _, p := range sp.paths {
			for _, v := range p.eval(res) {
				r.Index = appendValue(r.Index, sp, v)
			}
		}
	}
	r.Index = dedupe(r.Index)
	if typ == "Patient" {
		r.Patients = append(r.Patients, id)
	}
	for _, p := range td.compartment {
		for _, v := range p.eval(res) {
			if ref, ok := referenceOf(v); ok {
				if pid, ok := strings.CutPrefix(ref, "Patient/"); ok {
					r.Patients = append(r.Patients, pid)
				}
			}
		}
	}
	slices.Sort(r.Patients)
	r.Patients = slices.Compact(r.Patients)
	return r, nil
}

// appendValue appends the index entries of one value v of parameter sp.
func appendValue(dst []store.IndexEntry, sp searchParam, v any) []store.IndexEntry {
	switch sp.Type {
	case "reference":
		if ref, ok := referenceOf(v); ok {
			dst = append(dst, store.IndexEntry{Param: sp.Code, Value: ref})
		}
	case "token":
		dst = appendToken(dst, sp.Code, v)
	case "date":
		if lo, hi, ok := dateValue(v); ok {
			dst = append(dst, store.IndexEntry{Param: sp.Code, Low: lo, High: hi})
		}
	case "string":
		dst = appendString(dst, sp.Code, v)
	}
	return dst
}

// stringParts are the elements of a HumanName or Address that a string
// parameter on the whole element searches (FHIR R4 search §3.1.1.4.12).
var stringParts = []string{"text", "family", "given", "prefix", "suffix",
	"line", "city", "district", "state", "postalCode", "country"}

// appendString indexes a string, or the parts of a HumanName or Address,
// normalized as normalizeString does.
func appendString(dst []store.IndexEntry, code string, v any) []store.IndexEntry {
	switch v := v.(type) {
	case string:
		if s := normalizeString(v); s != "" {
			dst = append(dst, store.IndexEntry{Param: code, Value: s})
		}
	case map[string]any:
		for _, k := range stringParts {
			for _, part := range appendFlat(nil, v[k]) {
				if s, ok := part.(string); ok {
					dst = appendString(dst, code, s)
				}
			}
		}
	}
	return dst
}

// appendToken indexes a code, boolean, Coding, CodeableConcept or
// Identifier.
func appendToken(dst []store.IndexEntry, code string, v any) []store.IndexEntry {
	switch v := v.(type) {
	case string:
		return append(dst, store.IndexEntry{Param: code, Value: v})
	case bool:
		return append(dst, store.IndexEntry{Param: code, Value: strconv.FormatBool(v)})
	case map[string]any:
		if codings, ok := v["coding"].([]any); ok {
			for _, c := range codings {
				dst = appendToken(dst, code, c)
			}
			return dst
		}
		system, _ := v["system"].(string)
		if c, ok := v["code"].(string); ok {
			return append(dst, store.IndexEntry{Param: code, System: system, Value: c})
		}
		if c, ok := v["value"].(string); ok {
			return append(dst, store.IndexEntry{Param: code, System: system, Value: c})
		}
	}
	return dst
}

// dateValue returns the range of a date, dateTime, instant or Period.
func dateValue(v any) (lo, hi time.Time, ok bool) {
	switch v := v.(type) {
	case string:
		lo, hi, err := dateRange(v)
		return lo, hi, err == nil
	case map[string]any:
		if s, isStr := v["start"].(string); isStr {
			if l, _, err := dateRange(s); err == nil {
				lo, ok = l, true
			}
		}
		if s, isStr := v["end"].(string); isStr {
			if _, h, err := dateRange(s); err == nil {
				hi, ok = h, true
			}
		}
	}
	return lo, hi, ok
}

// dedupe drops repeated index entries, keeping the first.
func dedupe(es []store.IndexEntry) []store.IndexEntry {
	seen := make(map[store.IndexEntry]bool, len(es))
	out := es[:0]
	for _, e := range es {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

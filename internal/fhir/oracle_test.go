package fhir

import (
	"encoding/json"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/sampledata"
)

// sampleEntry is one resource of the sample data as the test oracle sees
// it, computed from the Bundles without the package's code.
type sampleEntry struct {
	Type, ID string
	Patient  string   // subject/patient reference's Patient id, resolved
	Category []string // "system|code"
	Code     []string // "system|code"
	// Lo and Hi bound Observation.effective[x]; Hi zero for open.
	Lo, Hi time.Time
	HasEff bool
	// Raw is the resource as in the Bundle; Refs every literal reference
	// in it, resolved to "Type/id" where it names a Bundle entry.
	Raw  map[string]any
	Refs []string
}

var (
	oracleOnce sync.Once
	oracle     []sampleEntry
	oracleErr  error
)

// sampleEntries returns every entry of every sample Bundle.
func sampleEntries(t *testing.T) []sampleEntry {
	t.Helper()
	oracleOnce.Do(func() {
		files, _ := fs.Glob(sampledata.FS, "patients/*.json")
		for _, f := range files {
			var b struct {
				Entry []struct {
					FullURL  string         `json:"fullUrl"`
					Resource map[string]any `json:"resource"`
				} `json:"entry"`
			}
			raw, err := fs.ReadFile(sampledata.FS, f)
			if err == nil {
				err = json.Unmarshal(raw, &b)
			}
			if err != nil {
				oracleErr = err
				return
			}
			ids := map[string]string{}
			for _, e := range b.Entry {
				ids[e.FullURL] = e.Resource["resourceType"].(string) + "/" + e.Resource["id"].(string)
			}
			for _, e := range b.Entry {
				oracle = append(oracle, oracleEntry(e.Resource, ids))
			}
		}
	})
	if oracleErr != nil {
		t.Fatalf("scanning sample data: %v", oracleErr)
	}
	return oracle
}

func oracleEntry(r map[string]any, ids map[string]string) sampleEntry {
	e := sampleEntry{Type: r["resourceType"].(string), ID: r["id"].(string), Raw: r}
	e.Refs = allRefs(nil, r, ids)
	resolveRefs(r, ids)
	for _, k := range []string{"subject", "patient"} {
		if ref, ok := r[k].(map[string]any); ok {
			s, _ := ref["reference"].(string)
			if to, ok := ids[s]; ok {
				s = to
			}
			if id, ok := strings.CutPrefix(s, "Patient/"); ok {
				e.Patient = id
			}
		}
	}
	for _, c := range asList(r["category"]) {
		e.Category = append(e.Category, codings(c)...)
	}
	e.Code = codings(r["code"])
	if s, ok := r["effectiveDateTime"].(string); ok {
		e.Lo, e.Hi, e.HasEff = oracleRange(s)
	}
	if p, ok := r["effectivePeriod"].(map[string]any); ok {
		if s, ok := p["start"].(string); ok {
			e.Lo, _, e.HasEff = oracleRange(s)
		}
		if s, ok := p["end"].(string); ok {
			_, e.Hi, _ = oracleRange(s)
		}
	}
	return e
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func codings(cc any) []string {
	m, _ := cc.(map[string]any)
	var out []string
	for _, c := range asList(m["coding"]) {
		c := c.(map[string]any)
		sys, _ := c["system"].(string)
		code, _ := c["code"].(string)
		out = append(out, sys+"|"+code)
	}
	return out
}

// oracleRange covers the two forms in the sample data: a day, and a
// dateTime with seconds (and maybe a fraction) and a zone.
func oracleRange(s string) (time.Time, time.Time, bool) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, t.AddDate(0, 0, 1).Add(-time.Microsecond), true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	unit := time.Second
	if i := strings.IndexByte(s, '.'); i > 0 {
		digits := strings.IndexAny(s[i+1:], "Z+-")
		for range digits {
			unit /= 10
		}
	}
	return t.UTC(), t.UTC().Add(unit - time.Microsecond).Truncate(time.Microsecond), true
}

// count returns how many sample entries satisfy keep.
func count(t *testing.T, keep func(e sampleEntry) bool) int {
	n := 0
	for _, e := range sampleEntries(t) {
		if keep(e) {
			n++
		}
	}
	return n
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s || strings.HasSuffix(x, "|"+s) && !strings.Contains(s, "|") {
			return true
		}
	}
	return false
}

// allRefs appends every "reference" string in v, resolved through ids.
func allRefs(dst []string, v any, ids map[string]string) []string {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "reference" {
				if to, ok := ids[s]; ok {
					s = to
				}
				dst = append(dst, s)
				continue
			}
			dst = allRefs(dst, x, ids)
		}
	case []any:
		for _, x := range v {
			dst = allRefs(dst, x, ids)
		}
	}
	return dst
}

// inCompartmentOf is the oracle's patient compartment: a Patient is in its
// own; any other resource is in the compartment of every Patient it
// references.
func (e sampleEntry) inCompartmentOf(patient string) bool {
	if e.Type == "Patient" {
		return e.ID == patient
	}
	return slices.Contains(e.Refs, "Patient/"+patient)
}

// refsAt returns the resolved references at a path of member names in the
// resource, arrays flattened.
func (e sampleEntry) refsAt(path ...string) []string {
	nodes := []any{e.Raw}
	for _, step := range path {
		var next []any
		for _, n := range nodes {
			m, _ := n.(map[string]any)
			switch v := m[step].(type) {
			case nil:
			case []any:
				next = append(next, v...)
			default:
				next = append(next, v)
			}
		}
		nodes = next
	}
	var out []string
	for _, n := range nodes {
		out = allRefs(out, map[string]any{"x": n}, nil)
	}
	return out
}

// resolveRefs rewrites, in place, references that name a Bundle entry.
func resolveRefs(v any, ids map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "reference" && ids[s] != "" {
				v[k] = ids[s]
				continue
			}
			resolveRefs(x, ids)
		}
	case []any:
		for _, x := range v {
			resolveRefs(x, ids)
		}
	}
}

package fhir

import (
	"slices"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// plainParam returns the supported parameter a search parameter name
// such as "code" or "subject:Patient" denotes. The only modifier accepted
// is a reference parameter's target type, which narrows its targets.
func (d *definitions) plainParam(typ, name string) (searchParam, bool) {
	code, mod, hasMod := strings.Cut(name, ":")
	sp, ok := d.param(typ, code)
	if !ok || !hasMod {
		return sp, ok
	}
	if sp.Type == "reference" && slices.Contains(sp.Targets, mod) {
		sp.Targets = []string{mod}
		return sp, true
	}
	return searchParam{}, false
}

// parseChain parses a chained parameter (FHIR R4 search §3.1.1.5.7) of one
// level, "ref.param" or "ref:Type.param", where ref is a reference
// parameter of typ and param a plain supported parameter of the target
// type. It becomes a Filter on ref whose matches select the targets. The
// caller confines those to what the token may read.
func (d *definitions) parseChain(typ, name, value string, now time.Time) (store.Filter, bool, error) {
	left, right, _ := strings.Cut(name, ".")
	f := store.Filter{}
	if right == "" || strings.ContainsAny(right, ".:") {
		return f, false, nil
	}
	sp, ok := d.plainParam(typ, left)
	if !ok || sp.Type != "reference" {
		return f, false, nil
	}
	f.Param = sp.Code
	for _, t := range sp.Targets {
		tsp, ok := d.param(t, right)
		if !ok {
			continue
		}
		inner, err := parseFilter(tsp, value, now)
		if err != nil {
			return f, false, err
		}
		f.Any = append(f.Any, store.Match{Target: &store.ResourceQuery{Type: t, Filters: []store.Filter{inner}}})
	}
	return f, len(f.Any) > 0, nil
}

// parseHas parses "_has:Type:ref:param" (FHIR R4 search §3.1.1.5.8): the
// resources of typ that a resource of Type references through ref, where
// that resource matches param. Nested _has and chains are not supported.
// The caller confines the referencing resources to what the token may
// read.
func (d *definitions) parseHas(typ, name, value string, now time.Time) (store.Link, bool, error) {
	parts := strings.Split(name, ":")
	if len(parts) != 4 {
		return store.Link{}, false, nil
	}
	src, ref, param := parts[1], parts[2], parts[3]
	rp, ok := d.param(src, ref)
	if !ok || rp.Type != "reference" || !slices.Contains(rp.Targets, typ) {
		return store.Link{}, false, nil
	}
	sp, ok := d.param(src, param)
	if !ok {
		return store.Link{}, false, nil
	}
	f, err := parseFilter(sp, value, now)
	if err != nil {
		return store.Link{}, false, err
	}
	return store.Link{Param: ref, From: store.ResourceQuery{Type: src, Filters: []store.Filter{f}}}, true, nil
}

// parseInclude parses an _include value "Type:param[:Target]", whose Type
// must be typ, or a _revinclude value, whose param must be able to
// reference typ (FHIR R4 search §3.1.1.5.4). The wildcard "*" and
// :iterate are not supported.
func (d *definitions) parseInclude(typ, value string, rev bool) (include, bool) {
	parts := strings.Split(value, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return include{}, false
	}
	sp, ok := d.param(parts[0], parts[1])
	if !ok || sp.Type != "reference" {
		return include{}, false
	}
	targets := sp.Targets
	if len(parts) == 3 {
		if !slices.Contains(targets, parts[2]) {
			return include{}, false
		}
		targets = parts[2:]
	}
	if rev {
		if !slices.Contains(targets, typ) {
			return include{}, false
		}
		targets = []string{typ}
	} else if parts[0] != typ {
		return include{}, false
	}
	var known []string
	for _, t := range targets {
		if d.known(t) {
			known = append(known, t)
		}
	}
	return include{Source: parts[0], Param: parts[1], Targets: known}, len(known) > 0
}

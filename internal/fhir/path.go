package fhir

import (
	"strings"
)

// path is a FHIRPath expression of the restricted form used by the search
// parameters served: Type.a.b, optionally wrapped as "(Type.a as T)" and
// optionally ending in ".where(resolve() is T)".
type path struct {
	base  string   // the resource type the path starts at
	steps []string // element names
	// as restricts a choice element (the last step) to one type, such as
	// "dateTime" or "CodeableConcept".
	as string
	// resolveIs keeps only references to this resource type.
	resolveIs string
}

// parsePath parses one part of a search parameter expression.
func parsePath(s string) (path, bool) {
	var p path
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		inner, as, ok := strings.Cut(s[1:len(s)-1], " as ")
		if !ok || !isName(as) {
			return p, false
		}
		s, p.as = strings.TrimSpace(inner), as
	}
	if rest, ok := strings.CutSuffix(s, ")"); ok {
		head, typ, ok := strings.Cut(rest, ".where(resolve() is ")
		if !ok || !isName(typ) {
			return p, false
		}
		s, p.resolveIs = head, typ
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return p, false
	}
	for _, part := range parts {
		if !isName(part) {
			return p, false
		}
	}
	p.base, p.steps = parts[0], parts[1:]
	return p, true
}

// isName reports whether s is a FHIR element or type name.
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// eval returns the values p selects from res, with arrays flattened.
func (p path) eval(res map[string]any) []any {
	nodes := []any{res}
	for i, step := range p.steps {
		as := ""
		if i == len(p.steps)-1 {
			as = p.as
		}
		var next []any
		for _, n := range nodes {
			if m, ok := n.(map[string]any); ok {
				next = appendFlat(next, member(m, step, as)...)
			}
		}
		nodes = next
	}
	if p.resolveIs == "" {
		return nodes
	}
	out := nodes[:0]
	for _, n := range nodes {
		if ref, ok := referenceOf(n); ok && strings.HasPrefix(ref, p.resolveIs+"/") {
			out = append(out, n)
		}
	}
	return out
}

// member returns the values of element name in m. A name that is a choice
// element ("effective") matches its typed forms ("effectiveDateTime",
// "effectivePeriod"), only the one of type as when as is set.
func member(m map[string]any, name, as string) []any {
	if as != "" {
		if v, ok := m[name+strings.ToUpper(as[:1])+as[1:]]; ok {
			return []any{v}
		}
		return nil
	}
	if v, ok := m[name]; ok {
		return []any{v}
	}
	var out []any
	for k, v := range m {
		if len(k) > len(name) && strings.HasPrefix(k, name) && 'A' <= k[len(name)] && k[len(name)] <= 'Z' {
			out = append(out, v)
		}
	}
	return out
}

// appendFlat appends vs to dst, flattening JSON arrays.
func appendFlat(dst []any, vs ...any) []any {
	for _, v := range vs {
		if a, ok := v.([]any); ok {
			dst = append(dst, a...)
		} else {
			dst = append(dst, v)
		}
	}
	return dst
}

// referenceOf returns the normalized "Type/id" of a Reference value.
func referenceOf(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	s, ok := m["reference"].(string)
	if !ok {
		return "", false
	}
	return normalizeReference(s)
}

// normalizeReference turns a relative or absolute literal reference into
// "Type/id", dropping any base URL and "/_history/version". Contained
// ("#x") and unresolved "urn:" references give false.
func normalizeReference(s string) (string, bool) {
	if s == "" || strings.HasPrefix(s, "#") || strings.HasPrefix(s, "urn:") {
		return "", false
	}
	if i := strings.Index(s, "/_history/"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, "/")
	if len(parts) < 2 {
		return "", false
	}
	typ, id := parts[len(parts)-2], parts[len(parts)-1]
	if !isName(typ) || typ[0] < 'A' || typ[0] > 'Z' || !validID(id) {
		return "", false
	}
	return typ + "/" + id, true
}

// validID reports whether s is a FHIR resource id: 1 to 64 of
// [A-Za-z0-9-.].
func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

package fhir

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// parseFilter parses one occurrence of a parameter: comma-separated
// alternatives, OR-ed.
func parseFilter(sp searchParam, value string, now time.Time) (store.Filter, error) {
	alts := splitEscaped(value, ',')
	if len(alts) > maxAlternative {
		return store.Filter{}, &apiError{Status: http.StatusBadRequest, Code: "too-costly", Diagnostics: "too many values for " + sp.Code}
	}
	f := store.Filter{Param: sp.Code}
	for _, alt := range alts {
		if alt == "" {
			return store.Filter{}, invalid("empty value for " + sp.Code)
		}
		var (
			ms  []store.Match
			err error
		)
		switch sp.Type {
		case "token":
			ms, err = tokenMatch(alt)
		case "reference":
			ms, err = referenceMatch(sp, alt)
		case "date":
			ms, err = dateMatch(alt, now)
		case "string":
			ms, err = stringMatch(alt)
		}
		if err != nil {
			return store.Filter{}, invalid("invalid value for " + sp.Code)
		}
		f.Any = append(f.Any, ms...)
	}
	return f, nil
}

// tokenMatch parses "code", "system|code" or "|code".
func tokenMatch(s string) ([]store.Match, error) {
	parts := splitEscaped(s, '|')
	switch len(parts) {
	case 1:
		return []store.Match{{Value: unescape(parts[0])}}, nil
	case 2:
		if parts[1] == "" {
			return nil, errBadToken
		}
		return []store.Match{{System: unescape(parts[0]), HasSystem: true, Value: unescape(parts[1])}}, nil
	}
	return nil, errBadToken
}

// referenceMatch parses "Type/id", "id" or an absolute URL. A bare id
// matches any of the parameter's target types.
func referenceMatch(sp searchParam, s string) ([]store.Match, error) {
	s = unescape(s)
	if validID(s) {
		var ms []store.Match
		for _, t := range sp.Targets {
			ms = append(ms, store.Match{Value: t + "/" + s})
		}
		return ms, nil
	}
	ref, ok := normalizeReference(s)
	if typ, _, _ := strings.Cut(ref, "/"); !ok || !slices.Contains(sp.Targets, typ) {
		return nil, errBadToken
	}
	return []store.Match{{Value: ref}}, nil
}

// dateMatch parses a prefixed date such as "ge2019-05".
func dateMatch(s string, now time.Time) ([]store.Match, error) {
	prefix := store.PrefixEq
	if len(s) >= 2 && 'a' <= s[0] && s[0] <= 'z' {
		prefix, s = s[:2], s[2:]
	}
	switch prefix {
	case "eq", "ne", "lt", "gt", "le", "ge", "sa", "eb", "ap":
	default:
		return nil, errBadDate
	}
	lo, hi, err := dateRange(s)
	if err != nil {
		return nil, err
	}
	if prefix == store.PrefixAp {
		// Approximately: widen by 10% of the distance from now (FHIR R4
		// leaves the amount to the server), and by at least a day.
		gap := now.Sub(lo)
		if gap < 0 {
			gap = -gap
		}
		widen := max(gap/10, 24*time.Hour)
		lo, hi = lo.Add(-widen), hi.Add(widen)
	}
	return []store.Match{{Prefix: prefix, Low: lo, High: hi}}, nil
}

// stringMatch parses a string parameter's value: it matches the index
// values it is a prefix of, ignoring case (FHIR R4 search §3.1.1.4.12).
func stringMatch(s string) ([]store.Match, error) {
	v := normalizeString(unescape(s))
	if v == "" {
		return nil, errBadToken
	}
	return []store.Match{{Value: v, StartsWith: true}}, nil
}

// normalizeString is the form string values are indexed and searched in:
// lower case, with runs of white space made one space.
func normalizeString(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// splitEscaped splits s at sep, except where sep is escaped with "\".
func splitEscaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unescape removes the search escapes "\,", "\|", "\$" and "\\".
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

package fhir

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// Search limits.
const (
	defaultCount   = 50
	maxCount       = 200
	maxFilters     = 20
	maxAlternative = 50
	maxValueLen    = 1024
	offsetParam    = "_offset"
)

// search is a parsed search request.
type search struct {
	Filters []store.Filter
	Count   int
	Offset  int
	// params are the request's search parameters without _count and
	// _offset, for the paging links.
	params url.Values
}

// parseSearch checks and parses the search parameters of a search of typ
// (FHIR R4 search §3.1.1). Unknown parameters, modifiers and malformed
// values are errors: ignoring them would return more than was asked.
func (d *definitions) parseSearch(typ string, params url.Values, now time.Time) (search, error) {
	s := search{Count: defaultCount, params: url.Values{}}
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		values := params[name]
		if err := checkText(name, values); err != nil {
			return search{}, err
		}
		switch name {
		case "_count", offsetParam:
			n, err := singleInt(name, values)
			if err != nil {
				return search{}, err
			}
			if name == "_count" {
				s.Count = min(n, maxCount)
			} else {
				s.Offset = n
			}
			continue
		case "_format":
			if err := checkFormat(values); err != nil {
				return search{}, err
			}
			continue
		}
		sp, ok := d.param(typ, name)
		if !ok {
			return search{}, unsupportedParam(name)
		}
		for _, v := range values {
			f, err := parseFilter(sp, v, now)
			if err != nil {
				return search{}, err
			}
			s.Filters = append(s.Filters, f)
			s.params.Add(name, v)
		}
	}
	if len(s.Filters) > maxFilters {
		return search{}, &apiError{Status: http.StatusBadRequest, Code: "too-costly", Diagnostics: "too many search parameters"}
	}
	return s, nil
}

func invalid(msg string) error {
	return &apiError{Status: http.StatusBadRequest, Code: "invalid", Diagnostics: msg}
}

func unsupportedParam(name string) error {
	if len(name) > 64 {
		name = name[:64]
	}
	return &apiError{Status: http.StatusBadRequest, Code: "not-supported",
		Diagnostics: "unsupported search parameter " + strconv.Quote(name)}
}

// checkText refuses invalid UTF-8 and over-long values.
func checkText(name string, values []string) error {
	if !utf8.ValidString(name) {
		return invalid("search parameter is not valid UTF-8")
	}
	for _, v := range values {
		if !utf8.ValidString(v) {
			return invalid("search parameter value is not valid UTF-8")
		}
		if len(v) > maxValueLen {
			return &apiError{Status: http.StatusBadRequest, Code: "too-costly", Diagnostics: "search parameter value too long"}
		}
	}
	return nil
}

func singleInt(name string, values []string) (int, error) {
	if len(values) != 1 {
		return 0, invalid(name + " must be given once")
	}
	n, err := strconv.Atoi(values[0])
	if err != nil || n < 0 || n > 1_000_000 {
		return 0, invalid(name + " must be a non-negative integer")
	}
	return n, nil
}

func checkFormat(values []string) error {
	for _, v := range values {
		switch v {
		case "json", "application/json", "application/fhir+json":
		default:
			return &apiError{Status: http.StatusBadRequest, Code: "not-supported", Diagnostics: "only JSON is supported"}
		}
	}
	return nil
}

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
	if !ok {
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

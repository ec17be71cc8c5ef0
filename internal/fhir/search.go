package fhir

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"maps"
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
	maxIncludes    = 10
	maxAlternative = 50
	maxValueLen    = 1024
	offsetParam    = "_offset"
	// bindingParam carries, in next and previous links, a digest of the
	// authorization the links were made for; a link followed with another
	// authorization's token is refused.
	bindingParam = "_binding"
)

// search is a parsed search request.
type search struct {
	// Filters must all match; a chained parameter is a Filter whose
	// matches have a Target.
	Filters []store.Filter
	// Has are the _has conditions (FHIR R4 search §3.1.1.5.8).
	Has []store.Link
	// Include and RevInclude are the _include and _revinclude requests.
	Include, RevInclude []include
	Count               int
	Offset              int
	// binding is the bindingParam a paging link came with ("" on a first
	// request); bindPages replaces it with the caller's own.
	binding string
	// Sort is the order _sort asks for.
	Sort []store.SortKey
	// Elements, when set, are the top-level elements _elements asks the
	// matches to be cut down to.
	Elements []string
	// params are the applied search parameters without _count and
	// _offset, for the self and paging links.
	params url.Values
	// ignored are the parameters left out under lenient handling.
	ignored []string
}

// include is one _include or _revinclude: resources of Source that
// reference resources of Targets through the reference parameter Param.
type include struct {
	Source  string
	Param   string
	Targets []string
}

// parseSearch checks and parses the search parameters of a search of typ
// (FHIR R4 search §3.1.1). A parameter the server does not support (an
// unknown name, modifier, chain or _include value) is refused when strict
// is set (Prefer: handling=strict), and otherwise left out and listed in
// ignored, so that the self link shows only what was applied (FHIR R4
// search §3.1.1.3.1). A malformed value of a supported parameter is always
// refused.
func (d *definitions) parseSearch(typ string, params url.Values, strict bool, now time.Time) (search, error) {
	s := search{Count: defaultCount, params: url.Values{}}
	for _, name := range slices.Sorted(maps.Keys(params)) {
		values := params[name]
		if err := checkText(name, values); err != nil {
			return search{}, err
		}
		if name == "_sort" {
			keys, ok, err := d.parseSort(typ, values)
			switch {
			case err != nil:
				return search{}, err
			case ok:
				s.Sort = keys
				s.params.Set(name, strings.Join(values, ","))
			case strict:
				return search{}, unsupportedParam(name)
			default:
				s.ignored = append(s.ignored, name)
			}
			continue
		}
		done, err := s.parseResultParam(name, values)
		if err != nil {
			return search{}, err
		}
		if done {
			continue
		}
		for _, v := range values {
			ok, err := s.add(d, typ, name, v, now)
			if err != nil {
				return search{}, err
			}
			if ok {
				s.params.Add(name, v)
				continue
			}
			label := name
			if name == "_include" || name == "_revinclude" {
				label += "=" + v
			}
			if strict {
				return search{}, unsupportedParam(label)
			}
			if !slices.Contains(s.ignored, label) {
				s.ignored = append(s.ignored, label)
			}
		}
	}
	if len(s.Filters)+len(s.Has) > maxFilters || len(s.Include)+len(s.RevInclude) > maxIncludes {
		return search{}, &apiError{Status: http.StatusBadRequest, Code: "too-costly", Diagnostics: "too many search parameters"}
	}
	return s, nil
}

// parseResultParam handles the result parameters (isResultParam),
// reporting whether name was one of them.
func (s *search) parseResultParam(name string, values []string) (bool, error) {
	switch name {
	case "_count", offsetParam:
		n, err := singleInt(name, values)
		if err != nil {
			return true, err
		}
		if name == "_count" {
			s.Count = min(n, maxCount)
		} else {
			s.Offset = n
		}
		return true, nil
	case "_format":
		return true, checkFormat(values)
	case bindingParam:
		v, err := single(name, values)
		s.binding = v
		return true, err
	case "_summary":
		// _summary=count is _count=0: only the total, which counts only
		// what the token may search (FHIR R4 search §3.1.1.5.7). Summaries
		// of resource content are not offered; "false" is the default.
		switch v, err := single(name, values); {
		case err != nil:
			return true, err
		case v == "count":
			s.Count = 0
			s.params.Set(name, v)
		case v != "false":
			return true, &apiError{Status: http.StatusBadRequest, Code: "not-supported",
				Diagnostics: `_summary supports "count" and "false" only`}
		}
		return true, nil
	case "_elements":
		names, err := parseElements(values)
		if err != nil {
			return true, err
		}
		s.Elements = names
		s.params.Set(name, strings.Join(names, ","))
		return true, nil
	case "_total":
		// Every total is accurate; the hint is checked, then honoured by
		// giving more than asked for (FHIR R4 search §3.1.1.5.6).
		switch v, err := single(name, values); {
		case err != nil:
			return true, err
		case v != "none" && v != "estimate" && v != "accurate":
			return true, invalid(`_total must be "none", "estimate" or "accurate"`)
		}
		return true, nil
	}
	return false, nil
}

// parseSort parses _sort (FHIR R4 search §3.1.1.5.3): comma-separated
// keys, each "-" for descending, among _lastUpdated and typ's date
// parameters. It reports false, with no error, when a key is some other
// parameter (unsupported, for the caller's handling).
func (d *definitions) parseSort(typ string, values []string) ([]store.SortKey, bool, error) {
	if len(values) != 1 {
		return nil, false, invalid("_sort must be given once")
	}
	var keys []store.SortKey
	for _, k := range strings.Split(values[0], ",") {
		name, desc := strings.CutPrefix(k, "-")
		if name == "" || len(keys) == 5 {
			return nil, false, invalid("_sort lists one to five comma-separated parameters, each - for descending")
		}
		if sp, ok := d.plainParam(typ, name); name != "_lastUpdated" && (!ok || sp.Type != "date" || strings.Contains(name, ":")) {
			return nil, false, nil
		}
		keys = append(keys, store.SortKey{Param: name, Desc: desc})
	}
	return keys, true, nil
}

// isResultParam reports whether name is a result parameter that
// parseResultParam handles, for every kind of search and history.
func isResultParam(name string) bool {
	switch name {
	case "_count", offsetParam, "_format", "_summary", "_total", "_elements", bindingParam:
		return true
	}
	return false
}

// bindPages checks that a paging link is followed with a token of the
// authorization it was made for, and binds the links of this answer to
// the caller's (issue 10: "a paging link is bound to the token that made
// it"). Rotated tokens of one authorization share its links.
func bindPages(q *search, a Access) error {
	key := a.AuthorizationID
	if key == "" {
		key = a.ClientID + "\x00" + a.Patient
	}
	sum := sha256.Sum256([]byte("smartlaunch paging\x00" + key))
	mine := base64.RawURLEncoding.EncodeToString(sum[:12])
	if q.binding != "" && subtle.ConstantTimeCompare([]byte(q.binding), []byte(mine)) != 1 {
		return forbidden("this paging link was made for another authorization")
	}
	q.binding = mine
	return nil
}

// single returns the one value of a parameter that may not repeat.
func single(name string, values []string) (string, error) {
	if len(values) != 1 {
		return "", invalid(name + " must be given once")
	}
	return values[0], nil
}

// add parses one value of parameter name into s. It reports false, with
// no error, when the server does not support the parameter or, for
// _include and _revinclude, the value.
func (s *search) add(d *definitions, typ, name, value string, now time.Time) (bool, error) {
	switch {
	case name == "_include" || name == "_revinclude":
		inc, ok := d.parseInclude(typ, value, name == "_revinclude")
		if ok && name == "_include" {
			s.Include = append(s.Include, inc)
		} else if ok {
			s.RevInclude = append(s.RevInclude, inc)
		}
		return ok, nil
	case strings.HasPrefix(name, "_has:"):
		l, ok, err := d.parseHas(typ, name, value, now)
		if ok {
			s.Has = append(s.Has, l)
		}
		return ok, err
	case strings.Contains(name, "."):
		f, ok, err := d.parseChain(typ, name, value, now)
		if ok {
			s.Filters = append(s.Filters, f)
		}
		return ok, err
	}
	sp, ok := d.plainParam(typ, name)
	if !ok {
		return false, nil
	}
	f, err := parseFilter(sp, value, now)
	if err != nil {
		return false, err
	}
	s.Filters = append(s.Filters, f)
	return true, nil
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
	v, err := single(name, values)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(v)
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

// strictHandling reports whether the request asks for strict handling of
// unsupported search parameters ("Prefer: handling=strict", FHIR R4
// search §3.1.1.3.1); lenient is the default.
func strictHandling(r *http.Request) bool {
	for _, h := range r.Header.Values("Prefer") {
		for _, part := range strings.FieldsFunc(h, func(c rune) bool { return c == ',' || c == ';' }) {
			k, v, _ := strings.Cut(part, "=")
			if strings.EqualFold(strings.TrimSpace(k), "handling") &&
				strings.EqualFold(strings.Trim(strings.TrimSpace(v), `"`), "strict") {
				return true
			}
		}
	}
	return false
}

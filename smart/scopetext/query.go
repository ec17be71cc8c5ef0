package scopetext

import (
	"net/url"
	"slices"
	"strings"
)

// queryNames names the data a query-based scope keeps, such as "lab
// results" for category=laboratory on Observation, and reports whether it
// could. It can when the query is a single parameter, category or code,
// given once, whose comma-separated values (alternatives, as in a FHIR
// search) are each a code listed for resourceType in catalogs/queries.json,
// written bare ("laboratory") or with one of the entry's systems
// ("http://terminology.hl7.org/CodeSystem/observation-category|laboratory").
// Modifiers ("category:not"), chains, other parameters, several parameters,
// unknown systems and unknown codes cannot be named.
func (c *Catalog) queryNames(i int, resourceType string, q url.Values) (string, bool) {
	if len(q) != 1 {
		return "", false
	}
	var entries []queryEntry
	var value string
	for param, values := range q {
		if len(values) != 1 {
			return "", false
		}
		value = values[0]
		switch param {
		case "category":
			entries = c.queries.Categories[resourceType]
		case "code":
			entries = c.queries.Codes[resourceType]
		}
	}
	if len(entries) == 0 {
		return "", false
	}
	var keys, names []string // names keep their [detail] parts for nameForms
	for _, alt := range strings.Split(value, ",") {
		e, ok := findEntry(entries, alt)
		if !ok {
			return "", false
		}
		if slices.Contains(keys, e.Key) {
			continue
		}
		keys = append(keys, e.Key)
		names = append(names, c.text(i, func(l *locale) string { return l.Queries[e.Key] }))
	}
	return c.join(i, names), true
}

// findEntry finds the entry for one token search value: "code" or
// "system|code" (FHIR R4 search, token parameters).
func findEntry(entries []queryEntry, token string) (queryEntry, bool) {
	system, code, hasSystem := strings.Cut(token, "|")
	if !hasSystem {
		system, code = "", token
	}
	if code == "" {
		return queryEntry{}, false
	}
	for _, e := range entries {
		if e.Code == code && (!hasSystem || slices.Contains(e.Systems, system)) {
			return e, true
		}
	}
	return queryEntry{}, false
}

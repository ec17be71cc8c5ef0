package fhir

import (
	"encoding/json"
	"strings"
)

// maxElements bounds the names one _elements parameter may list.
const maxElements = 50

// alwaysKept are the elements a subset keeps whatever _elements asks for:
// what identifies the resource, and the elements that change the meaning
// of the rest (FHIR R4 search §3.1.1.5.9: "Servers SHOULD always return
// mandatory elements").
var alwaysKept = []string{"resourceType", "id", "meta", "implicitRules", "modifierExtension"}

// parseElements parses the values of _elements: comma-separated names of
// top-level elements ("status", "code", "value" for every value[x]).
func parseElements(values []string) ([]string, error) {
	var names []string
	for _, v := range values {
		for _, n := range strings.Split(v, ",") {
			n = strings.TrimSuffix(strings.TrimSpace(n), "[x]")
			if !isElementName(n) {
				return nil, invalid("_elements lists top-level element names, such as status,code,value")
			}
			names = append(names, n)
		}
	}
	if len(names) == 0 || len(names) > maxElements {
		return nil, invalid("_elements must list between 1 and 50 element names")
	}
	return names, nil
}

// isElementName reports whether n is a plain FHIR element name: a lower
// case letter, then letters and digits.
func isElementName(n string) bool {
	if n == "" || len(n) > 64 || n[0] < 'a' || n[0] > 'z' {
		return false
	}
	for _, c := range []byte(n) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// subsettedTag marks a resource that lacks elements it has (FHIR R4
// search §3.1.1.5.9).
var subsettedTag = json.RawMessage(`{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED","display":"subsetted"}`)

// subset returns resource with only the named top-level elements (a name
// also keeps its choice-type forms: "value" keeps valueQuantity) and those
// in alwaysKept, tagged SUBSETTED. A resource that cannot be read as a
// JSON object is returned unchanged.
func subset(resource []byte, names []string) []byte {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(resource, &all); err != nil {
		return resource
	}
	kept := make(map[string]json.RawMessage, len(names)+len(alwaysKept))
	for key, v := range all {
		if wanted(key, names) {
			kept[key] = v
		}
	}
	var meta map[string]json.RawMessage
	if err := json.Unmarshal(all["meta"], &meta); err != nil || meta == nil {
		meta = map[string]json.RawMessage{}
	}
	var tags []json.RawMessage
	_ = json.Unmarshal(meta["tag"], &tags)
	meta["tag"], _ = json.Marshal(append(tags, subsettedTag))
	kept["meta"], _ = json.Marshal(meta)
	b, err := json.Marshal(kept)
	if err != nil {
		return resource
	}
	return b
}

// wanted reports whether the top-level key is asked for or always kept.
func wanted(key string, names []string) bool {
	for _, n := range alwaysKept {
		if key == n {
			return true
		}
	}
	for _, n := range names {
		if key == n || (strings.HasPrefix(key, n) && len(key) > len(n) && 'A' <= key[len(n)] && key[len(n)] <= 'Z') {
			return true
		}
	}
	return false
}

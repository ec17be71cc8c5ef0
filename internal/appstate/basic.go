package appstate

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// subjectTypes are the resource types a state's subject may reference
// (R-STATE-14).
var subjectTypes = []string{"Patient", "Practitioner", "PractitionerRole", "RelatedPerson", "Person"}

// basic is a received Basic resource: its top-level elements as received
// and the values the server checks (SMART profile smart-app-state-basic,
// R-STATE-05, R-STATE-13).
type basic struct {
	elems map[string]json.RawMessage
	// id and versionID are as received; hasVersion reports meta.versionId.
	id         string
	hasVersion bool
	// code is "system|code" of the one code.coding.
	code string
	// subject is subject.reference, "" when there is no subject.
	subject string
}

// readBody reads a request body of at most h.maxBytes (413 beyond,
// R-STATE-13) in a JSON media type (415 otherwise).
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != contentType && mt != "application/json") {
			return nil, &apiError{Status: http.StatusUnsupportedMediaType, Code: "not-supported",
				Diagnostics: "the body must be application/fhir+json"}
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too-costly",
			Diagnostics: "the resource is larger than this server accepts (" + strconv.FormatInt(h.maxBytes, 10) + " bytes)"}
	case err != nil:
		return nil, &apiError{Status: http.StatusBadRequest, Code: "invalid", Diagnostics: "the body could not be read", Cause: err}
	}
	return b, nil
}

// parseBasic parses and checks a Basic resource against the App State
// profile: resourceType Basic, exactly one code.coding with system and
// code, at most one subject given by reference, extensions carrying only
// valueString, and no modifierExtension. The subject's form is checked by
// the caller (checkSubject).
func parseBasic(b []byte) (basic, error) {
	var res basic
	if err := json.Unmarshal(b, &res.elems); err != nil || res.elems == nil {
		return res, invalid("the body must be a JSON object")
	}
	var rt string
	if json.Unmarshal(res.elems["resourceType"], &rt) != nil || rt != "Basic" {
		return res, invalid("resourceType must be Basic")
	}
	if raw, ok := res.elems["id"]; ok && json.Unmarshal(raw, &res.id) != nil {
		return res, invalid("id must be a string")
	}
	if raw, ok := res.elems["meta"]; ok {
		var meta map[string]json.RawMessage
		if json.Unmarshal(raw, &meta) != nil {
			return res, invalid("meta must be an object")
		}
		_, res.hasVersion = meta["versionId"]
	}
	var code struct {
		Coding []struct {
			System string `json:"system"`
			Code   string `json:"code"`
		} `json:"coding"`
	}
	if json.Unmarshal(res.elems["code"], &code) != nil || len(code.Coding) != 1 ||
		code.Coding[0].System == "" || code.Coding[0].Code == "" {
		return res, invalid("code.coding must hold exactly one coding with a system and a code")
	}
	res.code = code.Coding[0].System + "|" + code.Coding[0].Code
	if raw, ok := res.elems["subject"]; ok {
		var subject struct {
			Reference string `json:"reference"`
		}
		if json.Unmarshal(raw, &subject) != nil || subject.Reference == "" {
			return res, invalid("subject must be one reference")
		}
		res.subject = subject.Reference
	}
	if _, ok := res.elems["modifierExtension"]; ok {
		return res, invalid("modifierExtension is not accepted")
	}
	if raw, ok := res.elems["extension"]; ok {
		if err := checkExtensions(raw); err != nil {
			return res, err
		}
	}
	return res, nil
}

// checkExtensions accepts extensions that have a url and a valueString
// and nothing else but an id (R-STATE-05, R-STATE-13).
func checkExtensions(raw json.RawMessage) error {
	var exts []map[string]json.RawMessage
	if json.Unmarshal(raw, &exts) != nil {
		return invalid("extension must be an array of objects")
	}
	for _, e := range exts {
		var url, value string
		raw := e["valueString"]
		if json.Unmarshal(e["url"], &url) != nil || url == "" || json.Unmarshal(raw, &value) != nil || string(raw) == "null" {
			return invalid("each extension must have a url and a valueString")
		}
		for k := range e {
			if k != "url" && k != "valueString" && k != "id" {
				return invalid("extensions may carry only a url and a valueString")
			}
		}
	}
	return nil
}

// checkSubject refuses a subject that is not an absolute reference into
// the primary FHIR server to a resource of one of subjectTypes
// (R-STATE-13, R-STATE-14). The empty subject (global state) passes.
func (h *Handler) checkSubject(ref string) error {
	if ref == "" {
		return nil
	}
	rel, ok := strings.CutPrefix(ref, h.fhirBase+"/")
	typ, id, _ := strings.Cut(rel, "/")
	if !ok || !slices.Contains(subjectTypes, typ) || !validID(id) {
		return invalid("subject must be an absolute reference " + h.fhirBase +
			"/{type}/{id} to a Patient, Practitioner, PractitionerRole, RelatedPerson or Person")
	}
	return nil
}

// encode returns res as stored and served: its elements as received, with
// id and meta.versionId and meta.lastUpdated set by the server, compact,
// resourceType first.
func (res basic) encode(id string, version int64, updated time.Time) ([]byte, error) {
	var meta map[string]json.RawMessage
	if raw, ok := res.elems["meta"]; ok {
		if err := json.Unmarshal(raw, &meta); err != nil {
			return nil, err
		}
	}
	if meta == nil {
		meta = map[string]json.RawMessage{}
	}
	meta["versionId"], _ = json.Marshal(strconv.FormatInt(version, 10))
	meta["lastUpdated"], _ = json.Marshal(updated.UTC().Format(time.RFC3339Nano))
	elems := maps.Clone(res.elems)
	elems["id"], _ = json.Marshal(id)
	var err error
	if elems["meta"], err = json.Marshal(meta); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(elems))
	for k := range elems {
		if k != "resourceType" && k != "id" && k != "meta" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range append([]string{"resourceType", "id", "meta"}, keys...) {
		if i > 0 {
			buf.WriteByte(',')
		}
		name, _ := json.Marshal(k)
		buf.Write(name)
		buf.WriteByte(':')
		if err := json.Compact(&buf, elems[k]); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// validID reports whether s is a FHIR id: 1 to 64 of A-Z a-z 0-9 - and .
func validID(s string) bool {
	if s == "" || len(s) > 64 {
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

// etag is the weak ETag of a version (FHIR R4 http "Managing Resource
// Contention").
func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// parseIfMatch returns the version an If-Match header names: W/"n" or
// "n". It reports false for an absent, malformed or "*" value.
func parseIfMatch(v string) (int64, bool) {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(v, "W/")
	if len(v) < 3 || v[0] != '"' || v[len(v)-1] != '"' {
		return 0, false
	}
	n, err := strconv.ParseInt(v[1:len(v)-1], 10, 64)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

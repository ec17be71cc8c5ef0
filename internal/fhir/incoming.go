package fhir

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// maxResourceBody is the largest resource, patch or Bundle accepted.
const maxResourceBody = 8 << 20

// readBody reads a request body of one of the media types accepted,
// refusing others with 415 and bodies over maxResourceBody with 413.
func readBody(w http.ResponseWriter, r *http.Request, types ...string) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !slices.Contains(types, mt) {
		return nil, &apiError{Status: http.StatusUnsupportedMediaType, Code: "not-supported",
			Diagnostics: "the body must be " + strings.Join(types, " or ")}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxResourceBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too-costly", Diagnostics: "request body too large"}
		}
		return nil, invalid("unreadable request body")
	}
	return b, nil
}

// resourceTypes are the media types a resource body may have.
var resourceTypes = []string{contentType, "application/json", "application/json+fhir"}

// parseResource decodes body as a resource of typ and validates it
// (checkResource).
func (d *definitions) parseResource(body []byte, typ string) (map[string]any, error) {
	res, err := decodeObject(body)
	if err != nil {
		return nil, invalid("the body is not a JSON object")
	}
	if err := d.checkResource(res, typ); err != nil {
		return nil, err
	}
	return res, nil
}

// checkResource is the validation every incoming resource passes: its
// resourceType is typ, its id (when present) is a FHIR id, meta is an
// object, and every literal reference anywhere in it is well formed —
// "Type/id" of a known type (optionally "/_history/vid"), an absolute
// http(s) URL, or "#id" of a contained resource. It is basic, not a
// profile validation.
func (d *definitions) checkResource(res map[string]any, typ string) error {
	if rt, _ := res["resourceType"].(string); rt != typ {
		return invalid("resourceType must be " + typ)
	}
	if id, ok := res["id"]; ok {
		if s, _ := id.(string); !validID(s) {
			return invalid("id must be 1 to 64 letters, digits, '-' or '.'")
		}
	}
	if meta, ok := res["meta"]; ok {
		if _, isObj := meta.(map[string]any); !isObj {
			return invalid("meta must be an object")
		}
	}
	for k := range res {
		for _, owned := range []string{"resourceType", "id", "meta"} {
			if k != owned && strings.EqualFold(k, owned) {
				return invalid("element " + strconv.Quote(truncate(k, 64)) + " differs from " + owned + " only in case")
			}
		}
	}
	if err := checkNames(res, 0); err != nil {
		return err
	}
	return d.checkReferences(res, "", 0)
}

// checkNames refuses objects with two member names that differ only in
// case: FHIR JSON is case-sensitive, but many JSON decoders are not, and a
// resource must not mean one thing to this server's checks and another to
// its clients.
func checkNames(v any, depth int) error {
	if depth > maxDepth {
		return invalid("the resource is nested too deeply")
	}
	switch v := v.(type) {
	case map[string]any:
		seen := make(map[string]bool, len(v))
		for k, x := range v {
			lk := strings.ToLower(k)
			if seen[lk] {
				return invalid("element names that differ only in case: " + strconv.Quote(truncate(k, 64)))
			}
			seen[lk] = true
			if err := checkNames(x, depth+1); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range v {
			if err := checkNames(x, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxDepth bounds the nesting of an incoming resource.
const maxDepth = 64

// checkReferences walks v, checking every "reference" member.
func (d *definitions) checkReferences(v any, key string, depth int) error {
	if depth > maxDepth {
		return invalid("the resource is nested too deeply")
	}
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "reference" {
				s, ok := x.(string)
				if !ok || !d.wellFormedReference(s) {
					return invalid("malformed reference " + strconv.Quote(truncate(s, 100)) +
						": use Type/id, an absolute URL or #contained-id")
				}
				continue
			}
			if err := d.checkReferences(x, k, depth+1); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range v {
			if err := d.checkReferences(x, key, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// wellFormedReference reports whether s is a literal reference the server
// accepts in a written resource.
func (d *definitions) wellFormedReference(s string) bool {
	if id, ok := strings.CutPrefix(s, "#"); ok {
		return id == "" || validID(id)
	}
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		u, err := url.Parse(s)
		return err == nil && u.Host != "" && u.RawQuery == "" && u.Fragment == ""
	}
	rel := s
	if i := strings.Index(rel, "/_history/"); i >= 0 {
		if !validID(rel[i+len("/_history/"):]) {
			return false
		}
		rel = rel[:i]
	}
	typ, id, ok := strings.Cut(rel, "/")
	return ok && isName(typ) && typ[0] >= 'A' && typ[0] <= 'Z' && validID(id)
}

// newID returns a fresh server-assigned resource id: 32 hex digits.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// stamp makes res version vid of typ/id written at now: it sets id,
// meta.versionId and meta.lastUpdated (FHIR R4 http §3.1.0.1.1: the server
// owns them), encodes and indexes it.
func (d *definitions) stamp(res map[string]any, id, vid string, now time.Time) (store.Resource, error) {
	now = now.UTC().Truncate(time.Millisecond)
	res["id"] = id
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	meta["versionId"] = vid
	meta["lastUpdated"] = now.Format("2006-01-02T15:04:05.000Z07:00")
	r, err := d.index(res)
	if err != nil {
		return store.Resource{}, invalid("the resource cannot be indexed")
	}
	if r.JSON, err = encodeResource(res); err != nil {
		return store.Resource{}, err
	}
	r.VersionID, r.LastUpdated = vid, now
	return r, nil
}

// nextVersion is the version id that follows vid ("" when there is none).
func nextVersion(vid string) string {
	n, err := strconv.Atoi(vid)
	if err != nil || n < 0 {
		n = 0
	}
	return strconv.Itoa(n + 1)
}

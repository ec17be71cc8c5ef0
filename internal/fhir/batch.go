package fhir

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
)

// maxEntries bounds the entries of one batch or transaction.
const maxEntries = 1000

// inBundle is a batch or transaction Bundle as received.
type inBundle struct {
	ResourceType string
	Type         string
	Entry        []inEntry
}

// inEntry is one entry of a batch or transaction (FHIR R4 Bundle.entry).
type inEntry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	Request  *struct {
		Method, URL                                        string
		IfMatch, IfNoneMatch, IfModifiedSince, IfNoneExist string
	} `json:"request"`
}

// outBundle is a batch-response or transaction-response Bundle.
type outBundle struct {
	ResourceType string     `json:"resourceType"`
	Type         string     `json:"type"`
	Entry        []outEntry `json:"entry"`
}

type outEntry struct {
	Resource json.RawMessage `json:"resource,omitempty"`
	Response outResponse     `json:"response"`
}

type outResponse struct {
	Status       string          `json:"status"`
	Location     string          `json:"location,omitempty"`
	Etag         string          `json:"etag,omitempty"`
	LastModified string          `json:"lastModified,omitempty"`
	Outcome      json.RawMessage `json:"outcome,omitempty"`
}

// bundle serves POST / with a batch or transaction Bundle (FHIR R4 http
// §3.1.0.11). No scope covers a Bundle as such (R-SCOPE-09): every entry
// is authorized exactly as if it had been sent alone.
func (s *Server) bundle(w http.ResponseWriter, r *http.Request, a Access) error {
	body, err := readBody(w, r, resourceTypes...)
	if err != nil {
		return err
	}
	var in inBundle
	if err := json.Unmarshal(body, &in); err != nil || in.ResourceType != "Bundle" {
		return invalid("the body must be a Bundle")
	}
	if len(in.Entry) > maxEntries {
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too-costly", Diagnostics: "a Bundle may hold at most 1000 entries"}
	}
	for i, e := range in.Entry {
		if e.Request == nil || !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, e.Request.Method) || e.Request.URL == "" {
			return invalid(fmt.Sprintf("entry %d: request.method (GET, POST, PUT, PATCH or DELETE) and request.url are required", i))
		}
	}
	var out outBundle
	switch in.Type {
	case "batch":
		out = s.batch(r, a, in.Entry)
	case "transaction":
		if s.proxy != nil {
			return s.proxyTransaction(w, r, a, in.Entry)
		}
		if out, err = s.transaction(r, a, in.Entry); err != nil {
			return err
		}
	default:
		return invalid("only batch and transaction Bundles can be processed")
	}
	fhirwire.WriteJSON(w, http.StatusOK, out)
	return nil
}

// batch runs every entry on its own, as a request of its own through the
// same route, and answers each entry's result (FHIR R4 http §3.1.0.11.1):
// one entry's failure affects no other.
func (s *Server) batch(r *http.Request, a Access, entries []inEntry) outBundle {
	out := outBundle{ResourceType: "Bundle", Type: "batch-response", Entry: make([]outEntry, len(entries))}
	for i, e := range entries {
		out.Entry[i] = s.runEntry(r, a, e)
	}
	return out
}

// runEntry serves one entry as the request it describes, and returns its
// result.
func (s *Server) runEntry(outer *http.Request, a Access, e inEntry) outEntry {
	rec := newRecorder()
	req, err := s.entryRequest(outer, e)
	if err == nil {
		err = s.route(rec, req, a)
	}
	if err != nil {
		rec = newRecorder()
		s.writeError(rec, outer, err)
	}
	return rec.entry()
}

// entryRequest builds the request an entry describes: its method, URL
// (relative to the base, or absolute under it), body and conditions. A
// PATCH carries its JSON Patch as a Binary resource. An entry cannot be a
// Bundle of its own.
func (s *Server) entryRequest(outer *http.Request, e inEntry) (*http.Request, error) {
	ref := strings.TrimPrefix(e.Request.URL, s.base+"/")
	if strings.HasPrefix(ref, "/") || strings.Contains(ref, "://") || ref == "" || ref == "_search" || strings.HasPrefix(ref, "?") {
		return nil, invalid("request.url must be a path relative to the FHIR base, such as Patient/123")
	}
	body, ctype := []byte(e.Resource), contentType
	if e.Request.Method == http.MethodPatch {
		var err error
		if body, ctype, err = patchOf(e); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(outer.Context(), e.Request.Method, "/"+ref, bytes.NewReader(body))
	if err != nil {
		return nil, invalid("malformed request.url")
	}
	h := req.Header
	h.Set("Content-Type", ctype)
	for name, v := range map[string]string{"If-Match": e.Request.IfMatch, "If-None-Match": e.Request.IfNoneMatch,
		"If-Modified-Since": e.Request.IfModifiedSince, "If-None-Exist": e.Request.IfNoneExist} {
		if v != "" {
			h.Set(name, v)
		}
	}
	if p := outer.Header.Values("Prefer"); len(p) > 0 {
		h["Prefer"] = p
	}
	return req, nil
}

// patchOf returns the patch a PATCH entry carries as a Binary resource,
// and its media type.
func patchOf(e inEntry) ([]byte, string, error) {
	var bin struct{ ResourceType, ContentType, Data string }
	if err := json.Unmarshal(e.Resource, &bin); err != nil || bin.ResourceType != "Binary" {
		return nil, "", invalid("a PATCH entry carries its JSON Patch as a Binary resource")
	}
	body, err := base64.StdEncoding.DecodeString(bin.Data)
	if err != nil {
		return nil, "", invalid("the Binary of a PATCH entry is not base64")
	}
	return body, bin.ContentType, nil
}

// recorder captures the answer to one entry.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (rec *recorder) Header() http.Header { return rec.header }

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.body.Write(b)
}

func (rec *recorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
}

// entry is the recorded answer as a response entry: a success carries its
// body as the resource, a failure as the outcome.
func (rec *recorder) entry() outEntry {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	e := outEntry{Response: outResponse{
		Status:   fmt.Sprintf("%d %s", rec.status, http.StatusText(rec.status)),
		Location: rec.header.Get("Location"),
		Etag:     rec.header.Get("ETag"),
	}}
	if t, err := http.ParseTime(rec.header.Get("Last-Modified")); err == nil {
		e.Response.LastModified = t.UTC().Format(time.RFC3339)
	}
	if rec.body.Len() > 0 && json.Valid(rec.body.Bytes()) {
		if rec.status >= 400 {
			e.Response.Outcome = rec.body.Bytes()
		} else {
			e.Resource = rec.body.Bytes()
		}
	}
	return e
}

// entryError names the entry an error came from, keeping its status.
func entryError(i int, err error) error {
	var ae *apiError
	if !errors.As(err, &ae) {
		return err
	}
	c := *ae
	c.Diagnostics = fmt.Sprintf("entry %d: %s", i, ae.Diagnostics)
	return &c
}

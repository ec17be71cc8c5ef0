package fhir

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/sampledata"
)

// loadBatch is how many resources one store transaction holds.
const loadBatch = 1000

// Load reads every *.json transaction Bundle under patients/ in fsys and
// upserts its resources into st by type and id. It uses the definitions
// under definitions/ in fsys, or those embedded in package sampledata when
// fsys has none. Within a Bundle, "urn:uuid:" references are rewritten to
// "Type/id"; ids are kept; meta.versionId is set to "1" and
// meta.lastUpdated to the load time when absent. Loading the same files
// again leaves the same resources. Load returns the number of Bundle
// entries it stored (a resource shared by several Bundles counts once per
// Bundle).
func Load(ctx context.Context, st store.Resources, fsys fs.FS) (int, error) {
	src := fsys
	if _, err := fs.Stat(fsys, searchParamFile); errors.Is(err, fs.ErrNotExist) {
		src = sampledata.FS
	}
	defs, err := loadDefinitions(src)
	if err != nil {
		return 0, err
	}
	files, err := fs.Glob(fsys, "patients/*.json")
	if err != nil {
		return 0, fmt.Errorf("fhir: load: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	var batch []store.Resource
	n := 0
	for _, name := range files {
		rs, err := loadBundle(fsys, name, defs, now)
		if err != nil {
			return n, err
		}
		batch = append(batch, rs...)
		if len(batch) >= loadBatch {
			if err := st.PutResources(ctx, batch); err != nil {
				return n, fmt.Errorf("fhir: load: %w", err)
			}
			n, batch = n+len(batch), batch[:0]
		}
	}
	if len(batch) > 0 {
		if err := st.PutResources(ctx, batch); err != nil {
			return n, fmt.Errorf("fhir: load: %w", err)
		}
		n += len(batch)
	}
	return n, nil
}

// txBundle is the part of a transaction Bundle the loader reads.
type txBundle struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Entry        []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Request  struct {
			Method string `json:"method"`
			URL    string `json:"url"`
		} `json:"request"`
	} `json:"entry"`
}

// loadBundle parses one transaction Bundle into indexed resources.
func loadBundle(fsys fs.FS, name string, defs *definitions, now time.Time) ([]store.Resource, error) {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("fhir: load: %w", err)
	}
	var b txBundle
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("fhir: load %s: %w", name, err)
	}
	if b.ResourceType != "Bundle" || (b.Type != "transaction" && b.Type != "batch") {
		return nil, fmt.Errorf("fhir: load %s: not a transaction Bundle", name)
	}
	parsed := make([]map[string]any, len(b.Entry))
	refs := map[string]string{} // fullUrl -> "Type/id"
	for i, e := range b.Entry {
		res, err := decodeObject(e.Resource)
		if err != nil {
			return nil, fmt.Errorf("fhir: load %s: entry %d: %w", name, i, err)
		}
		typ, _ := res["resourceType"].(string)
		if _, ok := res["id"].(string); !ok {
			res["id"] = entryID(e.FullURL, e.Request.URL)
		}
		if e.FullURL != "" {
			refs[e.FullURL] = typ + "/" + res["id"].(string)
		}
		parsed[i] = res
	}
	out := make([]store.Resource, 0, len(parsed))
	for i, res := range parsed {
		rewriteRefs(res, refs)
		r, err := prepare(res, defs, now)
		if err != nil {
			return nil, fmt.Errorf("fhir: load %s: entry %d: %w", name, i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// entryID is the id of a resource that has none: from a PUT "Type/id"
// request URL, else from a "urn:uuid:" fullUrl.
func entryID(fullURL, requestURL string) string {
	if typ, id, ok := strings.Cut(requestURL, "/"); ok && isName(typ) && validID(id) {
		return id
	}
	return strings.TrimPrefix(fullURL, "urn:uuid:")
}

// decodeObject decodes a JSON object keeping numbers exact.
func decodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("not a JSON object")
	}
	return m, nil
}

// rewriteRefs replaces, everywhere in v, "reference" values that are the
// fullUrl of a Bundle entry with that entry's "Type/id".
func rewriteRefs(v any, refs map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "reference" {
				if to, ok := refs[s]; ok {
					v[k] = to
				}
				continue
			}
			rewriteRefs(x, refs)
		}
	case []any:
		for _, x := range v {
			rewriteRefs(x, refs)
		}
	}
}

// prepare sets meta.versionId and meta.lastUpdated when absent, encodes
// res and indexes it.
func prepare(res map[string]any, defs *definitions, now time.Time) (store.Resource, error) {
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	if _, ok := meta["versionId"].(string); !ok {
		meta["versionId"] = "1"
	}
	if _, ok := meta["lastUpdated"].(string); !ok {
		meta["lastUpdated"] = now.Format(time.RFC3339)
	}
	r, err := defs.index(res)
	if err != nil {
		return store.Resource{}, err
	}
	r.VersionID = meta["versionId"].(string)
	if lo, _, err := dateRange(meta["lastUpdated"].(string)); err == nil {
		r.LastUpdated = lo
	}
	r.JSON, err = encodeResource(res)
	return r, err
}

// encodeResource encodes res with "resourceType" first, as FHIR JSON
// examples do, and without HTML escaping.
func encodeResource(res map[string]any) ([]byte, error) {
	typ := res["resourceType"]
	delete(res, "resourceType")
	defer func() { res["resourceType"] = typ }()
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	rest := bytes.TrimSpace(body.Bytes())[1:] // drop "{"
	head, _ := json.Marshal(typ)
	out := make([]byte, 0, len(rest)+len(head)+18)
	out = append(out, `{"resourceType":`...)
	out = append(out, head...)
	if len(rest) > 1 {
		out = append(out, ',')
	}
	return append(out, rest...), nil
}

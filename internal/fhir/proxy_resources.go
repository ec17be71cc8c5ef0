package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/smartlaunch/smartlaunch/internal/fhir/upstream"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// UpstreamResources returns, in proxy mode, a read-only store.Resources
// over the upstream, for the parts of smartlaunch that look up patients
// and launch context (the patient picker, the EHR simulator); nil in
// embedded mode. It serves GetResource, and SearchResources of one type,
// optionally within one patient's compartment, paged by Count and Offset;
// other queries and every write fail with ErrReadOnly.
func (s *Server) UpstreamResources() store.Resources {
	if s.proxy == nil {
		return nil
	}
	return upstreamResources{s}
}

// ErrReadOnly reports a store.Resources call that UpstreamResources does
// not serve.
var ErrReadOnly = errors.New("fhir: the upstream's resources are read through the FHIR API only")

type upstreamResources struct{ s *Server }

func (u upstreamResources) GetResource(ctx context.Context, typ, id string) (store.Resource, error) {
	if !u.s.defs.known(typ) || !validID(id) {
		return store.Resource{}, store.ErrNotFound
	}
	// A decision that is not "all" makes fetchResource index the resource.
	r, err := u.s.fetchResource(ctx, decision{}, typ, id, "")
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return store.Resource{}, fmt.Errorf("upstream %s/%s: %w", typ, id, store.ErrNotFound)
	}
	return r, err
}

func (u upstreamResources) SearchResources(ctx context.Context, q store.ResourceQuery) ([]store.Resource, int, error) {
	if len(q.Filters)+len(q.AnyOf)+len(q.ReferencedBy)+len(q.Sort) > 0 || !u.s.defs.known(q.Type) {
		return nil, 0, ErrReadOnly
	}
	path := q.Type
	if q.Patient != "" {
		if !validID(q.Patient) {
			return nil, 0, nil
		}
		path = "Patient/" + q.Patient + "/" + q.Type
	}
	v := url.Values{"_count": {strconv.Itoa(q.Count)}}
	if q.Offset > 0 {
		v.Set(offsetParam, strconv.Itoa(q.Offset))
	}
	resp, err := u.s.proxy.up.Do(ctx, http.MethodGet, path+"?"+v.Encode(), nil, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("upstream search: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil, 0, fmt.Errorf("upstream search: %s", resp.Status)
	}
	var b struct {
		Total *int
		Entry []struct {
			Resource json.RawMessage
			Search   struct{ Mode string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		return nil, 0, fmt.Errorf("upstream search: %w", err)
	}
	var out []store.Resource
	for _, e := range b.Entry {
		if e.Search.Mode != "" && e.Search.Mode != "match" {
			continue
		}
		r, err := u.s.indexRaw(e.Resource)
		if err == nil && r.Type == q.Type {
			r.JSON = upstream.RewriteURLs(e.Resource, u.s.proxy.up.Base(), u.s.base)
			out = append(out, r)
		}
	}
	total := len(out) + q.Offset
	if b.Total != nil {
		total = *b.Total
	}
	return out, total, nil
}

func (upstreamResources) PutResources(context.Context, []store.Resource) error { return ErrReadOnly }

func (upstreamResources) CountResources(context.Context) (int, error) { return 0, ErrReadOnly }

func (upstreamResources) WriteResources(context.Context, []store.Change) error { return ErrReadOnly }

func (upstreamResources) ResourceHistory(context.Context, store.HistoryQuery) ([]store.Resource, error) {
	return nil, ErrReadOnly
}

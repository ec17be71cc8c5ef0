package fhir

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/fhir/upstream"
	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// proxy is what a Server in proxy mode keeps: the upstream, the key that
// binds its paging links, and the upstream's CapabilityStatement.
type proxy struct {
	up *upstream.Client
	// pageKey binds rewritten paging links to the authorization that
	// made them and to the upstream link itself (pageMAC): Config's
	// LinkSecret, or random (links then do not outlive the process).
	pageKey []byte
	// security is the SMART security section of this server's own
	// CapabilityStatement, put into the upstream's.
	security json.RawMessage

	mu        sync.Mutex
	capBody   []byte
	capExpiry time.Time
}

// capabilityTTL is how long the merged CapabilityStatement is served
// before the upstream's is fetched again.
const capabilityTTL = 5 * time.Minute

func newProxy(up *upstream.Client, capability, linkSecret []byte) *proxy {
	p := &proxy{up: up, pageKey: linkSecret}
	if len(p.pageKey) == 0 {
		p.pageKey = make([]byte, 32)
		rand.Read(p.pageKey)
	}
	var cs struct {
		Rest []struct {
			Security json.RawMessage `json:"security"`
		} `json:"rest"`
	}
	if json.Unmarshal(capability, &cs) == nil && len(cs.Rest) > 0 {
		p.security = cs.Rest[0].Security
	}
	return p
}

// proxyMetadata answers GET /metadata in proxy mode: the upstream's
// CapabilityStatement with this server's SMART security section, its
// implementation URL and its absolute URLs on this server's base.
func (s *Server) proxyMetadata(w http.ResponseWriter, r *http.Request) {
	p := s.proxy
	p.mu.Lock()
	body := p.capBody
	if body == nil || s.now().After(p.capExpiry) {
		merged, err := s.fetchCapability(r.Context())
		if err != nil {
			p.mu.Unlock()
			s.writeError(w, r, err)
			return
		}
		p.capBody, p.capExpiry, body = merged, s.now().Add(capabilityTTL), merged
	}
	p.mu.Unlock()
	fhirwire.Public(w, r, cors, body)
}

func (s *Server) fetchCapability(ctx context.Context) ([]byte, error) {
	resp, err := s.proxy.up.Do(ctx, http.MethodGet, "metadata", nil, nil)
	if err != nil {
		return nil, upstreamError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, upstreamError(errors.Join(err, errors.New("upstream metadata: "+resp.Status)))
	}
	merged, err := upstream.MergeCapability(body, s.proxy.security, s.base)
	if err != nil {
		return nil, upstreamError(err)
	}
	return upstream.RewriteURLs(merged, s.proxy.up.Base(), s.base), nil
}

// upstreamError is the answer to a failed exchange with the upstream:
// 504 when it did not answer in time, 502 otherwise. The cause is logged,
// never sent.
func upstreamError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &apiError{Status: http.StatusGatewayTimeout, Code: "timeout", Diagnostics: "the upstream FHIR server did not answer in time", Cause: err}
	}
	return &apiError{Status: http.StatusBadGateway, Code: "transient", Diagnostics: "the upstream FHIR server could not be used", Cause: err}
}

// interactionServer serves what route dispatches: *Server over its store, or
// proxied to an upstream.
type interactionServer interface {
	searchSystem(w http.ResponseWriter, r *http.Request, a Access) error
	historySystem(w http.ResponseWriter, r *http.Request, a Access) error
	everything(w http.ResponseWriter, r *http.Request, a Access, id string) error
	search(w http.ResponseWriter, r *http.Request, a Access, typ, compartment string) error
	create(w http.ResponseWriter, r *http.Request, a Access, typ string) error
	// update with id "" is a conditional update.
	update(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error
	historyType(w http.ResponseWriter, r *http.Request, a Access, typ string) error
	read(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error
	patch(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error
	remove(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error
	historyInstance(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error
	vread(w http.ResponseWriter, r *http.Request, a Access, typ, id, vid string) error
}

// proxied serves the interactions through the upstream (proxy mode).
// Batch Bundles need nothing of their own: their entries go through route
// like requests of their own; transactions have proxyTransaction.
type proxied struct{ *Server }

func (p proxied) searchSystem(w http.ResponseWriter, r *http.Request, a Access) error {
	return p.proxySearch(w, r, a, "", "")
}

func (p proxied) historySystem(w http.ResponseWriter, r *http.Request, a Access) error {
	return p.proxyHistory(w, r, a, "", "")
}

func (p proxied) everything(w http.ResponseWriter, r *http.Request, a Access, id string) error {
	return p.proxyEverything(w, r, a, id)
}

func (p proxied) search(w http.ResponseWriter, r *http.Request, a Access, typ, compartment string) error {
	return p.proxySearch(w, r, a, typ, compartment)
}

func (p proxied) create(w http.ResponseWriter, r *http.Request, a Access, typ string) error {
	return p.proxyCreate(w, r, a, typ)
}

func (p proxied) update(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error {
	if id == "" {
		return p.proxyConditionalUpdate(w, r, a, typ)
	}
	return p.proxyUpdate(w, r, a, typ, id, false)
}

func (p proxied) historyType(w http.ResponseWriter, r *http.Request, a Access, typ string) error {
	return p.proxyHistory(w, r, a, typ, "")
}

func (p proxied) read(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error {
	return p.proxyRead(w, r, a, typ, id, "")
}

func (p proxied) patch(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error {
	return p.proxyUpdate(w, r, a, typ, id, true)
}

func (p proxied) remove(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error {
	return p.proxyDelete(w, r, a, typ, id)
}

func (p proxied) historyInstance(w http.ResponseWriter, r *http.Request, a Access, typ, id string) error {
	return p.proxyHistory(w, r, a, typ, id)
}

func (p proxied) vread(w http.ResponseWriter, r *http.Request, a Access, typ, id, vid string) error {
	return p.proxyRead(w, r, a, typ, id, vid)
}

// fetchResource GETs one resource (or one version, vid) from the upstream
// and reads it for dec (judged). A missing resource is not found; one
// that is not the resource asked for is a bad gateway.
func (s *Server) fetchResource(ctx context.Context, dec decision, typ, id, vid string) (store.Resource, error) {
	ref := typ + "/" + id
	if vid != "" {
		ref += "/_history/" + vid
	}
	resp, err := s.proxy.up.Do(ctx, http.MethodGet, ref, nil, nil)
	if err != nil {
		return store.Resource{}, upstreamError(err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return store.Resource{}, notFound("resource not found")
	case http.StatusGone:
		return store.Resource{}, errGone
	default:
		return store.Resource{}, upstreamError(errors.New("upstream read: " + resp.Status))
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return store.Resource{}, upstreamError(err)
	}
	res, err := s.judged(body, dec)
	if err != nil || res.Type != typ || res.ID != id {
		return store.Resource{}, upstreamError(errors.Join(err, errors.New("upstream answered another resource")))
	}
	res.JSON = upstream.RewriteURLs(body, s.proxy.up.Base(), s.base)
	return res, nil
}

// errGone is a version that records a deletion (410).
var errGone = &apiError{Status: http.StatusGone, Code: "deleted", Diagnostics: "this version records the resource's deletion"}

// proxyGone answers a vread of a deletion as embedded mode does: 410 when
// the token may read the version deleted (the one before), 404 otherwise.
func (s *Server) proxyGone(ctx context.Context, dec decision, typ, id, vid string) error {
	n, err := strconv.Atoi(vid)
	if err != nil || n < 2 {
		return notFound("resource not found")
	}
	prev, err := s.fetchResource(ctx, dec, typ, id, strconv.Itoa(n-1))
	if err != nil || !dec.permits(prev) {
		return notFound("resource not found")
	}
	return errGone
}

// judged reads a resource the upstream sent for dec: its type, id and
// meta, and, unless dec permits every resource, the compartments and
// index entries dec judges it on (decoding a whole resource is the
// costliest part of a proxied read).
func (s *Server) judged(body []byte, dec decision) (store.Resource, error) {
	if !dec.all {
		return s.indexRaw(body)
	}
	var h struct {
		ResourceType, ID string
		Meta             struct{ VersionID, LastUpdated string }
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return store.Resource{}, err
	}
	if !s.defs.known(h.ResourceType) || !validID(h.ID) {
		return store.Resource{}, errors.New("not a resource of a served type")
	}
	r := store.Resource{Type: h.ResourceType, ID: h.ID, VersionID: h.Meta.VersionID}
	r.LastUpdated, _, _ = dateRange(h.Meta.LastUpdated)
	return r, nil
}

// indexRaw indexes a resource the upstream sent, without its JSON.
func (s *Server) indexRaw(body []byte) (store.Resource, error) {
	m, err := decodeObject(body)
	if err != nil {
		return store.Resource{}, err
	}
	r, err := s.defs.index(m)
	if err != nil {
		return store.Resource{}, err
	}
	if meta, ok := m["meta"].(map[string]any); ok {
		r.VersionID, _ = meta["versionId"].(string)
		if lu, ok := meta["lastUpdated"].(string); ok {
			r.LastUpdated, _, _ = dateRange(lu)
		}
	}
	return r, nil
}

// proxyRead serves a read or vread (vid) through the upstream. The
// resource is fetched without the client's conditions, judged like a
// stored one, and only then compared with If-None-Match and
// If-Modified-Since, so that a 304 never answers for a resource the token
// may not read.
func (s *Server) proxyRead(w http.ResponseWriter, r *http.Request, a Access, typ, id, vid string) error {
	in := interRead
	if vid != "" {
		in = interVRead
	}
	dec, err := s.defs.decide(a, typ, in, s.now())
	if err != nil {
		return err
	}
	if !validID(id) || vid != "" && !validID(vid) {
		return notFound("resource not found")
	}
	res, err := s.fetchResource(r.Context(), dec, typ, id, vid)
	if gone := (*apiError)(nil); errors.As(err, &gone) && gone.Status == http.StatusGone {
		return s.proxyGone(r.Context(), dec, typ, id, vid)
	}
	if err != nil {
		return err
	}
	if !dec.permits(res) {
		return notFound("resource not found")
	}
	if vid == "" && notModified(r, res) {
		w.Header().Set("ETag", `W/"`+res.VersionID+`"`)
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	writeResource(w, res)
	return nil
}

// pageParam carries, in rewritten upstream paging links, what kind of
// answer the page is and a MAC binding the link to its authorization.
const pageParam = "_page"

// pageMAC binds an upstream reference and the kind of answer it pages to
// the authorization a is of.
func (s *Server) pageMAC(a Access, kind, ref string) string {
	key := a.AuthorizationID
	if key == "" {
		key = a.ClientID + "\x00" + a.Patient
	}
	m := hmac.New(sha256.New, s.proxy.pageKey)
	m.Write([]byte(key + "\x00" + kind + "\x00" + ref))
	return kind + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

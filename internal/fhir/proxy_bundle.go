package fhir

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/smartlaunch/smartlaunch/internal/fhir/upstream"
	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
)

// The ways entries of proxied Bundles are judged (relayKind.judge).
const (
	// judgeSearch: matches by the search decision of their type, included
	// resources by the read decision.
	judgeSearch = 's'
	// judgeHistory: type and system history, every version judged on its
	// own content by the search decision of its type.
	judgeHistory = 'h'
	// judgeInstance: instance history, every version judged by the read
	// decision.
	judgeInstance = 'i'
	// judgeEverything: like judgeSearch, but a Patient by the read
	// decision, as embedded $everything does.
	judgeEverything = 'e'
)

// relayKind is what a proxied Bundle is, for its filter. It travels,
// MAC-protected, in rewritten paging links (String, parseKind).
type relayKind struct {
	judge byte
	// exact marks an answer the upstream was confined to exactly what
	// the token may see: its total stands unless an entry had to be
	// dropped after all. Otherwise the total is dropped, since entries may
	// have been filtered out, unless one page holds every match.
	exact bool
	// withheld marks a search whose _revinclude covers a type the token
	// may not read in full: its pages say that included resources may
	// have been withheld, whatever the data (D-6, as in embedded mode).
	withheld bool
	// elements are the _elements the matches are cut down to, here and
	// not at the upstream, which would cut what the judgement reads.
	elements []string
}

// String encodes k with URL-safe characters: "s", "sxw", "s~status-code".
func (k relayKind) String() string {
	s := string(k.judge)
	if k.exact {
		s += "x"
	}
	if k.withheld {
		s += "w"
	}
	if k.elements != nil {
		s += "~" + strings.Join(k.elements, "-")
	}
	return s
}

// parseKind decodes relayKind.String.
func parseKind(s string) relayKind {
	head, elements, hasElements := strings.Cut(s, "~")
	var k relayKind
	if head != "" {
		k.judge = head[0]
		k.exact = strings.Contains(head[1:], "x")
		k.withheld = strings.HasSuffix(head, "w")
	}
	if hasElements {
		k.elements = strings.Split(elements, "-")
	}
	return k
}

// relay GETs ref from the upstream and streams the Bundle it answers to w,
// filtered for a (bundleFilter). An instance history is read whole (it is
// small) so that one with no version the token may read is not found, as
// in embedded mode.
func (s *Server) relay(w http.ResponseWriter, r *http.Request, a Access, ref string, kind relayKind, ignored []string) error {
	resp, err := s.proxy.up.Do(r.Context(), http.MethodGet, ref, nil, nil)
	if err != nil {
		return upstreamError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return upstreamStatus(resp)
	}
	f := s.bundleFilter(r.Context(), a, kind, ignored)
	if kind.judge == judgeInstance {
		var buf bytes.Buffer
		kept, _, err := f.Copy(&buf, resp.Body)
		switch {
		case err != nil:
			return upstreamError(err)
		case kept == 0:
			return notFound("resource not found")
		}
		fhirwire.WriteBody(w, http.StatusOK, buf.Bytes())
		return nil
	}
	lw := &lazyWriter{w: w}
	if _, _, err := f.Copy(lw, resp.Body); err != nil {
		if !lw.started {
			return upstreamError(err)
		}
		s.log.ErrorContext(r.Context(), "fhir: proxied Bundle cut short", "err", err)
		panic(http.ErrAbortHandler) // the client must not take a cut Bundle for a whole one
	}
	return nil
}

// upstreamStatus turns an upstream refusal into this server's answer: the
// same status for a client error (with a fixed text: the upstream's own
// may name what the token may not see), 502 otherwise.
func upstreamStatus(resp *http.Response) error {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return notFound("resource not found")
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden:
		return &apiError{Status: resp.StatusCode, Code: "processing", Diagnostics: "the upstream FHIR server refused the request"}
	}
	return upstreamError(errors.New("upstream answered " + resp.Status))
}

// lazyWriter sends the 200 status and content type with the first byte,
// so that an upstream failure found before anything is written can still
// be answered with an error.
type lazyWriter struct {
	w       http.ResponseWriter
	started bool
}

func (lw *lazyWriter) Write(b []byte) (int, error) {
	if !lw.started {
		lw.started = true
		lw.w.Header().Set("Content-Type", contentType)
		lw.w.WriteHeader(http.StatusOK)
	}
	return lw.w.Write(b)
}

// proxyEntry is the part of a Bundle entry a filter reads.
type proxyEntry struct {
	Resource json.RawMessage
	Search   *struct{ Mode string }
	Request  *struct{ Method, URL string }
	Response *struct{ Etag string }
}

// deletedType is the type a deletion entry of a history names.
func deletedType(e proxyEntry) string {
	if e.Request == nil {
		return ""
	}
	typ, _, _ := strings.Cut(e.Request.URL, "/")
	return typ
}

// deletionPermitted judges a deletion entry of a history as embedded mode
// does, on the version it deleted: the one before the deletion's, read
// from the upstream.
func (s *Server) deletionPermitted(ctx context.Context, d decision, e proxyEntry) bool {
	if d.all {
		return true
	}
	if e.Request == nil || e.Response == nil {
		return false
	}
	typ, rest, _ := strings.Cut(e.Request.URL, "/")
	id, _, _ := strings.Cut(rest, "/")
	n, err := strconv.Atoi(etagVersion(e.Response.Etag))
	if err != nil || n < 2 || !validID(id) {
		return false
	}
	prev, err := s.fetchResource(ctx, d, typ, id, strconv.Itoa(n-1))
	return err == nil && d.permits(prev)
}

// bundleFilter judges every entry of a proxied Bundle with the same
// decisions as embedded mode (see the kinds), drops those the token may
// not see, and rewrites the upstream's URLs: entries and members to this
// server's base, paging links to MAC-bound ones (proxyLinks).
func (s *Server) bundleFilter(ctx context.Context, a Access, kind relayKind, ignored []string) upstream.BundleFilter {
	now := s.now()
	type key struct {
		typ string
		in  interaction
	}
	decisions := map[key]*decision{}
	judge := func(typ string, in interaction) *decision {
		k := key{typ, in}
		if d, ok := decisions[k]; ok {
			return d
		}
		var d *decision
		if s.defs.known(typ) {
			if dec, err := s.defs.decide(a, typ, in, now); err == nil {
				d = &dec
			}
		}
		decisions[k] = d
		return d
	}
	var (
		total            json.RawMessage
		matches          int
		hasNext, hasPrev bool
	)
	withheld := kind.withheld
	from := s.proxy.up.Base()
	return upstream.BundleFilter{
		Entry: func(raw json.RawMessage) (json.RawMessage, bool, error) {
			var e proxyEntry
			if json.Unmarshal(raw, &e) != nil {
				return nil, false, nil
			}
			if e.Search != nil && e.Search.Mode == "outcome" {
				return upstream.RewriteURLs(raw, from, s.base), true, nil
			}
			in := entryInteraction(kind, e)
			if len(e.Resource) == 0 { // a deletion in a history
				d := judge(deletedType(e), in)
				return upstream.RewriteURLs(raw, from, s.base), d != nil && s.deletionPermitted(ctx, *d, e), nil
			}
			var typed struct{ ResourceType string }
			json.Unmarshal(e.Resource, &typed)
			d := judge(typed.ResourceType, in)
			if d == nil {
				withheld = withheld || in == interRead
				return nil, false, nil
			}
			res, err := s.judged(e.Resource, *d)
			if err != nil || res.Type != typed.ResourceType {
				return nil, false, nil
			}
			if !d.permits(res) {
				withheld = withheld || in == interRead
				return nil, false, nil
			}
			if e.Search == nil || e.Search.Mode != "include" {
				matches++
				if kind.elements != nil {
					raw = withResource(raw, subset(e.Resource, kind.elements))
				}
			}
			return upstream.RewriteURLs(raw, from, s.base), true, nil
		},
		Field: func(name string, v json.RawMessage) (json.RawMessage, bool) {
			switch name {
			case "link":
				hasNext, hasPrev = hasLink(v, "next"), hasLink(v, "previous") || hasLink(v, "prev")
				return s.proxyLinks(a, kind, v), true
			case "total":
				if kind.exact {
					total = v
				}
				return nil, false
			}
			return upstream.RewriteURLs(v, from, s.base), true
		},
		Last: func(int, int) []json.RawMessage {
			if e, ok := outcomeEntry(withheld, ignored); ok {
				b, _ := json.Marshal(e)
				return []json.RawMessage{b}
			}
			return nil
		},
		Trailer: func(kept, dropped int) map[string]json.RawMessage {
			switch {
			case total != nil && dropped == 0:
				return map[string]json.RawMessage{"total": total}
			case !hasNext && !hasPrev:
				// One page holds every match: they can be counted here.
				return map[string]json.RawMessage{"total": json.RawMessage(strconv.Itoa(matches))}
			}
			return nil
		},
	}
}

// hasLink reports whether the links v have one of relation rel.
func hasLink(v json.RawMessage, rel string) bool {
	var links []struct{ Relation string }
	json.Unmarshal(v, &links)
	for _, l := range links {
		if l.Relation == rel {
			return true
		}
	}
	return false
}

// entryInteraction is the interaction an entry of a Bundle of kind is
// judged as: in an $everything, a Patient is judged by the read decision
// (the patient asked for, already checked, and those it links to).
func entryInteraction(kind relayKind, e proxyEntry) interaction {
	switch {
	case kind.judge == judgeEverything && bytes.Contains(e.Resource, []byte(`"resourceType":"Patient"`)):
		return interRead
	case kind.judge == judgeInstance:
		return interHistoryInstance
	case kind.judge == judgeHistory:
		return interHistoryType
	case e.Search != nil && e.Search.Mode == "include":
		return interRead
	}
	return interSearchType
}

// withResource returns the entry raw with its resource replaced.
func withResource(raw, res json.RawMessage) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	m["resource"] = res
	out, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return out
}

// proxyLinks rewrites a Bundle's links: the self link to this server's
// base; paging links to this server's base with a MAC (pageParam) binding
// them to a's authorization; links elsewhere are dropped.
func (s *Server) proxyLinks(a Access, kind relayKind, v json.RawMessage) json.RawMessage {
	var links []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	}
	if json.Unmarshal(v, &links) != nil {
		return json.RawMessage(`[]`)
	}
	out := links[:0]
	for _, l := range links {
		rest, ok := strings.CutPrefix(l.URL, s.proxy.up.Base())
		if !ok || rest != "" && rest[0] != '/' && rest[0] != '?' {
			continue
		}
		ref := strings.TrimPrefix(rest, "/")
		l.URL = s.base + "/" + ref
		if l.Relation == "self" && kind.elements != nil {
			l.URL += sepFor(l.URL) + "_elements=" + strings.Join(kind.elements, ",")
		}
		if l.Relation != "self" {
			l.URL += sepFor(l.URL) + pageParam + "=" + s.pageMAC(a, kind.String(), ref)
		}
		out = append(out, l)
	}
	b, _ := json.Marshal(out)
	return b
}

// proxyPage follows a rewritten paging link: the MAC must be the one made
// for this authorization and this upstream reference; the page is then
// fetched and judged like the first.
func (s *Server) proxyPage(w http.ResponseWriter, r *http.Request, a Access) error {
	raw := r.URL.RawQuery
	i := strings.LastIndex(raw, pageParam+"=")
	if i > 0 && raw[i-1] != '&' {
		return invalid("malformed paging link")
	}
	mac := raw[i+len(pageParam)+1:]
	ref := strings.TrimPrefix(r.URL.Path, "/")
	if rest := strings.TrimSuffix(raw[:i], "&"); rest != "" {
		ref += "?" + rest
	}
	kind := mac[:max(strings.LastIndex(mac, "."), 0)]
	if !hmac.Equal([]byte(mac), []byte(s.pageMAC(a, kind, ref))) {
		return forbidden("this paging link was made for another authorization")
	}
	return s.relay(w, r, a, ref, parseKind(kind), nil)
}

// sepFor is the separator that adds a parameter to u.
func sepFor(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}

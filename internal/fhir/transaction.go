package fhir

import (
	"net/http"
	"strings"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// txEntry is an entry of a transaction being planned.
type txEntry struct {
	e        inEntry
	typ, id  string
	query    string // the search of a conditional update
	res      map[string]any
	matched  *store.Resource // what a conditional create found
	plan     plan
	planned  bool
	getEntry bool
}

// transactionOrder is the order entries are processed in (FHIR R4 http
// §3.1.0.11.2): deletes, creates, updates and patches, reads last.
var transactionOrder = []string{http.MethodDelete, http.MethodPost, http.MethodPut, http.MethodPatch}

// transaction runs a transaction Bundle (FHIR R4 http §3.1.0.11.2): every
// write entry is decided as if sent alone against the state before
// the transaction, references to other entries' fullUrl ("urn:uuid:...")
// are replaced by the ids the server gives them, and the writes are stored
// in one atomic store call — all of them or, if any entry is refused or
// conflicts, none; the error names the entry. Read entries run after the
// writes are stored; a read that fails is reported on its entry (reads
// change nothing, so there is nothing to undo).
func (s *Server) transaction(r *http.Request, a Access, entries []inEntry) (outBundle, error) {
	tes := make([]*txEntry, len(entries))
	refs := map[string]string{}
	for i, e := range entries {
		te, err := s.parseTxEntry(r, a, e)
		if err != nil {
			return outBundle{}, entryError(i, err)
		}
		if e.FullURL != "" && te.id != "" {
			refs[e.FullURL] = te.typ + "/" + te.id
		}
		tes[i] = te
	}
	touched := map[string]bool{}
	for i, te := range tes {
		if te.getEntry {
			continue
		}
		if key := te.typ + "/" + te.id; te.id != "" {
			if touched[key] {
				return outBundle{}, entryError(i, invalid("a transaction may change a resource only once"))
			}
			touched[key] = true
		}
		if te.e.Request.Method == http.MethodPost || te.e.Request.Method == http.MethodPut {
			res, err := decodeObject(te.e.Resource)
			if err != nil {
				return outBundle{}, entryError(i, invalid("the entry has no resource"))
			}
			rewriteRefs(res, refs)
			if err := s.defs.checkResource(res, te.typ); err != nil {
				return outBundle{}, entryError(i, err)
			}
			te.res = res
		}
	}
	var changes []store.Change
	for _, method := range transactionOrder {
		for i, te := range tes {
			if te.e.Request.Method != method || te.getEntry {
				continue
			}
			p, err := s.planTxEntry(r, a, te)
			if err != nil {
				return outBundle{}, entryError(i, err)
			}
			te.plan, te.planned = p, true
			if p.change != nil {
				changes = append(changes, *p.change)
			}
		}
	}
	if err := s.store.WriteResources(r.Context(), changes); err != nil {
		return outBundle{}, writeConflict(err, false)
	}
	out := outBundle{ResourceType: "Bundle", Type: "transaction-response", Entry: make([]outEntry, len(tes))}
	for i, te := range tes {
		if te.getEntry {
			out.Entry[i] = s.runEntry(r, a, te.e)
			continue
		}
		out.Entry[i] = s.planEntry(r, te.plan)
	}
	return out, nil
}

// entryURL splits an entry's request.url, relative to the base or
// absolute under it, into its path segments and its query.
func (s *Server) entryURL(e inEntry) (parts []string, query string) {
	path, query, _ := strings.Cut(strings.TrimPrefix(e.Request.URL, s.base+"/"), "?")
	return strings.Split(path, "/"), query
}

// parseTxEntry reads an entry's request: the type and id it writes
// (a fresh id for a create, or the one a conditional create found).
func (s *Server) parseTxEntry(r *http.Request, a Access, e inEntry) (*txEntry, error) {
	te := &txEntry{e: e}
	if e.Request.Method == http.MethodGet {
		te.getEntry = true
		return te, nil
	}
	parts, query := s.entryURL(e)
	if !s.defs.known(parts[0]) {
		return nil, notFound("unknown resource type")
	}
	te.typ = parts[0]
	switch m := e.Request.Method; {
	case m == http.MethodPost && len(parts) == 1 && query == "":
		te.id = newID()
		if e.Request.IfNoneExist == "" {
			return te, nil
		}
		if _, err := s.defs.decide(a, te.typ, interCreate, s.now()); err != nil {
			return nil, err
		}
		found, err := s.conditionalMatch(r.Context(), a, te.typ, strings.TrimPrefix(e.Request.IfNoneExist, te.typ+"?"), s.now())
		if err != nil {
			return nil, err
		}
		if found != nil {
			te.id, te.matched = found.ID, found
		}
	case m == http.MethodPut && len(parts) == 1 && query != "":
		te.query = query
	case len(parts) == 2 && m != http.MethodPost && query == "":
		if !validID(parts[1]) {
			return nil, notFound("resource not found")
		}
		te.id = parts[1]
	default:
		return nil, invalid("request.url does not fit request.method")
	}
	return te, nil
}

// planTxEntry decides one write entry.
func (s *Server) planTxEntry(r *http.Request, a Access, te *txEntry) (plan, error) {
	ctx, c := r.Context(), conditions{ifMatch: te.e.Request.IfMatch}
	switch te.e.Request.Method {
	case http.MethodDelete:
		return s.planDelete(ctx, a, te.typ, te.id, c)
	case http.MethodPost:
		if te.matched != nil {
			return plan{status: http.StatusOK, res: *te.matched}, nil
		}
		return s.planCreate(ctx, a, te.typ, te.id, te.res, conditions{})
	case http.MethodPut:
		if te.query != "" {
			return s.planConditionalUpdate(ctx, a, te.typ, te.query, te.res, c)
		}
		return s.planUpdate(ctx, a, te.typ, te.id, te.res, c)
	}
	req, err := s.entryRequest(r, te.e)
	if err != nil {
		return plan{}, err
	}
	body, err := readBody(nil, req, patchTypes...)
	if err != nil {
		return plan{}, err
	}
	return s.planPatch(ctx, a, te.typ, te.id, body, c)
}

// planEntry is the response entry of a stored write.
func (s *Server) planEntry(r *http.Request, p plan) outEntry {
	rec := newRecorder()
	if err := s.answer(rec, r, p); err != nil {
		rec = newRecorder()
		s.writeError(rec, r, err)
	}
	return rec.entry()
}

package fhir

import (
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/fhir/upstream"
	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/sampledata"
	"github.com/smartlaunch/smartlaunch/smart"
)

// Access is what a verified access token allows (built by the
// authorization server's verifier).
type Access struct {
	AuthorizationID string
	ClientID        string
	// FHIRUser is the user's own resource, such as "Practitioner/123"; may be empty.
	FHIRUser string
	// Patient is the patient context id; "" when none.
	Patient string
	// Scopes are the granted scopes.
	Scopes smart.ScopeSet
}

// TokenVerifier checks a request's credentials: a bearer token (RFC 6750)
// or a DPoP-bound token with its proof (RFC 9449). An *AuthError is
// answered 401 with its challenge; any other error 500.
type TokenVerifier interface {
	VerifyRequest(r *http.Request) (Access, error)
}

// OAuthURIs are advertised in the CapabilityStatement's oauth-uris
// extension (SMART App Launch 2.1 §"Capability Statement"). Empty ones are
// left out.
type OAuthURIs struct{ Authorize, Token, Revoke, Introspect, Manage, Register string }

// Config configures a Server.
type Config struct {
	// Store holds the resources served (embedded mode). It is not used
	// when Upstream is set.
	Store store.Resources
	// Upstream, when set, puts the Server in proxy mode: the same API is
	// served by forwarding to this FHIR server, with the same enforcement.
	Upstream *upstream.Client
	// LinkSecret keys the MAC that binds proxied paging links to their
	// authorization; instances sharing a store should share it, so that a
	// link made by one is honoured by another. Random when empty.
	LinkSecret []byte
	Verifier   TokenVerifier
	// BaseURL is the public FHIR base, such as "http://127.0.0.1:8080/fhir"
	// (no trailing slash); used in fullUrl and paging links.
	BaseURL string
	OAuth   OAuthURIs
	Logger  *slog.Logger
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// Usage, when set, is told of every successful request: which
	// authorization read which kind of resource.
	Usage UsageRecorder
	// Audit, when set, is served as AuditEvent resources to clients
	// holding a system/AuditEvent scope (see auditEvents), in both modes.
	Audit AuditTrail
}

// UsageRecorder counts successful data requests per authorization and
// resource kind ("" kind for a system-level search).
type UsageRecorder interface {
	Record(authorizationID, kind string)
}

// Server is the FHIR R4 REST API over a store.Resources. It is an
// http.Handler meant to be mounted with http.StripPrefix, so that the paths
// it sees are "/metadata", "/Patient/123", "/Observation?...".
type Server struct {
	usage      UsageRecorder
	store      store.Resources
	verifier   TokenVerifier
	base       string
	log        *slog.Logger
	now        func() time.Time
	defs       *definitions
	capability []byte
	proxy      *proxy     // nil in embedded mode
	audit      AuditTrail // nil: AuditEvent is an ordinary resource type
}

// New returns a Server. It parses the definitions embedded in package
// sampledata, and panics if they are broken: they are part of the binary,
// and the tests parse them.
func New(cfg Config) *Server {
	defs, err := loadDefinitions(sampledata.FS)
	if err != nil {
		panic(err)
	}
	s := &Server{
		store:    cfg.Store,
		verifier: cfg.Verifier,
		usage:    cfg.Usage,
		base:     strings.TrimSuffix(cfg.BaseURL, "/"),
		log:      cfg.Logger,
		now:      cfg.Now,
		defs:     defs,
		audit:    cfg.Audit,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.audit != nil {
		// AuditEvent is the audit trail, served by auditEvents alone: to
		// every other path (system search, compartments, includes,
		// history, $everything, batches and transactions, the upstream in
		// proxy mode) it is no type at all, so no other scope reaches it
		// and nothing can write one.
		delete(defs.types, "AuditEvent")
	}
	s.capability = capabilityStatement(defs, s.base, cfg.OAuth, s.now(), s.audit != nil)
	if cfg.Upstream != nil {
		s.proxy = newProxy(cfg.Upstream, s.capability, cfg.LinkSecret)
	}
	return s
}

// ServeHTTP checks the "Authorization: Bearer" access token (RFC 6750)
// with the Verifier and serves the request. GET /metadata and CORS
// preflight requests need no token.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.public(w, r) {
		return
	}
	a, err := s.verifier.VerifyRequest(r)
	if err != nil {
		s.writeAuthError(w, r, err)
		return
	}
	s.serve(w, r, a)
}

// ServeWithAccess serves a request of a caller whose token was already
// verified, with what it allows.
func (s *Server) ServeWithAccess(w http.ResponseWriter, r *http.Request, a Access) {
	if s.public(w, r) {
		return
	}
	s.serve(w, r, a)
}

// public sets the CORS headers and answers the requests that need no
// token: preflights and the CapabilityStatement. It reports whether it
// answered.
func (s *Server) public(w http.ResponseWriter, r *http.Request) bool {
	if s.proxy != nil && r.URL.Path == "/metadata" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		s.proxyMetadata(w, r)
		return true
	}
	return fhirwire.Public(w, r, cors, s.capability)
}

// cors is what the endpoint allows browsers.
var cors = fhirwire.CORS{
	Methods: "GET, POST, PUT, PATCH, DELETE, OPTIONS",
	Headers: "Authorization, Content-Type, Accept, DPoP, Prefer, If-None-Match, If-Modified-Since, If-Match, If-None-Exist",
	Expose:  "WWW-Authenticate, Location, Content-Location, ETag, Last-Modified, DPoP-Nonce",
}

// serve routes an authorized request and writes any error.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, a Access) {
	if err := s.route(w, r, a); err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.usage != nil && a.AuthorizationID != "" {
		kind, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if kind == "_search" || !s.defs.known(kind) {
			kind = ""
		}
		s.usage.Record(a.AuthorizationID, kind)
	}
}

// route dispatches the interactions served (FHIR R4 http §3.1.0): at the
// base, GET (system search), POST (a batch or transaction Bundle), POST
// /_search and GET /_history; per type, GET (search), POST (create), PUT
// with a search (conditional update), POST /_search and GET /_history;
// per instance, GET (read), PUT (update), PATCH (JSON Patch), DELETE,
// GET /_history and GET /_history/{vid}; GET Patient/{id}/{type} (a
// compartment search) and GET Patient/{id}/$everything.
// Other methods on these paths are answered 405; other operations 400.
func (s *Server) route(w http.ResponseWriter, r *http.Request, a Access) error {
	var in interactionServer = s
	if s.proxy != nil {
		if strings.Contains(r.URL.RawQuery, pageParam+"=") && r.Method == http.MethodGet {
			return s.proxyPage(w, r, a)
		}
		in = proxied{s}
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case parts[0] == "AuditEvent" && s.audit != nil:
		return s.auditEvents(w, r, a, parts[1:])
	case len(parts) == 1 && parts[0] == "":
		return s.methods(w, r, handlers{
			http.MethodGet:  func() error { return in.searchSystem(w, r, a) },
			http.MethodPost: func() error { return s.bundle(w, r, a) }})
	case len(parts) == 1 && parts[0] == "_search":
		return s.methods(w, r, handlers{http.MethodPost: func() error { return in.searchSystem(w, r, a) }})
	case len(parts) == 1 && parts[0] == "_history":
		return s.methods(w, r, handlers{http.MethodGet: func() error { return in.historySystem(w, r, a) }})
	case len(parts) == 2 && parts[0] == "Patient" && parts[1] == "$everything":
		return s.methods(w, r, handlers{http.MethodGet: func() error { return in.everything(w, r, a, "") }})
	case len(parts) == 3 && parts[0] == "Patient" && parts[2] == "$everything":
		return s.methods(w, r, handlers{http.MethodGet: func() error { return in.everything(w, r, a, parts[1]) }})
	case slices.ContainsFunc(parts, func(p string) bool { return strings.HasPrefix(p, "$") }):
		// An operation the access decision does not model is refused,
		// never passed on or guessed at.
		return &apiError{Status: http.StatusBadRequest, Code: "not-supported", Diagnostics: "operation not supported"}
	case !s.defs.known(parts[0]):
		return notFound("unknown resource type")
	}
	typ := parts[0]
	switch {
	case len(parts) == 1:
		return s.methods(w, r, handlers{
			http.MethodGet:    func() error { return in.search(w, r, a, typ, "") },
			http.MethodPost:   func() error { return in.create(w, r, a, typ) },
			http.MethodPut:    func() error { return in.update(w, r, a, typ, "") },
			http.MethodDelete: conditionalDelete})
	case len(parts) == 2 && parts[1] == "_search":
		return s.methods(w, r, handlers{http.MethodPost: func() error { return in.search(w, r, a, typ, "") }})
	case len(parts) == 2 && parts[1] == "_history":
		return s.methods(w, r, handlers{http.MethodGet: func() error { return in.historyType(w, r, a, typ) }})
	case len(parts) == 2:
		id := parts[1]
		return s.methods(w, r, handlers{
			http.MethodGet:    func() error { return in.read(w, r, a, typ, id) },
			http.MethodPut:    func() error { return in.update(w, r, a, typ, id) },
			http.MethodPatch:  func() error { return in.patch(w, r, a, typ, id) },
			http.MethodDelete: func() error { return in.remove(w, r, a, typ, id) }})
	case len(parts) == 3 && typ == "Patient" && s.defs.known(parts[2]):
		return s.methods(w, r, handlers{http.MethodGet: func() error { return in.search(w, r, a, parts[2], parts[1]) }})
	case len(parts) == 3 && parts[2] == "_history":
		return s.methods(w, r, handlers{http.MethodGet: func() error { return in.historyInstance(w, r, a, typ, parts[1]) }})
	case len(parts) == 4 && parts[2] == "_history":
		return s.methods(w, r, handlers{http.MethodGet: func() error { return in.vread(w, r, a, typ, parts[1], parts[3]) }})
	}
	return notFound("unknown path")
}

// conditionalDelete answers DELETE /{type}?search, which is not served.
func conditionalDelete() error {
	return &apiError{Status: http.StatusBadRequest, Code: "not-supported", Diagnostics: "conditional delete is not supported"}
}

// handlers serve one path, by method.
type handlers map[string]func() error

// methods calls the handler of the request's method, and otherwise
// answers 405 with an Allow header.
func (s *Server) methods(w http.ResponseWriter, r *http.Request, hs handlers) error {
	if h, ok := hs[r.Method]; ok {
		return h()
	}
	allow := slices.Sorted(maps.Keys(hs))
	w.Header().Set("Allow", strings.Join(append(allow, http.MethodOptions), ", "))
	return &apiError{Status: http.StatusMethodNotAllowed, Code: "not-supported", Diagnostics: "method not allowed"}
}

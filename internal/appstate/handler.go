package appstate

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/fhirwire"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// DefaultMaxBytes is the largest request body accepted when Config.MaxBytes
// is zero: the 256 KB SMART App Launch 2.1 lets apps send (R-STATE-13).
const DefaultMaxBytes = 256 << 10

// Verifier checks a request's credentials (R-STATE-31): a bearer token
// (RFC 6750) or a DPoP-bound token with its proof (RFC 9449). An
// *AuthError is answered 401 with its challenge; any other error 500.
type Verifier interface {
	VerifyRequest(r *http.Request) (Caller, error)
}

// Caller is what a verified access token says about the app calling.
type Caller struct {
	// ClientID is the app the token was issued to.
	ClientID string
	// Patient is the id of the patient in context, "" if none.
	Patient string
	// FHIRUser is the user's relative reference, such as
	// "Practitioner/123", "" if none.
	FHIRUser string
	// Scopes are the granted scopes.
	Scopes smart.ScopeSet
}

// ClientLookup is what the Handler needs of the registered clients: their
// redirect URIs and launch URL, for the state-code trust rule (R-STATE-33).
type ClientLookup interface {
	GetClient(ctx context.Context, id string) (store.Client, error)
}

// Config configures a Handler.
type Config struct {
	Store    store.AppStates
	Clients  ClientLookup
	Verifier Verifier
	// Base is the public URL of this endpoint, such as
	// "http://127.0.0.1:8080/appstate" (no trailing slash): used in
	// Location headers and Bundle fullUrls.
	Base string
	// FHIRBase is the public base of the primary FHIR server, such as
	// "http://127.0.0.1:8080/fhir": subjects are absolute references into
	// it (R-STATE-13).
	FHIRBase string
	// MaxBytes bounds a request body; DefaultMaxBytes when zero.
	MaxBytes int64
	// Now returns the current time; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
}

// Handler is the App State FHIR endpoint. Mount it with http.StripPrefix.
type Handler struct {
	store      store.AppStates
	clients    ClientLookup
	verifier   Verifier
	base       string
	fhirBase   string
	maxBytes   int64
	now        func() time.Time
	log        *slog.Logger
	capability []byte
}

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	h := &Handler{
		store:    cfg.Store,
		clients:  cfg.Clients,
		verifier: cfg.Verifier,
		base:     strings.TrimSuffix(cfg.Base, "/"),
		fhirBase: strings.TrimSuffix(cfg.FHIRBase, "/"),
		maxBytes: cfg.MaxBytes,
		now:      cfg.Now,
		log:      cfg.Logger,
	}
	if h.maxBytes <= 0 {
		h.maxBytes = DefaultMaxBytes
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.capability = capabilityStatement(h.base, h.now())
	return h
}

// ServeHTTP answers CORS preflights and GET /metadata without a token, and
// every other request after the Verifier accepted its credentials.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.public(w, r) {
		return
	}
	c, err := h.verifier.VerifyRequest(r)
	if err != nil {
		h.writeAuthError(w, r, err)
		return
	}
	if err := h.route(w, r, c); err != nil {
		h.writeError(w, r, err)
	}
}

// public sets the CORS headers (browser apps call this endpoint) and
// answers preflights and the CapabilityStatement. It reports whether it
// answered.
func (h *Handler) public(w http.ResponseWriter, r *http.Request) bool {
	return fhirwire.Public(w, r, cors, h.capability)
}

// cors is what the endpoint allows browsers.
var cors = fhirwire.CORS{
	Methods: "GET, POST, PUT, DELETE, OPTIONS",
	Headers: "Authorization, Content-Type, Accept, DPoP, If-Match",
	Expose:  "WWW-Authenticate, Location, ETag, Last-Modified, DPoP-Nonce",
}

// route dispatches the App State interactions (R-STATE-08).
func (h *Handler) route(w http.ResponseWriter, r *http.Request, c Caller) error {
	path := r.URL.Path
	switch {
	case path == "/Basic":
		switch r.Method {
		case http.MethodPost:
			return h.create(w, r, c)
		case http.MethodGet, http.MethodHead:
			return h.search(w, r, c)
		}
		return methodNotAllowed(w, "GET, HEAD, POST, OPTIONS")
	case strings.HasPrefix(path, "/Basic/"):
		id := strings.TrimPrefix(path, "/Basic/")
		if !validID(id) {
			return notFound()
		}
		switch r.Method {
		case http.MethodPut:
			return h.update(w, r, c, id)
		case http.MethodDelete:
			return h.delete(w, r, c, id)
		}
		// Read is not part of the App State API (R-STATE-08).
		return methodNotAllowed(w, "PUT, DELETE, OPTIONS")
	}
	return &apiError{Status: http.StatusNotFound, Code: "not-supported",
		Diagnostics: "the App State endpoint serves only Basic and metadata"}
}

func methodNotAllowed(w http.ResponseWriter, allow string) error {
	w.Header().Set("Allow", allow)
	return &apiError{Status: http.StatusMethodNotAllowed, Code: "not-supported", Diagnostics: "method not allowed"}
}

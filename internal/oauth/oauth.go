package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/dpop"
	"github.com/smartlaunch/smartlaunch/internal/keys"
	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/web"
	"github.com/smartlaunch/smartlaunch/smart/scopetext"
)

// Store is the part of the store the authorization server uses.
type Store interface {
	store.Clients
	store.Users
	store.AuthRequests
	store.Codes
	store.Authorizations
	store.RefreshTokens
	store.Sessions
	store.ReplayCache
	store.Launches
}

// Config configures a Server. Build it in cmd; zero durations take the
// defaults below.
type Config struct {
	Store Store
	Keys  *keys.Set
	Pages *web.Pages
	// Audit records security events; nil records none.
	Audit *audit.Recorder
	// Texts says scopes in plain words; discovery's scopes_supported comes
	// from it, and so does the explainability check below.
	Texts *scopetext.Catalog
	// RefuseUnexplainable refuses, with invalid_scope, a requested scope
	// that cannot be said in one plain sentence (typically an unusual
	// query); when false such a scope is shown with a warning and its raw
	// text on the consent page.
	RefuseUnexplainable bool
	// DPoP verifies DPoP proofs (RFC 9449); nil disables DPoP.
	DPoP *dpop.Verifier
	// RemoteKeys fetches clients' keys from their jwks_uri; nil allows only
	// inline JWKS.
	RemoteKeys KeySource
	// RegistrationToken, when set, turns on dynamic client registration
	// (RFC 7591) for callers presenting it as a bearer token. Empty (the
	// default) keeps registration off.
	RegistrationToken string
	// ManagementEndpoint, when set, is advertised as management_endpoint:
	// where people see and end apps' access.
	ManagementEndpoint string
	// AppStateEndpoint, when set, is advertised as smart_app_state_endpoint
	// with the smart-app-state capability (R-STATE-06, R-STATE-07).
	AppStateEndpoint string
	// ConsentDocs, when set, is the absolute URL of the consent design
	// documentation, advertised as the extension member
	// consent_documentation.
	ConsentDocs string
	// DPoPNoncesOptional turns off the server-nonce requirement for DPoP
	// proofs at the token endpoint (on by default, D-8).
	DPoPNoncesOptional bool
	// DPoPResourceNonces requires server nonces in DPoP proofs at the FHIR
	// API too (off by default: D-8 makes it configurable there).
	DPoPResourceNonces bool
	Logger             *slog.Logger
	// Issuer is the server's public base URL, such as "https://ehr.example";
	// the FHIR base is Issuer + "/fhir".
	Issuer string
	// LoginPath is where a validated authorization request is sent to sign in.
	LoginPath string
	Now       func() time.Time

	CodeTTL time.Duration // default 60 s
	// AccessTokenTTL is the access-token lifetime; default 1 h. A client's
	// own AccessTokenTTL may only shorten it.
	AccessTokenTTL time.Duration
	AuthRequestTTL time.Duration // default 15 min
	// RefreshIdleTTL is how long an unused refresh token stays valid;
	// default 30 days. Every rotation starts a new period.
	RefreshIdleTTL time.Duration
	// OfflineLifetime bounds an offline_access authorization from its
	// creation, however often it is refreshed; default 180 days.
	OfflineLifetime time.Duration
	// EndedCacheTTL bounds how long another process's ending of an
	// authorization may go unseen by the access-token check; default
	// 500 ms, so that an ending shows on every instance within a second.
	EndedCacheTTL time.Duration
	// TokenLimit bounds token-endpoint requests per client; off by default.
	TokenLimit TokenLimit
	// Metrics counts issued tokens and ended authorizations; nil counts
	// nothing.
	Metrics Metrics
}

// Server is the authorization server. Create it with New.
type Server struct {
	st    Store
	keys  *keys.Set
	pages *web.Pages
	audit *audit.Recorder
	dpop  *dpop.Verifier
	// dpopNonces requires server nonces in token-endpoint proofs.
	dpopNonces         bool
	dpopResourceNonces bool
	texts              *scopetext.Catalog
	remoteKeys         KeySource
	appStateEndpoint   string
	consentDocs        string
	managementEndpoint string
	// registrationTokenHash is Hash of the initial access token; "" = off.
	registrationTokenHash string
	refuseUnexplainable   bool
	logger                *slog.Logger
	issuer                string
	fhirBase              string
	login                 string
	now                   func() time.Time

	codeTTL, accessTTL, requestTTL  time.Duration
	refreshIdleTTL, offlineLifetime time.Duration

	tokens *tokenCache
	ended  *endedSet
	// tokenLimit is nil, allowing everything, when TokenLimit is off.
	tokenLimit *ratelimit.Buckets
	metrics    Metrics
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Keys == nil || cfg.Pages == nil || cfg.Texts == nil {
		return nil, errors.New("oauth: Store, Keys, Pages and Texts are required")
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, errors.New("oauth: Issuer must be an absolute http(s) URL")
	}
	s := &Server{
		st:                  cfg.Store,
		keys:                cfg.Keys,
		pages:               cfg.Pages,
		audit:               cfg.Audit,
		dpop:                cfg.DPoP,
		texts:               cfg.Texts,
		remoteKeys:          cfg.RemoteKeys,
		appStateEndpoint:    cfg.AppStateEndpoint,
		consentDocs:         cfg.ConsentDocs,
		managementEndpoint:  cfg.ManagementEndpoint,
		refuseUnexplainable: cfg.RefuseUnexplainable,
		dpopNonces:          !cfg.DPoPNoncesOptional,
		dpopResourceNonces:  cfg.DPoPResourceNonces,
		logger:              cfg.Logger,
		issuer:              strings.TrimSuffix(cfg.Issuer, "/"),
		login:               cfg.LoginPath,
		now:                 cfg.Now,
		metrics:             cfg.Metrics,
		codeTTL:             orDefault(cfg.CodeTTL, 60*time.Second),
		accessTTL:           orDefault(cfg.AccessTokenTTL, time.Hour),
		requestTTL:          orDefault(cfg.AuthRequestTTL, 15*time.Minute),

		refreshIdleTTL:  orDefault(cfg.RefreshIdleTTL, 30*24*time.Hour),
		offlineLifetime: orDefault(cfg.OfflineLifetime, 180*24*time.Hour),
	}
	s.fhirBase = s.issuer + "/fhir"
	if cfg.RegistrationToken != "" {
		s.registrationTokenHash = store.Hash(cfg.RegistrationToken)
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.login == "" {
		s.login = "/login"
	}
	s.tokenLimit = ratelimit.NewBuckets(cfg.TokenLimit.Rate, cfg.TokenLimit.Burst, cfg.TokenLimit.MaxKeys, s.now)
	s.tokens = newTokenCache(10000)
	s.ended = newEndedSet(cfg.Store, orDefault(cfg.EndedCacheTTL, 500*time.Millisecond), s.accessTTL)
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// FHIRBase returns the FHIR base URL this server issues tokens for.
func (s *Server) FHIRBase() string { return s.fhirBase }

// Register adds the server's routes to mux. The authorization endpoint
// takes cross-site form posts by design ("authorize-post"), so it gets the
// page headers without CSRF protection; it changes no state a user has
// not yet confirmed on our own protected forms.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle("GET /fhir/.well-known/smart-configuration", cors(http.HandlerFunc(s.smartConfiguration)))
	mux.Handle("GET /.well-known/openid-configuration", cors(http.HandlerFunc(s.openIDConfiguration)))
	mux.Handle("GET /.well-known/jwks.json", cors(http.HandlerFunc(s.jwks)))
	mux.Handle("/authorize", web.Headers(http.HandlerFunc(s.authorize)))
	mux.Handle("GET /authorize/continue", web.Secure(http.HandlerFunc(s.authorizeContinue)))
	mux.Handle("/token", cors(http.HandlerFunc(s.token)))
	mux.Handle("/introspect", cors(http.HandlerFunc(s.introspect)))
	mux.Handle("/revoke", cors(http.HandlerFunc(s.revoke)))
	if s.registrationTokenHash != "" {
		mux.Handle("POST /register", http.HandlerFunc(s.register))
	}
}

// Endpoint URLs, absolute (R-DISC-09).
func (s *Server) authorizeURL() string  { return s.issuer + "/authorize" }
func (s *Server) tokenURL() string      { return s.issuer + "/token" }
func (s *Server) jwksURL() string       { return s.issuer + "/.well-known/jwks.json" }
func (s *Server) introspectURL() string { return s.issuer + "/introspect" }
func (s *Server) revokeURL() string     { return s.issuer + "/revoke" }

// registerURL is the registration endpoint, or "" while registration is off.
func (s *Server) registerURL() string {
	if s.registrationTokenHash == "" {
		return ""
	}
	return s.issuer + "/register"
}

// Endpoints returns the absolute authorize and token URLs, for the FHIR
// CapabilityStatement's oauth-uris extension.
func (s *Server) Endpoints() (authorize, token string) { return s.authorizeURL(), s.tokenURL() }

// randomToken returns 256 bits from crypto/rand, base64url-encoded.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand doc)
	return base64.RawURLEncoding.EncodeToString(b)
}

// cors allows any origin to call h, as SMART requires for discovery and the
// token endpoint used by browser apps (R-DISC-11, I-CORS-01, I-CORS-03).
// Credentials are never allowed, so reflecting the origin is safe.
func cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		if origin := r.Header.Get("Origin"); origin != "" {
			hd.Set("Access-Control-Allow-Origin", origin)
			hd.Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			hd.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, DPoP")
			hd.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Purge deletes expired authorization requests and one-time-value (jti)
// records, codes that expired more than an access-token lifetime ago
// (until then a used code is kept, so that replaying it still ends the
// tokens it produced, RFC 6749 §4.1.2), and stale refresh tokens, a batch
// at a time (purgeBatch, for at most purgeBudget per call): expired ones,
// those of ended or expired authorizations, and used ones beyond the
// usedTokensKept most recent of their authorization. A replay of a kept
// one ends the authorization; the legitimate client and a thief collide
// on the very next rotation, so the few most recent are what detection
// needs, and storage stays flat under steady refreshing.
func (s *Server) Purge(ctx context.Context) error {
	now := s.now()
	if _, err := s.st.DeleteExpiredAuthRequests(ctx, now); err != nil {
		return err
	}
	if _, err := s.st.DeleteExpiredCodes(ctx, now.Add(-s.accessTTL)); err != nil {
		return err
	}
	if _, err := s.st.DeleteExpiredReplays(ctx, now); err != nil {
		return err
	}
	// The budget is wall-clock work time, not the injectable clock: a
	// sweep ends when a batch comes back short or the budget is spent.
	for start := time.Now(); time.Since(start) < purgeBudget; {
		n, err := s.st.DeleteStaleRefreshTokens(ctx, now, usedTokensKept, purgeBatch)
		if err != nil || n < purgeBatch {
			return err
		}
	}
	return nil
}

// The refresh-token sweep of Purge: batches of purgeBatch, for at most
// purgeBudget per call.
const (
	usedTokensKept = 8
	purgeBatch     = 500
	purgeBudget    = 5 * time.Second
)

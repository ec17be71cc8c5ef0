package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/account"
	"github.com/smartlaunch/smartlaunch/internal/appstate"
	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/consent"
	"github.com/smartlaunch/smartlaunch/internal/consentdocs"
	"github.com/smartlaunch/smartlaunch/internal/dpop"
	"github.com/smartlaunch/smartlaunch/internal/ehr"
	"github.com/smartlaunch/smartlaunch/internal/fhir"
	"github.com/smartlaunch/smartlaunch/internal/fhir/upstream"
	"github.com/smartlaunch/smartlaunch/internal/keys"
	"github.com/smartlaunch/smartlaunch/internal/metrics"
	"github.com/smartlaunch/smartlaunch/internal/oauth"
	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
	"github.com/smartlaunch/smartlaunch/internal/reminders"
	"github.com/smartlaunch/smartlaunch/internal/remotekeys"
	"github.com/smartlaunch/smartlaunch/internal/session"
	"github.com/smartlaunch/smartlaunch/internal/signin"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/usage"
	"github.com/smartlaunch/smartlaunch/internal/web"
	"github.com/smartlaunch/smartlaunch/smart"
	"github.com/smartlaunch/smartlaunch/smart/scopetext"
)

// Config is everything the server needs, built by cmd.
type Config struct {
	Store store.Store
	// BaseURL is the public URL of the server, such as
	// "http://127.0.0.1:8080" or "https://smart.example.org".
	BaseURL string
	Logger  *slog.Logger
	Now     func() time.Time
	// Token lifetimes; zero takes the defaults documented in oauth.Config.
	AccessTokenTTL  time.Duration
	RefreshIdleTTL  time.Duration
	OfflineLifetime time.Duration
	// OnlineTTL is the sign-in session lifetime, which bounds online_access.
	OnlineTTL time.Duration
	// RefuseUnexplainableScopes refuses scopes that cannot be said in one
	// plain sentence instead of showing them with a warning.
	RefuseUnexplainableScopes bool
	// RegistrationToken, when set, turns on dynamic client registration
	// for callers presenting it (RFC 7591 initial access token).
	RegistrationToken string
	// AccessRetention is how long per-day data-access counts are kept
	// (default 90 days).
	AccessRetention time.Duration
	// Mail, when its Addr is set, sends reminder digests by SMTP.
	Mail reminders.MailConfig
	// Reminders is the reminder policy; zero fields take its defaults.
	Reminders reminders.Policy
	// AllowPrivateJWKS lets the server fetch client keys from private and
	// link-local addresses (an operator's explicit choice, for apps inside
	// a private network); cloud metadata addresses are link-local too.
	AllowPrivateJWKS bool
	// Upstream, when set, makes the FHIR API a proxy in front of this
	// FHIR server (fhir.Config.Upstream) instead of serving the store's
	// resources.
	Upstream *upstream.Client
	// SignInLimits bound failed sign-ins on every password form (the
	// authorization sign-in, the account pages, the EHR simulator), counted
	// together; zero fields take ratelimit.DefaultSignInLimits.
	SignInLimits ratelimit.SignInLimits
	// TokenLimit bounds token-endpoint requests per client
	// (oauth.TokenLimit); the zero value, the default, is off.
	TokenLimit oauth.TokenLimit
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (ratelimit.Proxies); none by default, when the client is
	// the connection's peer. The client address keys the per-address
	// limits and is logged with each request.
	TrustedProxies ratelimit.Proxies
	// Keys is the signing-key policy: scheduled rotation, publish-ahead
	// and encryption at rest (the zero value: no scheduled rotation, keys
	// in the clear). New sets its Now, and its MaxTokenLifetime to
	// AccessTokenTTL, which bounds id_tokens too.
	Keys keys.Options
}

// Server is the assembled application.
type Server struct {
	handler http.Handler
	logger  *slog.Logger
	// OAuth is the authorization server, exposed for tests and benchmarks.
	OAuth *oauth.Server
	// FHIR is the FHIR API, exposed for tests and benchmarks.
	FHIR *fhir.Server

	usage           *usage.Recorder
	reminders       *reminders.Service
	lastReminders   time.Time
	st              store.Store
	keys            *keys.Set
	audit           *audit.Recorder
	now             func() time.Time
	accessRetention time.Duration
}

// FlushUsage writes the data-access counts gathered so far (the janitor
// does it every few seconds; tests call it to see them at once).
func (s *Server) FlushUsage(ctx context.Context) error { return s.usage.Flush(ctx) }

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// New builds the server: loads or creates signing keys and wires every
// feature package into one handler.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// Every line logged while serving a request names its request id, and
	// every store call is timed, on either backend.
	cfg.Logger = slog.New(withRequestIDs(cfg.Logger.Handler()))
	mets := metrics.New()
	cfg.Store = mets.InstrumentStore(cfg.Store)
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("server: invalid base URL %q", cfg.BaseURL)
	}
	cfg.Keys.Now, cfg.Keys.MaxTokenLifetime = cfg.Now, cfg.AccessTokenTTL // zero: both default to 1 h
	ks, err := keys.Open(ctx, cfg.Store, cfg.Keys)
	if err != nil {
		return nil, err
	}
	pages, err := web.New(cfg.Logger)
	if err != nil {
		return nil, err
	}
	rec := audit.New(cfg.Store, cfg.Logger.With("component", "audit"), cfg.Now)
	rec.SetThrottle(audit.DefaultThrottle) // unauthenticated failures cannot flood the trail
	nonceKey, err := ks.DeriveSecret("dpop nonce")
	if err != nil {
		return nil, err
	}
	dv, err := dpop.New(dpop.Config{Replay: cfg.Store, NonceKey: nonceKey, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	sessions := session.New(cfg.Store, cfg.OnlineTTL, base.Scheme == "https", cfg.Now)
	locales, err := web.LoadLocales()
	if err != nil {
		return nil, err
	}
	issuer := strings.TrimSuffix(cfg.BaseURL, "/")
	var mailer *reminders.Mailer
	if cfg.Mail.Addr != "" {
		mailer = reminders.NewMailer(cfg.Mail, func(ctx context.Context, userID string) (string, string, bool) {
			u, err := cfg.Store.GetUser(ctx, userID)
			return u.Email, u.Language, err == nil && u.Email != ""
		})
	}
	rems := reminderAdapter{reminders.NewService(cfg.Store, cfg.Reminders, mailer, issuer+"/account", cfg.Now,
		cfg.Logger.With("component", "reminders"))}
	texts, err := scopetext.New()
	if err != nil {
		return nil, err
	}
	// A server reached on a loopback address is a developer's sandbox: it
	// may fetch client keys from loopback URLs too. Anything else may not.
	fetcher := remotekeys.New(remotekeys.Config{AllowLoopback: isLoopbackHost(base.Hostname()),
		AllowPrivate: cfg.AllowPrivateJWKS, Now: cfg.Now})
	as, err := oauth.New(oauth.Config{
		Store: cfg.Store, Keys: ks, Pages: pages, Audit: rec, DPoP: dv, Logger: cfg.Logger.With("component", "oauth"),
		RemoteKeys: fetcher, RegistrationToken: cfg.RegistrationToken,
		ManagementEndpoint: strings.TrimSuffix(cfg.BaseURL, "/") + "/account", AppStateEndpoint: strings.TrimSuffix(cfg.BaseURL, "/") + appStatePath,
		Texts: texts, RefuseUnexplainable: cfg.RefuseUnexplainableScopes, ConsentDocs: strings.TrimSuffix(cfg.BaseURL, "/") + consentdocs.PagePath,
		Issuer: cfg.BaseURL, LoginPath: "/login", Now: cfg.Now,
		AccessTokenTTL: cfg.AccessTokenTTL, RefreshIdleTTL: cfg.RefreshIdleTTL,
		OfflineLifetime: cfg.OfflineLifetime, TokenLimit: cfg.TokenLimit, Metrics: mets,
	})
	if err != nil {
		return nil, err
	}
	// Derived from the shared signing key, so every instance honours the
	// paging links another made.
	linkSecret, err := ks.DeriveSecret("fhir proxy paging links")
	if err != nil {
		return nil, err
	}
	authorize, token := as.Endpoints()
	rec2 := usage.New(cfg.Store, cfg.Now)
	fs := fhir.New(fhir.Config{
		Usage:      rec2,
		Store:      cfg.Store,
		Upstream:   cfg.Upstream,
		LinkSecret: linkSecret,
		Verifier:   verifier{as},
		BaseURL:    as.FHIRBase(),
		OAuth:      fhir.OAuthURIs{Authorize: authorize, Token: token},
		Logger:     cfg.Logger.With("component", "fhir"),
		Now:        cfg.Now,
		Audit:      cfg.Store,
	})

	// The patient picker and the EHR simulator look patients up where the
	// FHIR API serves them from: the upstream, in proxy mode.
	var data store.Store = cfg.Store
	if res := fs.UpstreamResources(); res != nil {
		data = proxiedStore{Store: cfg.Store, res: res}
	}
	secret, err := ks.DeriveSecret("consent cookie")
	if err != nil {
		return nil, err
	}
	// One guard for every password form: failures on one count on all.
	signIn := signin.New(cfg.Store, ratelimit.NewSignIn(cfg.SignInLimits, cfg.Now), rec)
	cp, err := consent.New(consent.Config{
		Store: data, Pages: pages, Secret: secret, ContinuePath: "/authorize/continue",
		SecureCookies: base.Scheme == "https", Sessions: sessions, Texts: texts, Locales: locales, Audit: rec,
		ManagePath: "/account", Reminders: rems, SignIn: signIn,
		Logger: cfg.Logger.With("component", "consent"), Now: cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	sim, err := ehr.New(ehr.Config{Store: data, Pages: pages, Sessions: sessions, Verifier: bearerVerifier{as}, Reminders: rems,
		Issuer: strings.TrimSuffix(cfg.BaseURL, "/"), FHIRBase: as.FHIRBase(), SignIn: signIn, Logger: cfg.Logger.With("component", "ehr"), Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	state := appstate.New(appstate.Config{Store: cfg.Store, Clients: cfg.Store, Verifier: appStateVerifier{as, issuer + appStatePath},
		Base: issuer + appStatePath, FHIRBase: as.FHIRBase(), Now: cfg.Now, Logger: cfg.Logger.With("component", "appstate")})
	acct, err := account.New(account.Config{Store: cfg.Store, Pages: pages, Sessions: sessions, Texts: texts, Locales: locales,
		Ender: as, Reminders: rems, SignIn: signIn, Logger: cfg.Logger.With("component", "account"), Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	acct.Register(mux)
	mux.Handle(appStatePath+"/", http.StripPrefix(appStatePath, state))
	as.Register(mux)
	cp.Register(mux)
	sim.Register(mux)
	docs, err := consentdocs.New(consentdocs.Config{Texts: texts})
	if err != nil {
		return nil, err
	}
	docs.Register(mux)
	// The base itself, without a slash, takes batches, transactions and
	// system searches ([base]?_type=...), which a redirect would lose.
	mux.Handle("/fhir", http.StripPrefix("/fhir", fs))
	mux.Handle("/fhir/", http.StripPrefix("/fhir", fs))
	mux.Handle("GET /static/", web.Static())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /readyz", readyz(cfg.Store, cfg.Logger))
	mux.Handle("GET /metrics", mets.Handler())
	mux.Handle("GET /{$}", web.Secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "smartlaunch: SMART on FHIR sandbox\nFHIR base: %s\n", as.FHIRBase())
	})))
	return &Server{handler: clientAddress(cfg.TrustedProxies, logRequests(cfg.Logger, mets, recoverPanics(cfg.Logger, mux))), logger: cfg.Logger, OAuth: as, FHIR: fs, keys: ks, audit: rec,
		usage: rec2, reminders: rems.svc, st: cfg.Store, now: cfg.Now, accessRetention: orDefault(cfg.AccessRetention, 90*24*time.Hour)}, nil
}

// ServeHTTP serves every route of the application.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// verifier adapts the authorization server's credential check to the FHIR
// server's TokenVerifier, so neither feature package imports the other.
type verifier struct{ as *oauth.Server }

func (v verifier) VerifyRequest(r *http.Request) (fhir.Access, error) {
	// The FHIR handler is mounted under /fhir with the prefix stripped; the
	// DPoP proof's htu names the URL as clients see it.
	c, err := v.as.VerifyResourceRequest(r, v.as.FHIRBase()+r.URL.EscapedPath())
	var re *oauth.ResourceError
	if errors.As(err, &re) {
		return fhir.Access{}, &fhir.AuthError{Scheme: re.Scheme, Code: re.Code, Nonce: re.Nonce}
	}
	if err != nil {
		return fhir.Access{}, err
	}
	return fhir.Access{
		AuthorizationID: c.AuthorizationID,
		ClientID:        c.ClientID,
		FHIRUser:        c.FHIRUser,
		Patient:         c.Patient,
		Scopes:          smart.ParseScopes(c.Scope),
	}, nil
}

// appStatePath is where the App State endpoint is mounted, advertised as
// smart_app_state_endpoint (R-STATE-07).
const appStatePath = "/appstate"

// appStateVerifier adapts the credential check to the App State endpoint.
type appStateVerifier struct {
	as   *oauth.Server
	base string
}

func (v appStateVerifier) VerifyRequest(r *http.Request) (appstate.Caller, error) {
	c, err := v.as.VerifyResourceRequest(r, v.base+r.URL.EscapedPath())
	var re *oauth.ResourceError
	if errors.As(err, &re) {
		return appstate.Caller{}, &appstate.AuthError{Scheme: re.Scheme, Code: re.Code, Nonce: re.Nonce}
	}
	if err != nil {
		return appstate.Caller{}, err
	}
	return appstate.Caller{ClientID: c.ClientID, Patient: c.Patient, FHIRUser: c.FHIRUser, Scopes: smart.ParseScopes(c.Scope)}, nil
}

// reminderAdapter offers the reminder service to the pages that show
// reminders, in the shapes they declare.
type reminderAdapter struct{ svc *reminders.Service }

func (a reminderAdapter) Pending(ctx context.Context, userID string) ([]account.Reminder, error) {
	rs, err := a.svc.Pending(ctx, userID)
	out := make([]account.Reminder, 0, len(rs))
	for _, r := range rs {
		out = append(out, account.Reminder{ID: r.ID, Kind: r.Kind, AuthorizationIDs: r.AuthorizationIDs, CreatedAt: r.CreatedAt})
	}
	return out, err
}

func (a reminderAdapter) HasPending(ctx context.Context, userID string) (bool, error) {
	rs, err := a.svc.Pending(ctx, userID)
	return len(rs) > 0, err
}

func (a reminderAdapter) Done(ctx context.Context, userID, id string) error {
	return a.svc.Done(ctx, userID, id)
}

func (a reminderAdapter) Snooze(ctx context.Context, userID, id string, d time.Duration) error {
	return a.svc.Snooze(ctx, userID, id, d)
}

// RunReminders evaluates the reminder policy for every user now (the
// janitor does it daily; tests call it).
func (s *Server) RunReminders(ctx context.Context) (int, error) { return s.reminders.RunOnce(ctx) }

// bearerVerifier adapts the token check for the EHR simulator's API.
type bearerVerifier struct{ as *oauth.Server }

func (v bearerVerifier) VerifyBearer(ctx context.Context, token string) (string, string, error) {
	c, err := v.as.VerifyAccessToken(ctx, token)
	if err != nil {
		return "", "", err
	}
	if c.Confirmation != nil {
		return "", "", errors.New("server: a DPoP-bound token presented as a bearer token")
	}
	return c.ClientID, c.Scope, nil
}

// Run serves the application on ln until ctx is done, then shuts down
// gracefully, letting requests in flight finish. While it runs, a janitor
// deletes expired authorization requests and codes once a minute.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	// The janitor outlives ctx until the in-flight requests are done, so
	// that its last flush, which Run waits for, holds their counts too.
	janitorCtx, stopJanitor := context.WithCancel(context.WithoutCancel(ctx))
	janitorDone := make(chan struct{})
	go func() {
		defer close(janitorDone)
		s.janitor(janitorCtx, 10*time.Second)
	}()
	defer func() {
		stopJanitor()
		<-janitorDone
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			return fmt.Errorf("server: shutdown: %w", err)
		}
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// janitor writes access counts and purges expired state every interval
// until ctx is done, then writes the last counts.
func (s *Server) janitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.usage.Flush(context.WithoutCancel(ctx)); err != nil {
				s.logger.Error("flush access counts", "err", err)
			}
			return
		case <-t.C:
			if err := s.usage.Flush(ctx); err != nil && ctx.Err() == nil {
				s.logger.Error("flush access counts", "err", err)
			}
			if err := s.OAuth.Purge(ctx); err != nil && ctx.Err() == nil {
				s.logger.Error("purge expired state", "err", err)
			}
			s.maintainKeys(ctx)
			if _, err := s.st.DeleteAccessBefore(ctx, s.now().Add(-s.accessRetention)); err != nil && ctx.Err() == nil {
				s.logger.Error("purge old access counts", "err", err)
			}
			// Reminders are evaluated once a day (the policy's cadence is
			// months; a day's delay is nothing).
			if now := s.now(); now.Sub(s.lastReminders) >= 24*time.Hour {
				if _, err := s.reminders.RunOnce(ctx); err != nil && ctx.Err() == nil {
					s.logger.Error("reminders", "err", err)
				}
				s.lastReminders = now
			}
		}
	}
}

// maintainKeys runs the signing-key schedule (keys.Set.Maintain): keys
// another instance created are read, the next key is published when due,
// and old keys retire once every token they signed has expired.
func (s *Server) maintainKeys(ctx context.Context) {
	created, err := s.keys.Maintain(ctx)
	if len(created) > 0 {
		s.audit.Record(ctx, store.AuditEvent{Type: audit.KeysRotated, Detail: strings.Join(created, " ")})
	}
	if err != nil && ctx.Err() == nil {
		s.logger.Error("signing keys", "err", err)
	}
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func trimPath(p string) string {
	if len(p) > 200 {
		return p[:200] + "…"
	}
	return strings.ToValidUTF8(p, "?")
}

package consent

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
	"github.com/smartlaunch/smartlaunch/internal/session"
	"github.com/smartlaunch/smartlaunch/internal/signin"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/web"
	"github.com/smartlaunch/smartlaunch/smart"
	"github.com/smartlaunch/smartlaunch/smart/scopetext"
)

// Store is the part of the store the consent pages use.
type Store interface {
	store.AuthRequests
	store.Users
	store.Clients
	store.Resources
	store.Launches
}

// ReminderChecker says whether a person has reminders to see.
type ReminderChecker interface {
	HasPending(ctx context.Context, userID string) (bool, error)
}

// Config configures the consent pages.
type Config struct {
	Store Store
	Pages *web.Pages
	// Secret keys the browser-binding cookie's HMAC (32 bytes).
	Secret []byte
	// ContinuePath is where a decided request is sent: the oauth package's
	// /authorize/continue.
	ContinuePath string
	// SecureCookies sets the Secure attribute; true when served over HTTPS.
	SecureCookies bool
	// Sessions keeps people signed in across apps and the EHR simulator.
	Sessions *session.Manager
	// Texts says each scope in plain words in the person's language.
	Texts *scopetext.Catalog
	// Locales holds the pages' own text in each language.
	Locales *web.Locales
	// Audit records refused tampering with the forms.
	Audit *audit.Recorder
	// ManagePath is the connected-apps page, where people take access back.
	ManagePath string
	// Reminders, when set, says whether a person has reminders about
	// connected apps; the consent page then shows a notice.
	Reminders ReminderChecker
	// SignIn checks the sign-in form's passwords; the server shares one
	// among all its password forms. Nil makes one of its own with the
	// default limits, recording to Audit.
	SignIn *signin.Guard
	Logger *slog.Logger
	Now    func() time.Time
}

// Pages serves the sign-in, picker and consent pages.
type Pages struct {
	cfg    Config
	logger *slog.Logger
	now    func() time.Time
	signIn *signin.Guard
}

// New returns the consent pages for cfg.
func New(cfg Config) (*Pages, error) {
	if cfg.Store == nil || cfg.Pages == nil || cfg.Texts == nil || cfg.Locales == nil || cfg.Sessions == nil ||
		len(cfg.Secret) < 32 || cfg.ContinuePath == "" {
		return nil, errors.New("consent: Store, Pages, Texts, Locales, Sessions, a 32-byte Secret and ContinuePath are required")
	}
	p := &Pages{cfg: cfg, logger: cfg.Logger, now: cfg.Now}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.signIn = cfg.SignIn; p.signIn == nil {
		p.signIn = signin.New(cfg.Store, ratelimit.NewSignIn(ratelimit.SignInLimits{}, p.now), cfg.Audit)
	}
	return p, nil
}

// Register adds the pages to mux, each with web.Secure's headers and
// CSRF protection.
func (p *Pages) Register(mux *http.ServeMux) {
	secure := web.Secure
	mux.Handle("GET /login", secure(http.HandlerFunc(p.loginPage)))
	mux.Handle("POST /login", secure(http.HandlerFunc(p.login)))
	mux.Handle("GET /pick", secure(http.HandlerFunc(p.pickPage)))
	mux.Handle("POST /pick", secure(http.HandlerFunc(p.pick)))
	mux.Handle("GET /consent", secure(http.HandlerFunc(p.consentPage)))
	mux.Handle("POST /consent", secure(http.HandlerFunc(p.consent)))
	mux.Handle("GET /logout", secure(http.HandlerFunc(p.logoutPage)))
	mux.Handle("POST /logout", secure(http.HandlerFunc(p.logout)))
}

// MaxFormBytes bounds the forms these pages accept.
const MaxFormBytes = 64 << 10

// errPage is a failure to show as an error page with a fixed message.
type errPage struct {
	status int
	msg    string
	cause  error
}

func (e *errPage) Error() string { return e.msg }

var (
	errUnknownRequest = &errPage{status: http.StatusBadRequest, msg: "This sign-in has finished or expired. Start again from the app."}
	errNotBound       = &errPage{status: http.StatusForbidden, msg: "This sign-in belongs to another browser window. Start again from the app."}
)

// fail writes err as an error page, logging its cause once.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ep *errPage
	if !errors.As(err, &ep) {
		p.logger.ErrorContext(r.Context(), "consent", "err", err)
		p.cfg.Pages.Error(w, http.StatusInternalServerError, "Something went wrong on our side.")
		return
	}
	if ep.cause != nil {
		p.logger.ErrorContext(r.Context(), "consent", "err", ep.cause)
	}
	p.cfg.Pages.Error(w, ep.status, ep.msg)
}

// form parses a POSTed form strictly: bounded size, no repeated fields
// except those in multi.
func form(w http.ResponseWriter, r *http.Request, multi ...string) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, &errPage{status: http.StatusBadRequest, msg: "The form could not be read."}
	}
	for k, vs := range r.PostForm {
		if len(vs) > 1 && !contains(multi, k) {
			return nil, &errPage{status: http.StatusBadRequest, msg: "The form could not be read."}
		}
	}
	return r.PostForm, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// request loads a pending, unexpired authorization request and its client.
func (p *Pages) request(ctx context.Context, id string) (store.AuthRequest, store.Client, error) {
	if id == "" {
		return store.AuthRequest{}, store.Client{}, errUnknownRequest
	}
	req, err := p.cfg.Store.GetAuthRequest(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!p.now().Before(req.ExpiresAt) || req.Decision != store.DecisionPending)) {
		return req, store.Client{}, errUnknownRequest
	}
	if err != nil {
		return req, store.Client{}, err
	}
	c, err := p.cfg.Store.GetClient(ctx, req.ClientID)
	if err != nil {
		return req, c, err
	}
	return req, c, nil
}

// boundRequest is request plus the check that this browser signed in for it.
func (p *Pages) boundRequest(r *http.Request, id string) (store.AuthRequest, store.Client, store.User, error) {
	req, c, err := p.request(r.Context(), id)
	if err != nil {
		return req, c, store.User{}, err
	}
	ck, err := r.Cookie(cookieName(req.ID))
	if err != nil || req.UserID == "" || !hmac.Equal([]byte(ck.Value), []byte(p.binding(req.ID, req.UserID))) {
		return req, c, store.User{}, errNotBound
	}
	u, err := p.cfg.Store.GetUser(r.Context(), req.UserID)
	return req, c, u, err
}

func cookieName(reqID string) string {
	sum := sha256.Sum256([]byte(reqID))
	return "smartlaunch_auth_" + base64.RawURLEncoding.EncodeToString(sum[:9])
}

func (p *Pages) binding(reqID, userID string) string {
	m := hmac.New(sha256.New, p.cfg.Secret)
	m.Write([]byte("consent-binding\x00" + reqID + "\x00" + userID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (p *Pages) setBinding(w http.ResponseWriter, req store.AuthRequest) {
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName(req.ID),
		Value:    p.binding(req.ID, req.UserID),
		Path:     "/",
		MaxAge:   int(req.ExpiresAt.Sub(p.now()) / time.Second),
		HttpOnly: true,
		Secure:   p.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	})
}

// needsPatient reports whether the request needs a patient context: it
// asked for launch/patient or for any patient/ scope.
func needsPatient(scope string) bool {
	set := smart.ParseScopes(scope)
	if set.Has("launch/patient") {
		return true
	}
	for _, s := range set.Resources {
		if s.Context == "patient" {
			return true
		}
	}
	return false
}

func redirect(w http.ResponseWriter, r *http.Request, path, reqID string) {
	http.Redirect(w, r, path+"?request="+url.QueryEscape(reqID), http.StatusSeeOther)
}

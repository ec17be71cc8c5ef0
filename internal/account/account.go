package account

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/password"
	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
	"github.com/smartlaunch/smartlaunch/internal/session"
	"github.com/smartlaunch/smartlaunch/internal/signin"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/web"
	"github.com/smartlaunch/smartlaunch/smart/scopetext"
)

// Store is the part of the store the page reads.
type Store interface {
	store.Users
	store.Clients
	store.Authorizations
	store.AccessRecords
}

// AccessEnder ends an authorization at once, everywhere (the
// authorization server provides it).
type AccessEnder interface {
	EndAuthorization(ctx context.Context, id string, reason store.EndReason)
}

// Reminder is a reminder about connected apps to show the person.
type Reminder struct {
	ID string
	// Kind is "offline-granted", "review", "dormant" or "security".
	Kind             string
	AuthorizationIDs []string
	CreatedAt        time.Time
}

// Reminders is what the page needs of the reminder service.
type Reminders interface {
	Pending(ctx context.Context, userID string) ([]Reminder, error)
	Done(ctx context.Context, userID, id string) error
	Snooze(ctx context.Context, userID, id string, d time.Duration) error
}

// Config configures the page.
type Config struct {
	Store     Store
	Pages     *web.Pages
	Sessions  *session.Manager
	Texts     *scopetext.Catalog
	Locales   *web.Locales
	Ender     AccessEnder
	Reminders Reminders // nil: no reminders shown
	// SignIn checks the sign-in form's passwords; the server shares one
	// among all its password forms. Nil makes one of its own with the
	// default limits, recording nothing.
	SignIn *signin.Guard
	Logger *slog.Logger
	Now    func() time.Time
}

// Page serves /account.
type Page struct{ cfg Config }

// New returns the page for cfg.
func New(cfg Config) (*Page, error) {
	if cfg.Store == nil || cfg.Pages == nil || cfg.Sessions == nil || cfg.Texts == nil || cfg.Locales == nil || cfg.Ender == nil {
		return nil, errors.New("account: Store, Pages, Sessions, Texts, Locales and Ender are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SignIn == nil {
		cfg.SignIn = signin.New(cfg.Store, ratelimit.NewSignIn(ratelimit.SignInLimits{}, cfg.Now), nil)
	}
	return &Page{cfg: cfg}, nil
}

// Register adds the routes, with web.Secure's headers and CSRF protection.
func (p *Page) Register(mux *http.ServeMux) {
	mux.Handle("GET /account", web.Secure(http.HandlerFunc(p.home)))
	mux.Handle("POST /account/login", web.Secure(http.HandlerFunc(p.login)))
	mux.Handle("GET /account/apps/{id}/end", web.Secure(http.HandlerFunc(p.confirmEnd)))
	mux.Handle("POST /account/apps/{id}/end", web.Secure(http.HandlerFunc(p.end)))
	mux.Handle("POST /account/reminders/{id}", web.Secure(http.HandlerFunc(p.reminder)))
}

// page is the common data of every account page.
type page struct {
	L      web.Locale
	Title  string
	Switch []langLink
}

type langLink struct {
	Tag, Name, URL string
	Current        bool
}

var languages = []struct{ tag, name string }{
	{"en", "English"}, {"es", "Español"}, {"fr", "Français"}, {"de", "Deutsch"},
}

func (p *Page) newPage(r *http.Request, titleKey string) (page, language.Tag) {
	pref := r.Header.Get("Accept-Language")
	if c, err := r.Cookie("smartlaunch_lang"); err == nil {
		pref = c.Value
	}
	if q := r.URL.Query().Get("lang"); q != "" {
		pref = q
	}
	tag := p.cfg.Texts.Match(pref)
	l := p.cfg.Locales.Get(tag.String())
	pg := page{L: l, Title: l.T(titleKey)}
	for _, lang := range languages {
		q := url.Values{"lang": {lang.tag}}
		pg.Switch = append(pg.Switch, langLink{Tag: lang.tag, Name: lang.name, URL: r.URL.Path + "?" + q.Encode(), Current: l.Lang == lang.tag})
	}
	return pg, tag
}

func (p *Page) fail(w http.ResponseWriter, r *http.Request, err error) {
	p.cfg.Logger.ErrorContext(r.Context(), "account", "err", err)
	p.cfg.Pages.Error(w, http.StatusInternalServerError, "Something went wrong on our side.")
}

// tooManySignIns answers a sign-in refused by the limits.
const tooManySignIns = "There have been too many failed sign-ins. Wait a few minutes, then try again."

type loginData struct {
	page
	Error string
}

func (p *Page) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		p.cfg.Pages.Error(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	u, err := p.cfg.SignIn.Check(r.Context(), signin.Attempt{Form: audit.FormAccount,
		Username: r.PostForm.Get("username"), Password: r.PostForm.Get("password"), Address: ratelimit.Client(r)})
	var limited *signin.LimitedError
	switch {
	case errors.As(err, &limited):
		ratelimit.SetRetryAfter(w.Header(), limited.Wait)
		p.cfg.Pages.Error(w, http.StatusTooManyRequests, tooManySignIns)
		return
	case errors.Is(err, password.ErrMismatch):
		pg, _ := p.newPage(r, "login.title")
		p.cfg.Pages.Render(w, http.StatusUnauthorized, "account_login.html", loginData{page: pg, Error: pg.L.T("login.error")})
		return
	case err != nil:
		p.fail(w, r, err)
		return
	}
	if _, err := p.cfg.Sessions.Start(r.Context(), w, u); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

// signedIn returns the person, or shows the sign-in form and false.
func (p *Page) signedIn(w http.ResponseWriter, r *http.Request) (store.User, bool) {
	_, u, ok, err := p.cfg.Sessions.Current(r)
	if err != nil {
		p.fail(w, r, err)
		return u, false
	}
	if !ok {
		pg, _ := p.newPage(r, "login.title")
		p.cfg.Pages.Render(w, http.StatusOK, "account_login.html", loginData{page: pg})
		return u, false
	}
	return u, true
}

// sortNewest orders authorizations newest first.
func sortNewest(as []store.Authorization) {
	sort.SliceStable(as, func(i, j int) bool { return as[i].CreatedAt.After(as[j].CreatedAt) })
}

func joinKinds(kinds []string) string { return strings.Join(kinds, ", ") }

package ehr

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
	"github.com/smartlaunch/smartlaunch/internal/session"
	"github.com/smartlaunch/smartlaunch/internal/signin"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/web"
)

// Store is the part of the store the simulator uses.
type Store interface {
	store.Users
	store.Clients
	store.Resources
	store.Launches
}

// TokenVerifier checks the bearer token of a launch API call and returns
// the calling client and its granted scopes. The server adapts the
// authorization server to it.
type TokenVerifier interface {
	VerifyBearer(ctx context.Context, token string) (clientID, scope string, err error)
}

// ReminderChecker says whether a person has reminders to see.
type ReminderChecker interface {
	HasPending(ctx context.Context, userID string) (bool, error)
}

// Config configures the simulator.
type Config struct {
	Store    Store
	Pages    *web.Pages
	Sessions *session.Manager
	Verifier TokenVerifier
	// Issuer is the server's public base URL; FHIRBase the FHIR base given
	// to apps as iss.
	Issuer, FHIRBase string
	// Reminders, when set, says whether a person has reminders about
	// connected apps; the patient list then shows a notice.
	Reminders ReminderChecker
	// LaunchTTL is how long a launch id may be used; default 5 min.
	LaunchTTL time.Duration
	// SignIn checks the sign-in form's passwords; the server shares one
	// among all its password forms. Nil makes one of its own with the
	// default limits, recording nothing.
	SignIn *signin.Guard
	Logger *slog.Logger
	Now    func() time.Time
}

// Simulator serves the EHR simulator.
type Simulator struct {
	cfg Config
}

// New returns the simulator for cfg.
func New(cfg Config) (*Simulator, error) {
	if cfg.Store == nil || cfg.Pages == nil || cfg.Sessions == nil || cfg.Verifier == nil || cfg.FHIRBase == "" {
		return nil, errors.New("ehr: Store, Pages, Sessions, Verifier and FHIRBase are required")
	}
	if cfg.LaunchTTL <= 0 {
		cfg.LaunchTTL = 5 * time.Minute
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
	return &Simulator{cfg: cfg}, nil
}

// Register adds the simulator's routes to mux: pages with web.Secure's
// headers and CSRF protection, the JSON API and the style document.
func (s *Simulator) Register(mux *http.ServeMux) {
	mux.Handle("GET /ehr", web.Secure(http.HandlerFunc(s.home)))
	mux.Handle("POST /ehr/login", web.Secure(http.HandlerFunc(s.login)))
	mux.Handle("POST /ehr/logout", web.Secure(http.HandlerFunc(s.logout)))
	mux.Handle("GET /ehr/patients/{id}", web.Secure(http.HandlerFunc(s.chart)))
	mux.Handle("POST /ehr/patients/{id}/launch", web.Secure(http.HandlerFunc(s.launchFromChart)))
	mux.Handle("POST /ehr/api/launches", http.HandlerFunc(s.launchAPI))
	mux.HandleFunc("GET /ehr/style.json", s.style)
}

// StyleURL is the smart_style_url the simulator hands apps.
func (s *Simulator) StyleURL() string { return s.cfg.Issuer + "/ehr/style.json" }

// newLaunch stores a launch for client with context c and returns the
// launch parameter and the URL that opens the app with it (the app's launch
// URL with iss and launch, SMART App Launch §2.0.1).
func (s *Simulator) newLaunch(ctx context.Context, client store.Client, userID string, c store.LaunchContext) (string, string, error) {
	if client.LaunchURL == "" {
		return "", "", errNoLaunchURL
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	value := base64.RawURLEncoding.EncodeToString(b)
	now := s.cfg.Now()
	l := store.Launch{ID: store.Hash(value), ClientID: client.ID, UserID: userID, Context: c,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.LaunchTTL)}
	if err := s.cfg.Store.CreateLaunch(ctx, l); err != nil {
		return "", "", err
	}
	u, err := url.Parse(client.LaunchURL)
	if err != nil {
		return "", "", err
	}
	q := u.Query()
	q.Set("iss", s.cfg.FHIRBase)
	q.Set("launch", value)
	u.RawQuery = q.Encode()
	return value, u.String(), nil
}

var errNoLaunchURL = errors.New("ehr: the app has no launch URL")

// style serves the SMART style document (R-CTX-15): its URL is the
// version key, so a change of content needs a new URL.
func (s *Simulator) style(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write([]byte(`{
  "color_background": "#f7f8fa",
  "color_error": "#a40000",
  "color_highlight": "#0b5fa5",
  "color_modal_backdrop": "rgba(0, 0, 0, 0.4)",
  "color_success": "#1b7f3a",
  "color_text": "#1b1b1b",
  "dim_border_radius": "4px",
  "dim_font_size": "16px",
  "dim_spacing_size": "16px",
  "font_family_body": "system-ui, sans-serif",
  "font_family_heading": "system-ui, sans-serif"
}
`))
}

package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// CookieName is the session cookie's name.
const CookieName = "smartlaunch_session"

// Store is the part of the store sessions need.
type Store interface {
	store.Sessions
	store.Users
}

// Manager starts, finds and ends sessions.
type Manager struct {
	st     Store
	ttl    time.Duration
	secure bool
	now    func() time.Time
}

// New returns a Manager whose sessions last ttl (default 12 h); secure sets
// the cookie's Secure attribute (true when served over HTTPS).
func New(st Store, ttl time.Duration, secure bool, now func() time.Time) *Manager {
	if ttl <= 0 {
		ttl = 12 * time.Hour
	}
	if now == nil {
		now = time.Now
	}
	return &Manager{st: st, ttl: ttl, secure: secure, now: now}
}

// Start records a new session for u and sets its cookie. It returns the
// session's id.
func (m *Manager) Start(ctx context.Context, w http.ResponseWriter, u store.User) (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	value := base64.RawURLEncoding.EncodeToString(b)
	now := m.now()
	s := store.Session{ID: store.Hash(value), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(m.ttl)}
	if err := m.st.CreateSession(ctx, s); err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: value, Path: "/", MaxAge: int(m.ttl.Seconds()),
		HttpOnly: true, Secure: m.secure, SameSite: http.SameSiteLaxMode,
	})
	return s.ID, nil
}

// Current returns the live session of the request and its user, if any.
func (m *Manager) Current(r *http.Request) (store.Session, store.User, bool, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return store.Session{}, store.User{}, false, nil
	}
	s, err := m.st.GetSession(r.Context(), store.Hash(c.Value))
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, store.User{}, false, nil
	}
	if err != nil {
		return store.Session{}, store.User{}, false, err
	}
	if !s.Live(m.now()) {
		return store.Session{}, store.User{}, false, nil
	}
	u, err := m.st.GetUser(r.Context(), s.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, store.User{}, false, nil
	}
	if err != nil {
		return store.Session{}, store.User{}, false, err
	}
	return s, u, true, nil
}

// End ends the request's session, if any, and clears its cookie.
func (m *Manager) End(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(CookieName); err == nil {
		err := m.st.EndSession(r.Context(), store.Hash(c.Value), m.now())
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: m.secure, SameSite: http.SameSiteLaxMode})
	return nil
}

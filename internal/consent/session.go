package consent

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// sessionCookie holds the sign-in session: a random value whose hash is
// the stored session's ID.
const sessionCookie = "smartlaunch_session"

// startSession records a new sign-in session for u and sets its cookie.
func (p *Pages) startSession(ctx context.Context, w http.ResponseWriter, u store.User) (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	value := base64.RawURLEncoding.EncodeToString(b)
	now := p.now()
	sess := store.Session{ID: store.Hash(value), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(p.cfg.SessionTTL)}
	if err := p.cfg.Store.CreateSession(ctx, sess); err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: value, Path: "/", MaxAge: int(p.cfg.SessionTTL.Seconds()),
		HttpOnly: true, Secure: p.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
	return sess.ID, nil
}

type logoutData struct{ SignedOut bool }

func (p *Pages) logoutPage(w http.ResponseWriter, r *http.Request) {
	p.cfg.Pages.Render(w, http.StatusOK, "logout.html", logoutData{})
}

// logout ends the sign-in session: every online_access authorization
// approved in it stops working (its refresh tokens are refused).
func (p *Pages) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		err := p.cfg.Store.EndSession(r.Context(), store.Hash(c.Value), p.now())
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			p.fail(w, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: p.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
	p.cfg.Pages.Render(w, http.StatusOK, "logout.html", logoutData{SignedOut: true})
}

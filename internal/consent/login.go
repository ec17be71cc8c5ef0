package consent

import (
	"errors"
	"net/http"

	"github.com/smartlaunch/smartlaunch/internal/password"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

type loginData struct {
	RequestID  string
	ClientName string
	Username   string
	Error      string
}

func (p *Pages) loginPage(w http.ResponseWriter, r *http.Request) {
	req, c, err := p.request(r.Context(), r.URL.Query().Get("request"))
	if err != nil {
		p.fail(w, err)
		return
	}
	p.cfg.Pages.Render(w, http.StatusOK, "login.html", loginData{RequestID: req.ID, ClientName: c.Name})
}

// dummyHash is checked against when the username is unknown, so a wrong
// username takes as long as a wrong password.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c21hcnRsYXVuY2hkdW1teQ$Ckv3aX0j3VGAHvMHtqbh4PEyM3xqCjgSdbcmmnGZpwU"

func (p *Pages) login(w http.ResponseWriter, r *http.Request) {
	f, err := form(w, r)
	if err != nil {
		p.fail(w, err)
		return
	}
	req, c, err := p.request(r.Context(), f.Get("request"))
	if err != nil {
		p.fail(w, err)
		return
	}
	username := f.Get("username")
	u, err := p.cfg.Store.GetUserByUsername(r.Context(), username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		_ = password.Check(dummyHash, f.Get("password"))
		err = password.ErrMismatch
	case err == nil:
		err = password.Check(u.PasswordHash, f.Get("password"))
	}
	if errors.Is(err, password.ErrMismatch) {
		p.logger.Info("sign-in failed", "client", c.ID)
		p.cfg.Pages.Render(w, http.StatusUnauthorized, "login.html", loginData{
			RequestID: req.ID, ClientName: c.Name, Username: username,
			Error: "That username and password do not match. Try again.",
		})
		return
	}
	if err != nil {
		p.fail(w, err)
		return
	}
	sessionID, err := p.startSession(r.Context(), w, u)
	if err != nil {
		p.fail(w, err)
		return
	}
	req.UserID = u.ID
	req.SessionID = sessionID
	req.PatientID = ""
	if needsPatient(req.Scope) {
		choices, err := p.patientChoices(r.Context(), u)
		if err != nil {
			p.fail(w, err)
			return
		}
		if len(choices) == 0 {
			p.fail(w, &errPage{status: http.StatusForbidden, msg: "Your account is not linked to any patient record, so this app cannot be used with it."})
			return
		}
		if len(choices) == 1 {
			req.PatientID = choices[0].ID
		}
	}
	if err := p.cfg.Store.UpdateAuthRequest(r.Context(), req); err != nil {
		p.fail(w, err)
		return
	}
	p.setBinding(w, req)
	if needsPatient(req.Scope) && req.PatientID == "" {
		redirect(w, r, "/pick", req.ID)
		return
	}
	redirect(w, r, "/consent", req.ID)
}

package consent

import (
	"errors"
	"net/http"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/password"
	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
	"github.com/smartlaunch/smartlaunch/internal/signin"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

type loginData struct {
	page
	RequestID  string
	ClientName string
	Username   string
	Error      string
}

// loginPage asks the person to sign in, unless they already are (a live
// session, say from the EHR simulator): then it goes straight on.
func (p *Pages) loginPage(w http.ResponseWriter, r *http.Request) {
	req, c, err := p.request(r.Context(), r.URL.Query().Get("request"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	sess, u, ok, err := p.cfg.Sessions.Current(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if ok {
		p.signedIn(w, r, req, u, sess.ID)
		return
	}
	pg, _ := p.newPage(w, r, "login.title")
	p.cfg.Pages.Render(w, http.StatusOK, "login.html", loginData{page: pg, RequestID: req.ID, ClientName: c.Name})
}

func (p *Pages) login(w http.ResponseWriter, r *http.Request) {
	f, err := form(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	req, c, err := p.request(r.Context(), f.Get("request"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	username := f.Get("username")
	u, err := p.signIn.Check(r.Context(), signin.Attempt{Form: audit.FormAuthorize, Username: username,
		Password: f.Get("password"), Address: ratelimit.Client(r), ClientID: c.ID})
	var limited *signin.LimitedError
	if errors.As(err, &limited) {
		p.logger.WarnContext(r.Context(), "sign-in refused: too many failures", "client", c.ID)
		ratelimit.SetRetryAfter(w.Header(), limited.Wait)
		p.fail(w, r, errTooManySignIns)
		return
	}
	if errors.Is(err, password.ErrMismatch) {
		p.logger.InfoContext(r.Context(), "sign-in failed", "client", c.ID)
		pg, _ := p.newPage(w, r, "login.title")
		p.cfg.Pages.Render(w, http.StatusUnauthorized, "login.html", loginData{
			page: pg, RequestID: req.ID, ClientName: c.Name, Username: username, Error: pg.L.T("login.error"),
		})
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	sessionID, err := p.cfg.Sessions.Start(r.Context(), w, u)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.signedIn(w, r, req, u, sessionID)
}

// signedIn binds the request to the person and this browser, settles the
// patient when it can (an EHR launch's patient, or the only one the person
// may act for), and sends the browser to the picker or the consent page.
func (p *Pages) signedIn(w http.ResponseWriter, r *http.Request, req store.AuthRequest, u store.User, sessionID string) {
	req.UserID = u.ID
	req.SessionID = sessionID
	req.PatientID = ""
	if req.LaunchID != "" {
		patient, err := p.launchPatient(r, req, u)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		req.PatientID = patient
	}
	if req.PatientID == "" && needsPatient(req.Scope) {
		choices, err := p.patientChoices(r.Context(), u)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		if len(choices) == 0 {
			p.fail(w, r, &errPage{status: http.StatusForbidden, msg: "Your account is not linked to any patient record, so this app cannot be used with it."})
			return
		}
		if len(choices) == 1 {
			req.PatientID = choices[0].ID
		}
	}
	if err := p.cfg.Store.UpdateAuthRequest(r.Context(), req); err != nil {
		p.fail(w, r, err)
		return
	}
	p.setBinding(w, req)
	if needsPatient(req.Scope) && req.PatientID == "" {
		redirect(w, r, "/pick", req.ID)
		return
	}
	redirect(w, r, "/consent", req.ID)
}

// launchPatient is the patient of the request's EHR launch, checked
// against the person: a launch made for someone else, or for a patient the
// person may not act for, stops here.
func (p *Pages) launchPatient(r *http.Request, req store.AuthRequest, u store.User) (string, error) {
	l, err := p.cfg.Store.GetLaunch(r.Context(), req.LaunchID)
	if err != nil {
		return "", err
	}
	if l.UserID != "" && l.UserID != u.ID {
		return "", &errPage{status: http.StatusForbidden, msg: "This app was opened for someone else. Open it again from your own record."}
	}
	if l.Context.Patient != "" && !u.AllPatients && !contains(u.Patients, l.Context.Patient) {
		return "", &errPage{status: http.StatusForbidden, msg: "You cannot open this patient's record."}
	}
	return l.Context.Patient, nil
}

package consent

import "net/http"

type logoutData struct{ SignedOut bool }

func (p *Pages) logoutPage(w http.ResponseWriter, r *http.Request) {
	p.cfg.Pages.Render(w, http.StatusOK, "logout.html", logoutData{})
}

// logout ends the sign-in session: every online_access authorization
// approved in it stops working (its refresh tokens are refused).
func (p *Pages) logout(w http.ResponseWriter, r *http.Request) {
	if err := p.cfg.Sessions.End(w, r); err != nil {
		p.fail(w, r, err)
		return
	}
	p.cfg.Pages.Render(w, http.StatusOK, "logout.html", logoutData{SignedOut: true})
}

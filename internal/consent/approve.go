package consent

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"github.com/smartlaunch/smartlaunch/smart/scopetext"
	"net/http"
	"net/url"
	"strings"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/summary"
	"github.com/smartlaunch/smartlaunch/smart"
)

type consentData struct {
	RequestID   string
	ClientName  string
	PatientName string
	Lang        string
	Scopes      []scopetext.Text
}

func (p *Pages) consentPage(w http.ResponseWriter, r *http.Request) {
	req, c, u, err := p.boundRequest(r, r.URL.Query().Get("request"))
	if err != nil {
		p.fail(w, err)
		return
	}
	if needsPatient(req.Scope) && req.PatientID == "" {
		redirect(w, r, "/pick", req.ID)
		return
	}
	lang := p.cfg.Texts.Match(r.Header.Get("Accept-Language"))
	d := consentData{RequestID: req.ID, ClientName: c.Name, Lang: lang.String()}
	for _, sc := range grantable(req.Scope, u) {
		d.Scopes = append(d.Scopes, p.cfg.Texts.Explain(sc, lang))
	}
	if req.PatientID != "" {
		pt, err := p.cfg.Store.GetResource(r.Context(), "Patient", req.PatientID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			p.fail(w, err)
			return
		}
		d.PatientName = summary.OfPatient(store.Resource{ID: req.PatientID, JSON: pt.JSON}).Name
	}
	p.cfg.Pages.Render(w, http.StatusOK, "consent.html", d)
}

// consent records the person's answer: allow with the scopes left ticked
// (never more than were requested), or deny. Unticking everything that
// gives access is a denial.
func (p *Pages) consent(w http.ResponseWriter, r *http.Request) {
	f, err := form(w, r, "scope")
	if err != nil {
		p.fail(w, err)
		return
	}
	req, _, u, err := p.boundRequest(r, f.Get("request"))
	if err != nil {
		p.fail(w, err)
		return
	}
	if needsPatient(req.Scope) && req.PatientID == "" {
		redirect(w, r, "/pick", req.ID)
		return
	}
	req.Decision = store.DecisionDenied
	if f.Get("decision") == "allow" {
		var granted []string
		for _, s := range grantable(req.Scope, u) {
			if contains(f["scope"], s) {
				granted = append(granted, s)
			}
		}
		set := smart.ParseScopes(strings.Join(granted, " "))
		if len(set.Resources) > 0 || set.Has("openid") {
			req.Decision = store.DecisionApproved
			req.GrantedScope = strings.Join(granted, " ")
		}
	}
	proof := newProof()
	req.ProofHash = store.Hash(proof)
	if err := p.cfg.Store.UpdateAuthRequest(r.Context(), req); err != nil {
		p.fail(w, err)
		return
	}
	http.Redirect(w, r, p.cfg.ContinuePath+"?"+url.Values{"request": {req.ID}, "proof": {proof}}.Encode(), http.StatusSeeOther)
}

// newProof returns a one-time secret that lets this browser, and only it,
// finish the authorization request at the continue URL.
func newProof() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// grantable returns the requested scopes this user can delegate. A user/
// scope means "everything this user may see", which is every patient only
// for a user who may act for every patient; for anyone else it would reach
// beyond their own patients, so it is not offered (R-SCOPE-03). system/
// scopes belong to backend services, never to a person's approval.
func grantable(scope string, u store.User) []string {
	var out []string
	for _, s := range strings.Fields(scope) {
		sc, err := smart.ParseScope(s)
		switch {
		case errors.Is(err, smart.ErrNotResourceScope):
		case err != nil, sc.Context == "system", sc.Context == "user" && !u.AllPatients:
			continue
		}
		out = append(out, s)
	}
	return out
}

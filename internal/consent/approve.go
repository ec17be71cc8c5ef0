package consent

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/summary"
	"github.com/smartlaunch/smartlaunch/smart"
	"github.com/smartlaunch/smartlaunch/smart/scopetext"
)

// scopeItem is one scope on the consent page.
type scopeItem struct {
	scopetext.Text
	// Required scopes are shown without a checkbox: the app cannot work
	// without them.
	Required bool
}

type consentData struct {
	page
	RequestID   string
	App         store.Client
	Monogram    string
	PatientName string
	// See, Change and Other group the scopes by what they allow.
	See, Change, Other []scopeItem
	// Offline says the app keeps access when the person is not using it;
	// OfflineNotice says so, with a link to where to stop it.
	Offline       bool
	OfflineNotice template.HTML
	ManagePath    string
	// Reminders says the person has reminders about connected apps.
	Reminders bool
}

// consentPage asks the question: who is asking, for whose record, and for
// what, each scope in plain words in the person's language, grouped by
// what it allows, with the long description one click away (<details>).
// The app's logo is not loaded: fetching it from the app's server would
// tell the app who is looking before they have agreed to anything.
func (p *Pages) consentPage(w http.ResponseWriter, r *http.Request) {
	req, c, u, err := p.boundRequest(r, r.URL.Query().Get("request"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if needsPatient(req.Scope) && req.PatientID == "" {
		redirect(w, r, "/pick", req.ID)
		return
	}
	pg, lang := p.newPage(w, r, "consent.title", c.Name)
	d := consentData{page: pg, RequestID: req.ID, App: c, Monogram: monogram(c.Name), ManagePath: p.cfg.ManagePath}
	required := strings.Fields(c.RequiredScope)
	for _, sc := range grantable(req.Scope, u) {
		it := scopeItem{Text: p.cfg.Texts.Explain(sc, lang), Required: contains(required, sc)}
		switch group(sc) {
		case "see":
			d.See = append(d.See, it)
		case "change":
			d.Change = append(d.Change, it)
		default:
			d.Other = append(d.Other, it)
		}
		d.Offline = d.Offline || sc == smart.ScopeOfflineAccess
	}
	if p.cfg.Reminders != nil {
		if d.Reminders, err = p.cfg.Reminders.HasPending(r.Context(), u.ID); err != nil {
			p.fail(w, r, err)
			return
		}
	}
	if d.Offline {
		d.OfflineNotice = linkedText(pg.L.T("consent.offline"), pg.L.T("consent.manage"), p.cfg.ManagePath)
	}
	if req.PatientID != "" {
		pt, err := p.cfg.Store.GetResource(r.Context(), "Patient", req.PatientID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			p.fail(w, r, err)
			return
		}
		d.PatientName = summary.OfPatient(store.Resource{ID: req.PatientID, JSON: pt.JSON}).Name
	}
	p.cfg.Pages.Render(w, http.StatusOK, "consent.html", d)
}

// linkedText fills the one %s of a catalog text with a link whose text is
// label (plain text when href is empty), escaping both texts.
func linkedText(format, label, href string) template.HTML {
	link := html.EscapeString(label)
	if href != "" {
		link = `<a href="` + html.EscapeString(href) + `">` + link + `</a>`
	}
	return template.HTML(strings.Replace(html.EscapeString(format), "%s", link, 1))
}

// group says where a scope goes on the page: resource scopes that only
// read or search are "see", ones that add, change or delete "change";
// identity, launch and access-duration scopes "other".
func group(scope string) string {
	s, err := smart.ParseScope(scope)
	switch {
	case err != nil:
		return "other"
	case s.Permissions.Has(smart.Create) || s.Permissions.Has(smart.Update) || s.Permissions.Has(smart.Delete):
		return "change"
	}
	return "see"
}

// monogram is the app's initial, shown in place of a logo.
func monogram(name string) string {
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return string(unicode.ToUpper(r))
		}
	}
	return "?"
}

// consent records the person's answer: allow with the scopes left ticked
// plus those the app marked as required (never more than were requested
// and may be granted), or deny. A ticked scope that was never offered is
// tampering: refused and recorded, nothing granted. Unticking everything
// that gives access is a denial.
func (p *Pages) consent(w http.ResponseWriter, r *http.Request) {
	f, err := form(w, r, "scope")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	req, c, u, err := p.boundRequest(r, f.Get("request"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if needsPatient(req.Scope) && req.PatientID == "" {
		redirect(w, r, "/pick", req.ID)
		return
	}
	offered := grantable(req.Scope, u)
	for _, s := range f["scope"] {
		if !contains(offered, s) {
			p.tampered(r, req, "scope")
			p.fail(w, r, &errPage{status: http.StatusBadRequest, msg: "The answer asked for access the app never requested, so nothing was granted."})
			return
		}
	}
	req.Decision = store.DecisionDenied
	if f.Get("decision") == "allow" {
		required := strings.Fields(c.RequiredScope)
		var granted []string
		for _, s := range offered {
			if contains(f["scope"], s) || contains(required, s) {
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
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, p.cfg.ContinuePath+"?"+url.Values{"request": {req.ID}, "proof": {proof}}.Encode(), http.StatusSeeOther)
}

// tampered records a form answer that the page never offered.
func (p *Pages) tampered(r *http.Request, req store.AuthRequest, field string) {
	p.logger.WarnContext(r.Context(), "consent form tampered", "field", field, "client", req.ClientID)
	p.cfg.Audit.Record(r.Context(), store.AuditEvent{Type: audit.ConsentTampered, UserID: req.UserID, ClientID: req.ClientID, Detail: field})
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

package account

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// appView is one app with access, as the page shows it.
type appView struct {
	ID        string
	App       store.Client
	Scopes    []string // short plain-language texts
	Granted   time.Time
	LastUsed  time.Time // last token use (sign-in or refresh)
	LastData  time.Time // last day it read data
	Kinds     string    // kinds of data read in the last 30 days, plain words
	Offline   bool
	Ends      time.Time
	EndedAt   time.Time
	EndReason string // plain words
}

type reminderView struct {
	ID, Text string
}

type homeData struct {
	page
	User      store.User
	Apps      []appView
	History   []appView
	Reminders []reminderView
}

// recentWindow is how far back "what it read lately" looks.
const recentWindow = 30 * 24 * time.Hour

func (p *Page) home(w http.ResponseWriter, r *http.Request) {
	u, ok := p.signedIn(w, r)
	if !ok {
		return
	}
	pg, lang := p.newPage(r, "account.title")
	d := homeData{page: pg, User: u}
	as, err := p.cfg.Store.ListUserAuthorizations(r.Context(), u.ID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	sortNewest(as)
	now := p.cfg.Now()
	names := map[string]string{}
	for _, a := range as {
		v, err := p.view(r, a, lang, now)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		names[a.ID] = v.App.Name
		if a.Live(now) {
			d.Apps = append(d.Apps, v)
		} else {
			d.History = append(d.History, v)
		}
	}
	if p.cfg.Reminders != nil {
		rs, err := p.cfg.Reminders.Pending(r.Context(), u.ID)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		for _, rm := range rs {
			d.Reminders = append(d.Reminders, reminderView{ID: rm.ID, Text: p.reminderText(pg, rm, names)})
		}
	}
	p.cfg.Pages.Render(w, http.StatusOK, "account.html", d)
}

// view describes one authorization in the person's language.
func (p *Page) view(r *http.Request, a store.Authorization, lang language.Tag, now time.Time) (appView, error) {
	c, err := p.cfg.Store.GetClient(r.Context(), a.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		c = store.Client{ID: a.ClientID, Name: a.ClientID}
	} else if err != nil {
		return appView{}, err
	}
	v := appView{ID: a.ID, App: c, Granted: a.CreatedAt, LastUsed: a.LastUsedAt, Offline: a.Offline,
		Ends: a.ExpiresAt, EndedAt: a.EndedAt}
	for _, sc := range strings.Fields(a.Scope) {
		v.Scopes = append(v.Scopes, p.cfg.Texts.Explain(sc, lang).Short)
	}
	recs, err := p.cfg.Store.ListAccess(r.Context(), a.ID, now.Add(-recentWindow))
	if err != nil {
		return appView{}, err
	}
	var kinds []string
	for _, rec := range recs {
		if rec.Day.After(v.LastData) {
			v.LastData = rec.Day
		}
		name := p.cfg.Texts.ResourceName(rec.ResourceType, lang)
		if rec.ResourceType != "" && !slices.Contains(kinds, name) {
			kinds = append(kinds, name)
		}
	}
	v.Kinds = joinKinds(kinds)
	if !a.Live(now) {
		v.EndReason = p.endReason(lang, a, now)
	}
	return v, nil
}

// endReason says in plain words why access ended.
func (p *Page) endReason(lang language.Tag, a store.Authorization, now time.Time) string {
	l := p.cfg.Locales.Get(lang.String())
	switch a.EndReason {
	case store.EndRefreshTokenReuse:
		return l.T("account.ended.reuse")
	case store.EndUserRevoked:
		return l.T("account.ended.user")
	case store.EndAdminRevoked:
		return l.T("account.ended.admin")
	case store.EndClientRevoked:
		return l.T("account.ended.app")
	case store.EndCodeReplay:
		return l.T("account.ended.reuse")
	}
	if a.EndedAt.IsZero() && !a.ExpiresAt.IsZero() && !now.Before(a.ExpiresAt) {
		return l.T("account.ended.expired")
	}
	return l.T("account.ended.other")
}

// reminderText says a reminder in plain words.
func (p *Page) reminderText(pg page, rm Reminder, names map[string]string) string {
	var apps []string
	for _, id := range rm.AuthorizationIDs {
		if n, ok := names[id]; ok && !slices.Contains(apps, n) {
			apps = append(apps, n)
		}
	}
	return pg.L.Tf("account.reminder."+rm.Kind, joinKinds(apps))
}

type confirmData struct {
	page
	App appView
}

// confirmEnd asks before ending access (a page, so it works without
// JavaScript).
func (p *Page) confirmEnd(w http.ResponseWriter, r *http.Request) {
	u, ok := p.signedIn(w, r)
	if !ok {
		return
	}
	a, ok := p.own(w, r, u)
	if !ok {
		return
	}
	pg, lang := p.newPage(r, "account.confirm.title")
	v, err := p.view(r, a, lang, p.cfg.Now())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.cfg.Pages.Render(w, http.StatusOK, "account_confirm.html", confirmData{page: pg, App: v})
}

// end ends the access at once: every token of it stops working.
func (p *Page) end(w http.ResponseWriter, r *http.Request) {
	u, ok := p.signedIn(w, r)
	if !ok {
		return
	}
	a, ok := p.own(w, r, u)
	if !ok {
		return
	}
	p.cfg.Ender.EndAuthorization(r.Context(), a.ID, store.EndUserRevoked)
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

// own returns the path's authorization if it is the person's.
func (p *Page) own(w http.ResponseWriter, r *http.Request, u store.User) (store.Authorization, bool) {
	a, err := p.cfg.Store.GetAuthorization(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.UserID != u.ID) {
		p.cfg.Pages.Error(w, http.StatusNotFound, "There is no such app on your list.")
		return a, false
	}
	if err != nil {
		p.fail(w, r, err)
		return a, false
	}
	return a, true
}

// reminder marks a reminder done or snoozes it for a month.
func (p *Page) reminder(w http.ResponseWriter, r *http.Request) {
	u, ok := p.signedIn(w, r)
	if !ok {
		return
	}
	if p.cfg.Reminders == nil {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		p.cfg.Pages.Error(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	var err error
	if r.PostForm.Get("action") == "snooze" {
		err = p.cfg.Reminders.Snooze(r.Context(), u.ID, r.PathValue("id"), 30*24*time.Hour)
	} else {
		err = p.cfg.Reminders.Done(r.Context(), u.ID, r.PathValue("id"))
	}
	if errors.Is(err, store.ErrNotFound) {
		p.cfg.Pages.Error(w, http.StatusNotFound, "There is no such reminder.")
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

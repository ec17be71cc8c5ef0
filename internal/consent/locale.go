package consent

import (
	"net/http"
	"net/url"

	"golang.org/x/text/language"

	"github.com/smartlaunch/smartlaunch/internal/web"
)

// langCookie remembers a language chosen with the switcher across the
// sign-in, picker and consent pages.
const langCookie = "smartlaunch_lang"

// languages are offered by the switcher, each named in itself.
var languages = []struct{ tag, name string }{
	{"en", "English"}, {"es", "Español"}, {"fr", "Français"}, {"de", "Deutsch"},
}

// page is what every localized page template gets besides its own data.
type page struct {
	L      web.Locale
	Title  string
	Switch []langLink
}

type langLink struct {
	Tag, Name, URL string
	Current        bool
}

// locale picks the page language: a lang parameter (the switcher, also
// remembered in a cookie), else the cookie, else Accept-Language, with
// English as the fallback (x/text/language matching).
func (p *Pages) locale(w http.ResponseWriter, r *http.Request) (web.Locale, language.Tag) {
	pref := r.Header.Get("Accept-Language")
	if c, err := r.Cookie(langCookie); err == nil {
		pref = c.Value
	}
	if q := r.URL.Query().Get("lang"); q != "" {
		if _, err := language.Parse(q); err == nil {
			pref = q
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, Secure: p.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
		}
	}
	tag := p.cfg.Texts.Match(pref)
	return p.cfg.Locales.Get(tag.String()), tag
}

// newPage builds the common page data: the locale, the title key's text,
// and switcher links back to this very page in each language.
func (p *Pages) newPage(w http.ResponseWriter, r *http.Request, titleKey string, args ...any) (page, language.Tag) {
	l, tag := p.locale(w, r)
	pg := page{L: l, Title: l.Tf(titleKey, args...)}
	for _, lang := range languages {
		q := url.Values{}
		for k, v := range r.URL.Query() {
			q[k] = v
		}
		q.Set("lang", lang.tag)
		pg.Switch = append(pg.Switch, langLink{Tag: lang.tag, Name: lang.name, URL: r.URL.Path + "?" + q.Encode(), Current: l.Lang == lang.tag})
	}
	return pg, tag
}

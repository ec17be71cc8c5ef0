package web

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Pages holds the parsed templates. Parse them once at start-up with New.
type Pages struct {
	t      *template.Template
	logger *slog.Logger
}

// New parses the embedded templates.
func New(logger *slog.Logger) (*Pages, error) {
	t, err := template.New("").Funcs(template.FuncMap{"group": groupOf}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse templates: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Pages{t: t, logger: logger}, nil
}

// Render executes template name with data into a buffer and, only if that
// succeeds, writes it with status and the page security headers.
func (p *Pages) Render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := p.t.ExecuteTemplate(&buf, name, data); err != nil {
		p.logger.Error("render page", "template", name, "err", err)
		p.Error(w, http.StatusInternalServerError, "Something went wrong on our side.")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// ErrorPage is the data of the error template.
type ErrorPage struct {
	Title     string
	Message   string
	RequestID string
}

// Error renders the error page with a fixed, safe message and a reference
// id, which it also logs so an operator can match a user's report: the
// request id of the response (its X-Request-ID header, which every log
// line of the request carries), or a fresh one when there is none.
func (p *Pages) Error(w http.ResponseWriter, status int, message string) {
	id := w.Header().Get("X-Request-ID")
	if id == "" {
		id = newID()
	}
	p.logger.Info("error page", "status", status, "ref", id, "message", message)
	var buf bytes.Buffer
	data := ErrorPage{Title: http.StatusText(status), Message: message, RequestID: id}
	if err := p.t.ExecuteTemplate(&buf, "error.html", data); err != nil {
		http.Error(w, message, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Headers wraps a browser-facing handler with the headers every page
// needs: a strict Content-Security-Policy that forbids framing by other
// sites (clickjacking of the consent question), X-Frame-Options for old
// browsers, nosniff, no referrer (page URLs carry request ids), and no
// caching. Use it alone only for endpoints that other sites may POST to by
// design, such as the authorization endpoint; use Secure for our own forms.
func Headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		// Framing only by our own pages: the EHR simulator embeds apps, whose
		// sign-in and consent then happen in a frame of it. Other sites may
		// never frame a page of ours (clickjacking).
		hd.Set("Content-Security-Policy", "default-src 'self'; form-action 'self' http: https:; frame-ancestors 'self'; base-uri 'none'")
		hd.Set("X-Frame-Options", "SAMEORIGIN")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// Secure is Headers plus Go's cross-origin protection, which refuses an
// unsafe-method request that the browser marks as cross-site (CSRF), for
// every form this server renders.
func Secure(h http.Handler) http.Handler {
	return Headers(http.NewCrossOriginProtection().Handler(h))
}

// Static serves the embedded style sheet and images under /static/.
func Static() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	return http.StripPrefix("/static/", http.FileServerFS(sub))
}

// scopeGroup is the data of the "scopegroup" template: a heading key and
// the items under it, with the page's locale.
type scopeGroup struct {
	L     Locale
	Key   string
	Items any
}

// groupOf builds a scopeGroup inside a template:
// {{template "scopegroup" (group .L "heading.key" .Items)}}.
func groupOf(l Locale, key string, items any) scopeGroup {
	return scopeGroup{L: l, Key: key, Items: items}
}

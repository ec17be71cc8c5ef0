package consentdocs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/smartlaunch/smartlaunch/docs"
	"github.com/smartlaunch/smartlaunch/internal/web"
	"github.com/smartlaunch/smartlaunch/smart/scopetext"
)

// Routes. PagePath is what discovery advertises as consent_documentation.
const (
	PagePath         = "/docs/consent"
	MetadataPath     = "/docs/consent/scopes.json"
	SchemaPath       = "/docs/consent/scopes.schema.json"
	StylePath        = "/docs/consent/consent.css"
	ScreenshotPrefix = "/docs/screenshots/"
)

// Paths of the assets in Config.Assets (laid out like docs.FS).
const (
	pageTemplate = "consent.html"
	styleSheet   = "consent.css"
)

// Config configures a Handler.
type Config struct {
	// Texts says scopes in plain words; required.
	Texts *scopetext.Catalog
	// Assets holds the page template, style sheet, schema and screenshots,
	// laid out like docs.FS (the default). Tests pass a copy without some
	// screenshots.
	Assets fs.FS
}

// Handler serves the consent design documentation. New renders the page;
// the metadata (about 2 MB, 80 ms of work) is built on its first request,
// so that starting a server stays fast. Then a request only copies bytes.
type Handler struct {
	page   []byte
	style  asset
	schema asset
	shots  map[string]asset

	texts        *scopetext.Catalog
	types        []string
	metadataOnce sync.Once
	metadataErr  error
	metadata     asset
	gzipped      asset // metadata, gzip-compressed
}

// asset is a response body with its type and entity tag.
type asset struct {
	body []byte
	typ  string
	etag string
}

func newAsset(body []byte, typ string) asset {
	sum := sha256.Sum256(body)
	return asset{body: body, typ: typ, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// New builds the metadata and renders the page.
func New(cfg Config) (*Handler, error) {
	if cfg.Texts == nil {
		return nil, errors.New("consentdocs: Texts is required")
	}
	if cfg.Assets == nil {
		cfg.Assets = docs.FS
	}
	types, err := compartmentTypes()
	if err != nil {
		return nil, err
	}
	h := &Handler{texts: cfg.Texts, types: types, shots: map[string]asset{}}
	schema, err := fs.ReadFile(cfg.Assets, docs.SchemaPath)
	if err != nil {
		return nil, fmt.Errorf("consentdocs: %w", err)
	}
	h.schema = newAsset(schema, "application/schema+json")
	style, err := fs.ReadFile(cfg.Assets, styleSheet)
	if err != nil {
		return nil, fmt.Errorf("consentdocs: %w", err)
	}
	h.style = newAsset(style, "text/css; charset=utf-8")
	present := map[string]bool{}
	for _, s := range docs.Screenshots() {
		b, err := fs.ReadFile(cfg.Assets, path.Join(docs.ScreenshotDir, s.Name))
		if errors.Is(err, fs.ErrNotExist) {
			continue // the page shows a note instead
		} else if err != nil {
			return nil, fmt.Errorf("consentdocs: %w", err)
		}
		h.shots[s.Name] = newAsset(b, "image/png")
		present[s.Name] = true
	}
	count := len(metadataScopes(cfg.Texts, types))
	if h.page, err = renderPage(cfg.Assets, buildPage(cfg.Texts, count, present)); err != nil {
		return nil, err
	}
	return h, nil
}

// Register adds the documentation routes to mux. All are public. The page
// gets the browser-page security headers; the JSON documents may be read
// from any origin.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET "+PagePath, web.Headers(http.HandlerFunc(h.servePage)))
	mux.HandleFunc("GET "+StylePath, func(w http.ResponseWriter, r *http.Request) { serve(w, r, h.style) })
	mux.HandleFunc("GET "+MetadataPath, h.serveMetadata)
	mux.HandleFunc("GET "+SchemaPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		serve(w, r, h.schema)
	})
	mux.HandleFunc("GET "+ScreenshotPrefix+"{name}", h.serveScreenshot)
}

func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(h.page)
}

// serveMetadata serves the metadata, gzip-compressed to clients that
// accept it (about a tenth of the size).
func (h *Handler) serveMetadata(w http.ResponseWriter, r *http.Request) {
	h.metadataOnce.Do(h.buildMetadata)
	if h.metadataErr != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Add("Link", "<"+SchemaPath+`>; rel="describedby"`)
	hd.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		hd.Set("Content-Encoding", "gzip")
		serve(w, r, h.gzipped)
		return
	}
	serve(w, r, h.metadata)
}

// buildMetadata builds and encodes the metadata document once.
func (h *Handler) buildMetadata() {
	body, err := json.Marshal(buildMetadata(h.texts, h.types))
	if err != nil { // plain strings and booleans: not expected
		h.metadataErr = err
		return
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(body) // a bytes.Buffer never fails
	_ = zw.Close()
	h.metadata = newAsset(body, "application/json")
	h.gzipped = newAsset(gz.Bytes(), "application/json")
}

func (h *Handler) serveScreenshot(w http.ResponseWriter, r *http.Request) {
	a, ok := h.shots[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	serve(w, r, a)
}

// serve writes a with caching validators; http.ServeContent answers
// If-None-Match and HEAD.
func serve(w http.ResponseWriter, r *http.Request, a asset) {
	hd := w.Header()
	hd.Set("Content-Type", a.typ)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "public, max-age=300")
	hd.Set("ETag", a.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// acceptsGzip reports whether an Accept-Encoding value (RFC 9110 §12.5.3)
// accepts gzip: listed without q=0.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

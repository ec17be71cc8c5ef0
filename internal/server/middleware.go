package server

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/audit"
	"github.com/smartlaunch/smartlaunch/internal/metrics"
	"github.com/smartlaunch/smartlaunch/internal/ratelimit"
)

// statusRecorder remembers the status code written through it.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// requestIDHeader carries the request id, from a proxy in front of the
// server or made here, back to the client.
const requestIDHeader = "X-Request-ID"

// logRequests logs one line per request: request id, method, path,
// status, duration, client address; and records the request in m. It
// never logs the query string, headers or bodies, where codes, tokens,
// secrets and passwords travel.
func logRequests(logger *slog.Logger, m *metrics.Metrics, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(requestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(requestIDHeader, id)
		// Every line logged with the request's context names the id
		// (requestIDHandler), this one included.
		r = r.WithContext(withRequestID(r.Context(), id))
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK // the handler wrote nothing
		}
		d := time.Since(start)
		m.ObserveRequest(r.URL.Path, r.Method, rec.status, d)
		logger.InfoContext(r.Context(), "request", "method", r.Method, "path", trimPath(r.URL.Path),
			"status", rec.status, "duration", d.Round(time.Microsecond), "client", ratelimit.Client(r))
	})
}

// validRequestID reports whether an incoming request id may be kept: at
// most 64 characters of [A-Za-z0-9._-], so it is safe in logs and headers.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// newRequestID returns 16 random hex characters.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// recoverPanics turns a panic in a handler into a 500 and a log line.
func recoverPanics(logger *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.ErrorContext(r.Context(), "panic", "path", trimPath(r.URL.Path), "value", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// clientAddress resolves each request's client address once, under the
// trusted proxies (ratelimit.Proxies.Resolve), for the per-address limits
// and the access log to read with ratelimit.Client, and for the audit
// events recorded while serving it (audit.WithAddress).
func clientAddress(proxies ratelimit.Proxies, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := proxies.Resolve(r)
		ctx := audit.WithAddress(ratelimit.WithClient(r.Context(), addr), addr)
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

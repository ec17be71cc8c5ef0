package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// readyTimeout bounds the store check of /readyz.
const readyTimeout = time.Second

// readyz answers 200 "ready" when the store answers a cheap query (the
// signing keys) within readyTimeout, and 503 otherwise, so a load balancer
// sends no traffic to an instance that cannot reach its database.
// /healthz, by contrast, says only that the process serves HTTP.
func readyz(st store.Keys, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if _, err := st.ListKeys(ctx); err != nil {
			logger.WarnContext(ctx, "readiness check: store", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
}

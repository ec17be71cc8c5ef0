package server

import (
	"context"
	"log/slog"
)

// requestIDKey is the context key of the request id logRequests gives each
// request.
type requestIDKey struct{}

// withRequestID returns ctx carrying the request id id.
func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// requestIDHandler adds a request_id attribute, first among a record's own
// attributes, to every record logged with a context that carries a request
// id, so that each line logged while serving a request (by any package,
// through logger.InfoContext and the like) names the request, as the
// access-log line and the X-Request-ID response header do.
//
// Under a logger's WithGroup the attribute lands in the group, as every
// record attribute does; the server's loggers use none.
type requestIDHandler struct{ slog.Handler }

// withRequestIDs returns h wrapped in a requestIDHandler, unless it is one.
func withRequestIDs(h slog.Handler) slog.Handler {
	if _, ok := h.(requestIDHandler); ok {
		return h
	}
	return requestIDHandler{h}
}

// Handle implements slog.Handler.
func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if id, ok := ctx.Value(requestIDKey{}).(string); ok {
			nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
			nr.AddAttrs(slog.String("request_id", id))
			r.Attrs(func(a slog.Attr) bool {
				nr.AddAttrs(a)
				return true
			})
			r = nr
		}
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

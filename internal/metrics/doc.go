// Package metrics owns smartlaunch's Prometheus metrics: a registry of its
// own (never the global default), the HTTP request counters and latency
// histogram the server's middleware records, and the authorization events
// the OAuth server reports through its small Metrics interface (tokens
// issued, authorizations ended, DPoP proofs refused), and the latency of
// every store call (InstrumentStore, a decorator of store.Store). Handler
// serves them in the Prometheus exposition format at GET /metrics.
//
// Every label has a bounded set of values: routes come from a fixed
// allow-list (Route), grant types and end reasons from the server's own
// constants, DPoP failure reasons from dpop.Reasons, store operations from
// the store.Store method names.
//
// It is imported by internal/server only.
package metrics

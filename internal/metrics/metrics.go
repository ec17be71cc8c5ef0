package metrics

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/smartlaunch/smartlaunch/internal/dpop"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// Metrics holds the server's collectors in a registry of its own. Create it
// with New; its methods are safe for concurrent use.
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	tokens    *prometheus.CounterVec
	ended     *prometheus.CounterVec
	reuse     prometheus.Counter
	dpop      *prometheus.CounterVec
	store     *prometheus.HistogramVec
}

// New returns Metrics with every collector registered, plus the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smartlaunch_http_requests_total",
			Help: "HTTP requests served, by route, method and status code.",
		}, []string{"route", "method", "status"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "smartlaunch_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smartlaunch_tokens_issued_total",
			Help: "Access tokens issued at the token endpoint, by grant type.",
		}, []string{"grant"}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smartlaunch_authorizations_ended_total",
			Help: "Authorizations ended, by reason.",
		}, []string{"reason"}),
		reuse: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "smartlaunch_refresh_reuse_detected_total",
			Help: "Authorizations ended because a used refresh token was presented again (RFC 9700 §4.14.2).",
		}),
		dpop: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "smartlaunch_dpop_failures_total",
			Help: "Requests refused for their DPoP proof (RFC 9449), by reason.",
		}, []string{"reason"}),
		store: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "smartlaunch_store_duration_seconds",
			Help:    "Time of store calls, by operation (the store method's name).",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5},
		}, []string{"op"}),
	}
	// Every reason shows, at zero, before it first happens.
	for _, r := range dpop.Reasons() {
		m.dpop.WithLabelValues(string(r))
	}
	m.reg.MustRegister(m.requests, m.durations, m.tokens, m.ended, m.reuse, m.dpop, m.store,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveRequest records one served request. path is the request's URL
// path, reduced to a bounded label by Route; method is reduced likewise.
func (m *Metrics) ObserveRequest(path, method string, status int, d time.Duration) {
	route, meth := Route(path), methodLabel(method)
	m.requests.WithLabelValues(route, meth, strconv.Itoa(status)).Inc()
	m.durations.WithLabelValues(route, meth).Observe(d.Seconds())
}

// TokenIssued counts an access token issued with grant, such as
// "authorization_code".
func (m *Metrics) TokenIssued(grant string) { m.tokens.WithLabelValues(grant).Inc() }

// AuthorizationEnded counts an authorization ended for reason (a
// store.EndReason); refresh-token reuse is counted on its own too.
func (m *Metrics) AuthorizationEnded(reason string) {
	m.ended.WithLabelValues(reason).Inc()
	if reason == string(store.EndRefreshTokenReuse) {
		m.reuse.Inc()
	}
}

// DPoPFailure counts a request refused for its DPoP proof. A reason
// outside dpop.Reasons() is counted as "other", so the label stays bounded.
func (m *Metrics) DPoPFailure(reason dpop.Reason) {
	if !slices.Contains(dpop.Reasons(), reason) {
		reason = "other"
	}
	m.dpop.WithLabelValues(string(reason)).Inc()
}

// Route returns the bounded route label of a URL path: "/" for the root,
// its first segment when that is one of the server's routes ("/fhir" for
// "/fhir/Patient/123"), and "other" for anything else, so a client cannot
// grow the label set.
func Route(path string) string {
	if path == "/" {
		return "/"
	}
	first := path
	if i := strings.IndexByte(path[min(1, len(path)):], '/'); i >= 0 {
		first = path[:i+1]
	}
	switch first {
	case "/.well-known", "/account", "/appstate", "/authorize", "/consent", "/docs", "/ehr", "/fhir",
		"/healthz", "/introspect", "/login", "/logout", "/metrics", "/pick", "/readyz", "/register",
		"/revoke", "/static", "/token":
		return first
	}
	return "other"
}

// methodLabel returns method if it is a standard HTTP method and "other"
// otherwise: any token is a valid method on the wire.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

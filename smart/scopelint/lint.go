package scopelint

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/smartlaunch/smartlaunch/smart"
	"github.com/smartlaunch/smartlaunch/smart/scopetext"
)

// Severity says whether a finding should fail an app's build.
type Severity string

// Severities. A warning is worth fixing; an info is worth knowing.
const (
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Kinds of finding, documented in the package comment.
const (
	KindMalformed   = "malformed"
	KindUnknown     = "unknown"
	KindRedundant   = "redundant"
	KindMergeable   = "mergeable"
	KindV1Form      = "v1-form"
	KindBroader     = "broader-than-needed"
	KindWrite       = "write"
	KindUnexplained = "unexplainable"
	KindTooMany     = "too-many"
)

// defaultMaxScopes is Options.MaxScopes when unset.
const defaultMaxScopes = 10

// Finding is one thing worth telling the app maker about a request.
type Finding struct {
	// Kind is one of the Kind constants: a stable, machine-readable word.
	Kind string `json:"kind"`
	// Scopes are the requested scopes concerned, as written.
	Scopes []string `json:"scopes"`
	// Message is one plain sentence for the app maker, without a final
	// period.
	Message  string   `json:"message"`
	Severity Severity `json:"severity"`
}

// Result is what Lint found.
type Result struct {
	// Findings are in rule order (the order of the package comment's
	// table), then request order. Never nil.
	Findings []Finding `json:"findings"`
	// Suggested is a request that grants exactly what the request grants,
	// with no more scopes, in canonical v2 form. Never nil.
	Suggested []string `json:"suggested"`
}

// HasWarnings reports whether any finding has Severity Warning.
func (r Result) HasWarnings() bool {
	for _, f := range r.Findings {
		if f.Severity == Warning {
			return true
		}
	}
	return false
}

// Options adjust Lint. The zero value is ready to use.
type Options struct {
	// MaxScopes is the most resource scopes a person can take in on one
	// consent screen; above it, Lint reports too-many. Zero or less means
	// 10.
	MaxScopes int
	// Catalog says scopes in plain words, to find those the consent screen
	// cannot explain. Nil means the built-in catalogs (scopetext.New),
	// loaded on each call: pass one to lint many requests.
	Catalog *scopetext.Catalog
}

// Lint checks a scope request. Each element of scopes may hold several
// space-separated scopes, as in a scope parameter (RFC 6749 §3.3). Lint
// accepts any input.
func Lint(scopes []string, opt Options) Result {
	if opt.MaxScopes <= 0 {
		opt.MaxScopes = defaultMaxScopes
	}
	if opt.Catalog == nil {
		cat, err := scopetext.New()
		if err != nil {
			// The catalogs are embedded and checked by scopetext's tests:
			// failing here means a broken build, as with regexp.MustCompile.
			panic(fmt.Sprintf("scopelint: the built-in scope catalogs do not load: %v", err))
		}
		opt.Catalog = cat
	}
	var tokens []string
	for _, s := range scopes {
		tokens = append(tokens, strings.Fields(s)...)
	}
	set := smart.ParseScopes(strings.Join(tokens, " "))
	l := &linter{opt: opt, findings: []Finding{}}
	l.malformed(set)
	l.unknown(set)
	l.duplicates(tokens)
	groups := groupScopes(set.Resources)
	for _, g := range groups {
		l.redundantWithin(g)
	}
	l.redundantAcross(groups)
	kept := l.merge(groups)
	l.broader(kept)
	l.write(kept)
	l.unexplainable(kept, set.Unknown)
	l.tooMany(kept)
	return Result{Findings: l.findings, Suggested: suggest(tokens, set, groups)}
}

// linter collects findings.
type linter struct {
	opt      Options
	findings []Finding
}

func (l *linter) add(kind string, sev Severity, scopes []string, format string, args ...any) {
	l.findings = append(l.findings, Finding{
		Kind: kind, Severity: sev, Scopes: scopes, Message: fmt.Sprintf(format, args...),
	})
}

func (l *linter) malformed(set smart.ScopeSet) {
	for _, e := range set.Invalid {
		l.add(KindMalformed, Warning, []string{e.Scope},
			"%s is not a valid scope (%s), so the server refuses or ignores it", e.Scope, e.Reason)
	}
}

func (l *linter) unknown(set smart.ScopeSet) {
	for _, u := range set.Unknown {
		if !isExtension(u) {
			l.add(KindUnknown, Warning, []string{u},
				"%s is not a SMART scope, so the server leaves it out; name your own scopes with a leading __ or as a URI", u)
		}
	}
}

func (l *linter) duplicates(tokens []string) {
	seen := map[string]int{}
	for _, t := range tokens {
		seen[t]++
		if seen[t] == 2 {
			l.add(KindRedundant, Warning, []string{t}, "%s is asked for more than once", t)
		}
	}
}

// isExtension reports whether a scope SMART does not define is namespaced
// as R-EXT-01 asks: a name starting with "__", or an absolute URI with a
// host ("https://ehr.example.org/scopes/x") or a URN.
func isExtension(scope string) bool {
	if strings.HasPrefix(scope, "__") {
		return true
	}
	u, err := url.Parse(scope)
	return err == nil && u.IsAbs() && (u.Host != "" || strings.EqualFold(u.Scheme, "urn") && u.Opaque != "")
}

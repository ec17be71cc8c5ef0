package appstate

import (
	"context"
	"errors"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// decision is the outcome of the access rules for one interaction.
type decision int

const (
	// allow: a granted scope counts for the interaction.
	allow decision = iota
	// noScope: no granted scope has the permission on Basic (403, D-4).
	noScope
	// refused: scopes with the permission exist, but none counts for the
	// subject and state code (403, or 404 for a stored id).
	refused
)

// authorize applies the access rules of the package documentation
// (R-STATE-30..37) to interaction p on state with code and subject. With
// hide, a refusal is answered as an unknown id (404, D-4), for requests
// about a stored resource.
func (h *Handler) authorize(ctx context.Context, c Caller, p smart.Permission, code, subject string, hide bool) error {
	d, err := h.decide(ctx, c, p, code, subject)
	switch {
	case err != nil:
		return err
	case d == noScope:
		return forbidden("no granted scope allows this interaction on Basic")
	case d == refused && hide:
		return notFound()
	case d == refused:
		return forbidden("no granted scope allows this state code for this subject")
	}
	return nil
}

// decide returns the decision for interaction p on state with code and
// subject ("" for global state).
func (h *Handler) decide(ctx context.Context, c Caller, p smart.Permission, code, subject string) (decision, error) {
	contexts := h.subjectContexts(c, subject)
	covered, unnarrowed := false, false
	for _, s := range c.Scopes.Resources {
		if !s.Allows(p, "Basic") {
			continue
		}
		covered = true
		switch {
		case !slices.Contains(contexts, s.Context):
		case len(s.Query) == 0:
			unnarrowed = true
		case namesCode(s.Query, code):
			// Approved for this client with this very code (R-STATE-33).
			return allow, nil
		}
	}
	if !covered {
		return noScope, nil
	}
	if unnarrowed {
		trusted, err := h.trustedCode(ctx, c.ClientID, code)
		if err != nil || trusted {
			return allow, err
		}
	}
	return refused, nil
}

// subjectContexts returns the scope contexts that may reach state with
// subject (R-STATE-32, R-STATE-35): "user" for global state and for the
// user in context, "patient" for the patient in context, none for any
// other subject (R-STATE-37).
func (h *Handler) subjectContexts(c Caller, subject string) []string {
	if subject == "" {
		return []string{"user"}
	}
	var ctxs []string
	if c.Patient != "" && subject == h.fhirBase+"/Patient/"+c.Patient {
		ctxs = append(ctxs, "patient")
	}
	if c.FHIRUser != "" && subject == h.absolute(c.FHIRUser) {
		ctxs = append(ctxs, "user")
	}
	return ctxs
}

// absolute turns a relative reference "Type/id" into an absolute one in
// the primary FHIR server; an absolute URL is returned as it is.
func (h *Handler) absolute(ref string) string {
	if strings.Contains(ref, "://") {
		return ref
	}
	return h.fhirBase + "/" + ref
}

// namesCode reports whether a scope query is exactly code=<code>: a query
// with any other parameter, or naming another code, counts for nothing.
func namesCode(q url.Values, code string) bool {
	vs, ok := q["code"]
	if !ok || len(q) != 1 {
		return false
	}
	for _, v := range vs {
		if v != code {
			return false
		}
	}
	return true
}

// trustedCode applies the default trust rule of R-STATE-33: the origin of
// the state code's system equals the origin of one of the client's
// registered redirect URIs or its launch URL.
func (h *Handler) trustedCode(ctx context.Context, clientID, code string) (bool, error) {
	system, _, _ := strings.Cut(code, "|")
	want, ok := origin(system)
	if !ok || h.clients == nil || clientID == "" {
		return false, nil
	}
	cl, err := h.clients.GetClient(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	for _, u := range append(slices.Clone(cl.RedirectURIs), cl.LaunchURL) {
		if o, ok := origin(u); ok && o == want {
			return true, nil
		}
	}
	return false, nil
}

// origin returns the web origin of an http or https URL (RFC 6454 §4):
// scheme://host, with :port unless it is the scheme's default, lower case.
func origin(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	switch {
	case scheme == "https" && port == "443", scheme == "http" && port == "80":
		port = ""
	case scheme != "https" && scheme != "http":
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", false
	}
	if port != "" || strings.Contains(host, ":") {
		if port == "" {
			return scheme + "://[" + host + "]", true
		}
		host = net.JoinHostPort(host, port)
	}
	return scheme + "://" + host, true
}

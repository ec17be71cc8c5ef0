package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/go-jose/go-jose/v4"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/smart"
)

// CheckClient validates a client registration, whoever makes it (the
// command line or dynamic registration, RFC 7591 §2): a known type; exact,
// safe redirect URIs (CheckRedirectURI); well-formed scopes; for an
// asymmetric client a public JWKS inline or an https jwks_uri, never both;
// and https links for the metadata shown to users.
func CheckClient(c store.Client) error {
	var errs []error
	switch c.Type {
	case store.ClientPublic, store.ClientConfidentialSymmetric, store.ClientConfidentialAsymmetric:
	default:
		errs = append(errs, fmt.Errorf("unknown client type %q", c.Type))
	}
	if c.ID == "" {
		errs = append(errs, errors.New("the client id is empty"))
	}
	for _, r := range c.RedirectURIs {
		if err := CheckRedirectURI(r); err != nil {
			errs = append(errs, fmt.Errorf("redirect URI %q: %w", r, err))
		}
	}
	if err := smart.ParseScopes(c.Scope).Err(); err != nil {
		errs = append(errs, err)
	}
	if c.Type == store.ClientConfidentialAsymmetric {
		errs = append(errs, checkClientKeys(c)...)
	} else if c.JWKS != "" || c.JWKSURI != "" {
		errs = append(errs, errors.New("only confidential-asymmetric clients register keys"))
	}
	for name, u := range map[string]string{
		"launch URL": c.LaunchURL, "logo": c.Info.LogoURI, "home page": c.Info.ClientURI, "privacy policy": c.Info.PolicyURI,
		"terms": c.Info.TOSURI, "code of conduct": c.Info.CodeOfConductURI,
	} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && !(p.Scheme == "http" && isLoopbackIP(p.Hostname()))) || p.Host == "" {
			errs = append(errs, fmt.Errorf("%s %q must be an https URL", name, u))
		}
	}
	if c.AccessTokenTTL < 0 || c.RefreshIdleTTL < 0 || c.OfflineLifetime < 0 {
		errs = append(errs, errors.New("lifetimes cannot be negative"))
	}
	return errors.Join(errs...)
}

func checkClientKeys(c store.Client) []error {
	switch {
	case c.JWKS != "" && c.JWKSURI != "":
		return []error{errors.New("register a JWKS or a jwks_uri, not both")}
	case c.JWKS == "" && c.JWKSURI == "":
		return []error{errors.New("a confidential-asymmetric client needs a JWKS or a jwks_uri")}
	case c.JWKSURI != "":
		u, err := url.Parse(c.JWKSURI)
		if err != nil || u.User != nil || u.Fragment != "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackIP(u.Hostname()))) {
			return []error{fmt.Errorf("jwks_uri %q must be an https URL", c.JWKSURI)}
		}
		return nil
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(c.JWKS), &set); err != nil || len(set.Keys) == 0 {
		return []error{errors.New("the JWKS must be a JSON Web Key Set with at least one key")}
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || !k.Valid() {
			return []error{fmt.Errorf("JWKS key %q must be a valid public key", k.KeyID)}
		}
	}
	return nil
}

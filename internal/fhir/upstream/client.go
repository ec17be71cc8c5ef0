package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const (
	// DefaultTimeout is the Config.Timeout New uses when it is zero.
	DefaultTimeout = 30 * time.Second

	// DefaultMaxBodyBytes is the Config.MaxBodyBytes New uses when it is
	// zero: 64 MiB.
	DefaultMaxBodyBytes = 64 << 20
)

// Config describes an upstream FHIR server and how to authenticate to it.
// At most one of Bearer and ClientCredentials may be set; with neither,
// requests carry no Authorization header.
type Config struct {
	// Base is the upstream FHIR base URL, an absolute http or https URL
	// without query or fragment, such as "http://10.0.0.5:8080/fhir".
	// Trailing slashes are removed.
	Base string

	// Bearer is a static access token sent as "Authorization: Bearer".
	Bearer string

	// ClientCredentials, when set, obtains access tokens with the OAuth
	// 2.0 client-credentials grant (RFC 6749 §4.4). A token is reused
	// until shortly before it expires, and replaced at once when the
	// upstream answers 401. The Config must not be changed after New.
	ClientCredentials *clientcredentials.Config

	// Timeout bounds a whole upstream call: sending the request, a retry
	// after 401, and reading the response body. A token request is
	// bounded by it separately. Zero means DefaultTimeout.
	Timeout time.Duration

	// MaxBodyBytes is the largest response body accepted; reading more
	// fails with ErrTooLarge. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// Transport sends the requests, to the upstream and to the token
	// endpoint. Nil means a clone of http.DefaultTransport keeping up to
	// 64 idle connections per host.
	Transport http.RoundTripper
}

// Client sends requests to one upstream FHIR server. It is safe for
// concurrent use.
type Client struct {
	base    string // normalised, no trailing slash
	http    *http.Client
	timeout time.Duration
	maxBody int64
	bearer  string
	tokens  *tokenCache // nil unless client credentials are configured
}

// New validates cfg, reporting every problem at once, and returns a
// Client for it.
func New(cfg Config) (*Client, error) {
	base, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:    base,
		timeout: cfg.Timeout,
		maxBody: cfg.MaxBodyBytes,
		bearer:  cfg.Bearer,
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxBody == 0 {
		c.maxBody = DefaultMaxBodyBytes
	}
	rt := cfg.Transport
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 256
		t.MaxIdleConnsPerHost = 64
		rt = t
	}
	c.http = &http.Client{
		Transport: rt,
		// A redirect is the upstream's answer, passed on to the caller;
		// following it could take the credentials elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if cc := cfg.ClientCredentials; cc != nil {
		// The token requests get their own client bounded by the same
		// timeout: the oauth2 token source keeps the context it is given.
		tokenClient := &http.Client{Transport: rt, Timeout: c.timeout}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, tokenClient)
		c.tokens = newTokenCache(func() oauth2.TokenSource { return cc.TokenSource(ctx) })
	}
	return c, nil
}

// Base returns the normalised upstream base URL, without a trailing
// slash: the from argument of RewriteURLs.
func (c *Client) Base() string { return c.base }

// validate reports every problem in cfg and returns the normalised base.
func (cfg Config) validate() (string, error) {
	var errs []error
	base := strings.TrimRight(cfg.Base, "/")
	if err := checkBase(base); err != nil {
		errs = append(errs, err)
	}
	if cfg.Bearer != "" && cfg.ClientCredentials != nil {
		errs = append(errs, errors.New("upstream: Bearer and ClientCredentials are mutually exclusive"))
	}
	if cfg.Bearer != "" && !headerSafe(cfg.Bearer) {
		errs = append(errs, errors.New("upstream: Bearer contains characters not allowed in a header"))
	}
	if cc := cfg.ClientCredentials; cc != nil {
		if cc.ClientID == "" {
			errs = append(errs, errors.New("upstream: ClientCredentials.ClientID is empty"))
		}
		if u, err := url.Parse(cc.TokenURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("upstream: ClientCredentials.TokenURL %q is not an absolute http or https URL", cc.TokenURL))
		}
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("upstream: Timeout %v is negative", cfg.Timeout))
	}
	if cfg.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("upstream: MaxBodyBytes %d is negative", cfg.MaxBodyBytes))
	}
	return base, errors.Join(errs...)
}

// checkBase reports why base cannot be an upstream base URL, or nil.
func checkBase(base string) error {
	if base == "" {
		return errors.New("upstream: Base is empty")
	}
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("upstream: Base: %w", err)
	}
	var problems []string
	if u.Scheme != "http" && u.Scheme != "https" {
		problems = append(problems, "is not an http or https URL")
	}
	if u.Host == "" {
		problems = append(problems, "has no host")
	}
	if u.User != nil {
		problems = append(problems, "contains user information")
	}
	if u.RawQuery != "" || u.ForceQuery {
		problems = append(problems, "has a query")
	}
	if u.Fragment != "" || strings.Contains(base, "#") {
		problems = append(problems, "has a fragment")
	}
	if len(problems) > 0 {
		return fmt.Errorf("upstream: Base %q %s", base, strings.Join(problems, " and "))
	}
	return nil
}

// headerSafe reports whether s may be sent in a header value unchanged.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}

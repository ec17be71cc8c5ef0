package client

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Config configures a Client.
type Config struct {
	// ClientID is the app's registered client_id.
	ClientID string
	// ClientSecret, when set, makes this a confidential-symmetric client
	// that authenticates with HTTP Basic (RFC 6749 §2.3.1).
	ClientSecret string
	// RedirectURI is the registered redirect URI, matched exactly.
	RedirectURI string
	// Scopes are requested at authorization, such as "launch/patient",
	// "openid", "fhirUser", "offline_access", "patient/*.rs".
	Scopes []string
	// HTTPClient sends every request; nil means http.DefaultClient.
	HTTPClient *http.Client
	// DPoP, when set, binds tokens to this key (RFC 9449): ES256 for an
	// *ecdsa P-256 key, RS256 for RSA, EdDSA for Ed25519. The key may live
	// in hardware: only Public and Sign are called.
	DPoP crypto.Signer
	// Store keeps the tokens; nil keeps them in memory in this Client.
	// Share a NewFileStore or NewSQLiteStore between processes that use
	// one authorization.
	Store TokenStore
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RefreshBefore is how long before expiry the access token is
	// refreshed; zero means 60 s.
	RefreshBefore time.Duration
	// ClaimTimeout is the age after which another party's refresh claim is
	// held to be abandoned (and its token spent); zero means 30 s.
	ClaimTimeout time.Duration
	// Claimant names this party in refresh claims; empty means a random
	// name with the process id.
	Claimant string
	// OnlineOnly is for apps that need the FHIR server only while the
	// user is present: offline_access is never requested (it is replaced
	// by online_access, whose refresh token ends with the user's sign-in
	// session), and tokens live only in this process's memory, so nothing
	// is left on disk to steal. Config.Store must be nil.
	OnlineOnly bool
}

// Client is a SMART app's connection to one FHIR server and its
// authorization server. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base string
	disc *Discovery
	hc   *http.Client
	now  func() time.Time
	dpop *dpopKey // nil without Config.DPoP

	mu     sync.Mutex
	nonces map[string]string // DPoP-Nonce per origin
}

// New discovers fhirBase's SMART configuration and returns a Client.
func New(ctx context.Context, fhirBase string, cfg Config) (*Client, error) {
	if cfg.ClientID == "" {
		return nil, errors.New("client: Config.ClientID is required")
	}
	if cfg.OnlineOnly {
		if cfg.Store != nil {
			return nil, errors.New("client: Config.OnlineOnly keeps tokens in memory; Config.Store must be nil")
		}
		cfg.Scopes = onlineScopes(cfg.Scopes)
	}
	c := &Client{cfg: cfg, base: strings.TrimSuffix(fhirBase, "/"), hc: cfg.HTTPClient, now: cfg.Now, nonces: map[string]string{}}
	if c.hc == nil {
		c.hc = http.DefaultClient
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.cfg.Store == nil {
		c.cfg.Store = NewMemoryStore()
	}
	if c.cfg.RefreshBefore == 0 {
		c.cfg.RefreshBefore = 60 * time.Second
	}
	if c.cfg.ClaimTimeout == 0 {
		c.cfg.ClaimTimeout = 30 * time.Second
	}
	if c.cfg.Claimant == "" {
		c.cfg.Claimant = defaultClaimant()
	}
	if cfg.DPoP != nil {
		k, err := newDPoPKey(cfg.DPoP)
		if err != nil {
			return nil, err
		}
		c.dpop = k
	}
	d, err := Discover(ctx, c.hc, c.base)
	if err != nil {
		return nil, err
	}
	c.disc = d
	return c, nil
}

// Discovery returns the server's SMART configuration read by New.
func (c *Client) Discovery() *Discovery { return c.disc }

// Launch is one authorization request in flight. Keep State, Verifier and
// Nonce on the server side or in the user's session until the callback.
type Launch struct {
	// URL is where to send the user's browser.
	URL string
	// State is the random state parameter (RFC 6749 §10.12).
	State string
	// Verifier is the PKCE code_verifier (RFC 7636).
	Verifier string
	// Nonce is the OpenID Connect nonce, sent when "openid" is requested.
	Nonce string
}

// AuthorizeURL builds the authorization request of SMART App Launch §2.1.5:
// PKCE S256, a random state, aud set to the FHIR base and, for an EHR
// launch, the launch parameter (launch "" is a standalone launch).
func (c *Client) AuthorizeURL(launch string) (Launch, error) {
	if c.cfg.RedirectURI == "" {
		return Launch{}, errors.New("client: Config.RedirectURI is required to authorize")
	}
	l := Launch{State: randomString(32), Verifier: randomString(32)}
	sum := sha256.Sum256([]byte(l.Verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {c.cfg.ClientID},
		"redirect_uri":          {c.cfg.RedirectURI},
		"scope":                 {strings.Join(c.cfg.Scopes, " ")},
		"state":                 {l.State},
		"aud":                   {c.base},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	if launch != "" {
		q.Set("launch", launch)
	}
	for _, s := range c.cfg.Scopes {
		if s == "openid" {
			l.Nonce = randomString(16)
			q.Set("nonce", l.Nonce)
		}
	}
	u, err := url.Parse(c.disc.AuthorizationEndpoint)
	if err != nil {
		return Launch{}, fmt.Errorf("client: authorization endpoint: %w", err)
	}
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += q.Encode()
	l.URL = u.String()
	return l, nil
}

// onlineScopes returns scopes with offline_access replaced by
// online_access (SMART App Launch §"Scopes for requesting a refresh
// token").
func onlineScopes(scopes []string) []string {
	out := make([]string, 0, len(scopes))
	online := false
	for _, s := range scopes {
		switch s {
		case "offline_access":
			continue
		case "online_access":
			if online {
				continue
			}
			online = true
		}
		out = append(out, s)
	}
	if !online && len(out) != len(scopes) {
		out = append(out, "online_access")
	}
	return out
}

// randomString is n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (c *Client) nonce(origin string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nonces[origin]
}

func (c *Client) setNonce(origin, n string) {
	if n == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nonces[origin] = n
}

func originOf(u *url.URL) string { return u.Scheme + "://" + u.Host }

package dpop

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Errors returned by Verify. Match them with errors.Is. The text after the
// sentinel names the failed check and never contains a value taken from the
// proof, so it may be sent as error_description.
var (
	// ErrInvalidProof reports a proof that fails a check of RFC 9449 §4.3.
	// The token endpoint answers 400 error=invalid_dpop_proof (§5); the
	// resource server answers 401 with WWW-Authenticate: DPoP
	// error="invalid_dpop_proof" (§7.1).
	ErrInvalidProof = errors.New("invalid DPoP proof")
	// ErrNoProof reports a request without a DPoP header. It wraps
	// ErrInvalidProof, so callers that require a proof need not test for
	// it; callers for which DPoP is optional test it first.
	ErrNoProof error = &proofError{kind: ErrInvalidProof, reason: ReasonMissing, detail: "no DPoP header"}
	// ErrUseNonce reports a proof without a valid server nonce where one is
	// required (RFC 9449 §8, §9). The caller answers error=use_dpop_nonce
	// with a DPoP-Nonce header carrying Verifier.Nonce().
	ErrUseNonce = errors.New("DPoP nonce required")
)

// Limits on untrusted input.
const (
	// MaxHeaderBytes bounds the DPoP header value (RFC 9449 §11.1 and A-105:
	// oversized values are refused before any parsing).
	MaxHeaderBytes = 8 << 10
	// MaxJTIBytes bounds the jti claim. RFC 9449 §4.2 suggests 96 bits of
	// randomness, 16 characters of base64url; 256 leaves room for UUIDs and
	// other encodings.
	MaxJTIBytes = 256
)

// Defaults for the zero values of Config's durations.
const (
	// DefaultIATWindow is how old a proof's iat may be (RFC 9449 §11.1).
	DefaultIATWindow = 60 * time.Second
	// DefaultIATSkew is how far in the future a proof's iat may be, for
	// clients whose clocks run ahead. It exceeds 10 s, which conformance
	// tests require to pass.
	DefaultIATSkew = 15 * time.Second
	// DefaultNonceTTL is how long a server nonce stays valid (RFC 9449 §8).
	DefaultNonceTTL = 5 * time.Minute
)

// signingAlgs are the accepted JWS algorithms, all asymmetric (RFC 9449
// §4.3 step 5): never "none" nor an HMAC.
var signingAlgs = []jose.SignatureAlgorithm{
	jose.ES256, jose.ES384, jose.ES512,
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.EdDSA,
}

// SigningAlgs returns the JWS algorithms a Verifier may accept, for the
// dpop_signing_alg_values_supported metadata (RFC 9449 §5.1). Each call
// returns a new slice.
func SigningAlgs() []string {
	out := make([]string, len(signingAlgs))
	for i, a := range signingAlgs {
		out[i] = string(a)
	}
	return out
}

// ReplayCache remembers proof identifiers until they expire. Remember
// reports false if key is already recorded and unexpired; of concurrent
// calls with one key exactly one reports true. It must be shared by every
// instance of the server and survive restarts (RFC 9449 §11.1, A-113,
// A-117); store.ReplayCache is one.
type ReplayCache interface {
	Remember(ctx context.Context, key string, expiresAt, now time.Time) (bool, error)
}

// Config configures a Verifier. Replay and NonceKey are required; zero
// durations take the defaults above.
type Config struct {
	// Replay records each accepted proof's key thumbprint and jti.
	Replay ReplayCache
	// NonceKey is the HMAC-SHA256 key of the stateless server nonces, at
	// least 32 bytes, the same on every instance.
	NonceKey []byte
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// IATWindow is how old a proof's iat may be; default DefaultIATWindow.
	IATWindow time.Duration
	// IATSkew is how far in the future a proof's iat may be; default
	// DefaultIATSkew.
	IATSkew time.Duration
	// NonceTTL is how long a nonce from Nonce stays valid; default
	// DefaultNonceTTL.
	NonceTTL time.Duration
	// Algorithms restricts the accepted algorithms to a subset of
	// SigningAlgs(); nil means all of them.
	Algorithms []string
}

// Verifier checks DPoP proofs. It is safe for concurrent use.
type Verifier struct {
	replay    ReplayCache
	nonceKey  []byte
	now       func() time.Time
	iatWindow time.Duration
	iatSkew   time.Duration
	nonceTTL  time.Duration
	algs      []jose.SignatureAlgorithm
}

// New returns a Verifier for cfg, or an error if cfg is incomplete.
func New(cfg Config) (*Verifier, error) {
	v := &Verifier{
		replay:    cfg.Replay,
		nonceKey:  slices.Clone(cfg.NonceKey),
		now:       cfg.Now,
		iatWindow: cmpOr(cfg.IATWindow, DefaultIATWindow),
		iatSkew:   cmpOr(cfg.IATSkew, DefaultIATSkew),
		nonceTTL:  cmpOr(cfg.NonceTTL, DefaultNonceTTL),
	}
	if v.replay == nil {
		return nil, errors.New("dpop: Config.Replay is required")
	}
	if len(v.nonceKey) < 32 {
		return nil, errors.New("dpop: Config.NonceKey must be at least 32 bytes")
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.iatWindow < 0 || v.iatSkew < 0 || v.nonceTTL < 0 {
		return nil, errors.New("dpop: Config durations must not be negative")
	}
	if cfg.Algorithms == nil {
		v.algs = slices.Clone(signingAlgs)
	}
	for _, a := range cfg.Algorithms {
		alg := jose.SignatureAlgorithm(a)
		if !slices.Contains(signingAlgs, alg) {
			return nil, fmt.Errorf("dpop: Config.Algorithms: %q is not supported", a)
		}
		v.algs = append(v.algs, alg)
	}
	if len(v.algs) == 0 {
		return nil, errors.New("dpop: Config.Algorithms is empty")
	}
	return v, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Request is what Verify checks a proof against.
type Request struct {
	// Header is the value of the request's one DPoP header (see FromRequest).
	Header string
	// Method is the request's HTTP method, compared with htm exactly.
	Method string
	// URL is the request's absolute URL as clients reach the server
	// publicly (the configured issuer or FHIR base plus the path), not as
	// a proxy forwarded it. Its query and fragment are ignored; htu is
	// compared after RFC 3986 §6.2.2-§6.2.3 normalization (RFC 9449 §4.3
	// step 9).
	URL string
	// AccessToken, when set, is the access token presented with the proof,
	// which must then carry ath, its base64url SHA-256 (RFC 9449 §4.3 step
	// 12, §7). Without an access token an ath claim is ignored.
	AccessToken string
	// RequireNonce demands a valid server nonce from Nonce (RFC 9449 §8,
	// §9); without it, a nonce claim is ignored.
	RequireNonce bool
	// JKT, when set, is the thumbprint the proof's key must have: the
	// cnf.jkt of a bound access token, the key a refresh token is bound to,
	// or an authorization request's dpop_jkt (RFC 9449 §4.3 step 12, §5,
	// §10).
	JKT string
}

// Proof is a verified DPoP proof.
type Proof struct {
	// JKT is the base64url RFC 7638 SHA-256 thumbprint of the proof's
	// public key: the value of cnf.jkt for tokens bound to it (RFC 9449 §6).
	JKT string
	// JTI is the proof's unique identifier.
	JTI string
	// IssuedAt is the proof's iat.
	IssuedAt time.Time
}

// Verify checks req.Header as a DPoP proof for req (RFC 9449 §4.3) and, if
// every check passes, records its jti so that it is accepted only once. A
// failed check returns an error wrapping ErrInvalidProof or ErrUseNonce;
// any other error (the replay cache failing, an invalid req.URL) is the
// server's fault.
func (v *Verifier) Verify(ctx context.Context, req Request) (Proof, error) {
	now := v.now()
	c, key, err := v.parse(req.Header)
	if err != nil {
		return Proof{}, err
	}
	// Step 8: htm.
	if c.HTM != req.Method {
		return Proof{}, invalid(ReasonHTM, "htm does not match the request method")
	}
	// Step 9: htu.
	want, err := normalizeHTU(req.URL)
	if err != nil {
		return Proof{}, fmt.Errorf("dpop: request URL: %w", err)
	}
	if got, err := normalizeHTU(c.HTU); err != nil || got != want {
		return Proof{}, invalid(ReasonHTU, "htu does not match the request URL")
	}
	// Step 11: iat window (§11.1).
	iat, err := c.issuedAt()
	if err != nil {
		return Proof{}, err
	}
	if now.Sub(iat) > v.iatWindow {
		return Proof{}, invalid(ReasonIAT, "iat is too old")
	}
	if iat.Sub(now) > v.iatSkew {
		return Proof{}, invalid(ReasonIAT, "iat is in the future")
	}
	// Step 12: ath, when an access token is presented (§7).
	if req.AccessToken != "" {
		if c.ATH == nil {
			return Proof{}, invalid(ReasonATH, "ath is missing")
		}
		if !equal(*c.ATH, accessTokenHash(req.AccessToken)) {
			return Proof{}, invalid(ReasonATH, "ath does not match the access token")
		}
	}
	// Step 10: server nonce (§8, §9).
	if req.RequireNonce {
		if c.Nonce == nil {
			return Proof{}, useNonce(ReasonNonceMissing, "nonce is missing")
		}
		if err := v.checkNonce(*c.Nonce, now); err != nil {
			return Proof{}, err
		}
	}
	jkt, err := thumbprint(key)
	if err != nil {
		return Proof{}, invalid(ReasonMalformed, "jwk has no thumbprint")
	}
	// Step 12 and §5, §10: the key a token or code is bound to.
	if req.JKT != "" && !equal(jkt, req.JKT) {
		return Proof{}, invalid(ReasonKeyMismatch, "key does not match the bound key")
	}
	// §11.1: each proof is accepted once. The entry outlives the last
	// instant at which the iat check could pass again.
	fresh, err := v.replay.Remember(ctx, replayKey(jkt, c.JTI), iat.Add(v.iatWindow+time.Second), now)
	if err != nil {
		return Proof{}, fmt.Errorf("dpop: replay cache: %w", err)
	}
	if !fresh {
		return Proof{}, invalid(ReasonReplay, "jti was already used")
	}
	return Proof{JKT: jkt, JTI: c.JTI, IssuedAt: iat}, nil
}

// equal compares strings in constant time.
func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// accessTokenHash is the ath of token (RFC 9449 §4.2).
func accessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// replayKey is the ReplayCache key of a proof: its key's thumbprint and its
// jti, hashed so that the stored key has a fixed size.
func replayKey(jkt, jti string) string {
	sum := sha256.Sum256([]byte(jkt + "\x00" + jti))
	return "dpop:" + base64.RawURLEncoding.EncodeToString(sum[:])
}

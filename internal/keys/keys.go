package keys

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/smartlaunch/smartlaunch/internal/store"
)

// The two algorithms the server signs with. id_tokens are RS256, which
// SMART requires every server to support and clients and certification
// tools expect (R-OIDC-07). Access tokens are read only by this server, so
// they use ES256: signing is some fifty times cheaper than RSA, which
// matters on the token endpoint's hot path.
const (
	IDTokenAlgorithm     = jose.RS256
	AccessTokenAlgorithm = jose.ES256
)

// algorithms are the algorithms a Set keeps a signing key of.
var algorithms = []jose.SignatureAlgorithm{IDTokenAlgorithm, AccessTokenAlgorithm}

// Set is the server's signing keys, as stored. Of each algorithm, the key
// that activated last signs (see State); every key not yet retired is
// published and verifies, so tokens signed before a rotation stay valid
// until they expire. Instances sharing a store share the keys: Reload and
// Maintain read what another instance wrote, and Verify reloads by itself
// (at most once a second) when a token names a key it does not know. A Set
// is safe for concurrent use.
type Set struct {
	st   store.Keys
	opts Options
	ring atomic.Pointer[ring]

	// mu serializes the readings stored in ring after Open (each lists
	// the keys and stores the result while holding it), so that a reading
	// never replaces a newer one; and the reloads on a miss.
	mu         sync.Mutex
	lastReload time.Time
}

// ring is one reading of the stored keys.
type ring struct {
	all       map[string]*key // every stored key, retired ones too
	byID      map[string]*key // the keys not retired when read
	byAlg     map[jose.SignatureAlgorithm][]*key
	published []*key // byID's keys, oldest first
	secret    []byte // the source of DeriveSecret: see seed
}

type key struct {
	id     string
	alg    jose.SignatureAlgorithm
	signer crypto.Signer
	der    []byte // PKCS #8, in the clear
	stored []byte // as stored: der, or der sealed

	activatesAt time.Time
	// retiresAt is the earlier of the stored retirement and the one the
	// schedule gives (Options.retirement); zero while neither is known.
	retiresAt time.Time
}

// Open reads the keys from st and returns them as a Set following opts.
// A stored key opts.Encryption cannot open (or, without it, any encrypted
// key), or a key in the clear beside encrypted ones (ErrPlaintextKey),
// fails Open, and nothing is written: a wrong secret never leads to new
// keys. Otherwise, with opts.Encryption, Open encrypts the keys still
// stored in the clear, all at once; and it creates and stores a key of
// each algorithm that has none, signing at once, so a fresh store gets its
// keys on first start and keeps them across restarts.
func Open(ctx context.Context, st store.Keys, opts Options) (*Set, error) {
	s := &Set{st: st, opts: opts.withDefaults()}
	stored, err := st.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: list: %w", err)
	}
	first, err := s.newRing(stored, nil)
	if err != nil {
		return nil, err
	}
	// Encrypted before a key is added: never a sealed key beside clear ones.
	sealed, err := s.encryptStored(ctx, stored)
	if err != nil {
		return nil, err
	}
	now := s.opts.Now()
	created := false
	for _, alg := range algorithms {
		if hasAlg(stored, alg) {
			continue
		}
		k, err := s.generate(alg, now, now)
		if err != nil {
			return nil, err
		}
		if err := st.CreateKey(ctx, k); err != nil && !errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("keys: store new key: %w", err)
		}
		created = true
	}
	if created || sealed {
		// Another process may have created keys at the same moment: read back.
		if stored, err = st.ListKeys(ctx); err != nil {
			return nil, fmt.Errorf("keys: list: %w", err)
		}
	}
	r, err := s.newRing(stored, first)
	if err != nil {
		return nil, err
	}
	s.ring.Store(r)
	return s, nil
}

// Load is Open for a Set whose clock stands still at now, with no
// scheduled rotation and no encryption: for tools and tests that only
// need the keys created or read.
func Load(ctx context.Context, st store.Keys, now time.Time) (*Set, error) {
	return Open(ctx, st, Options{Now: func() time.Time { return now }})
}

// Reload reads the stored keys again: keys another instance created are
// published and verify from now on, and sign once they activate.
func (s *Set) Reload(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reloadLocked(ctx)
}

// reloadLocked is Reload, with s.mu held.
func (s *Set) reloadLocked(ctx context.Context) error {
	stored, err := s.st.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: list: %w", err)
	}
	r, err := s.newRing(stored, s.ring.Load())
	if err != nil {
		return err
	}
	s.ring.Store(r)
	return nil
}

// newRing parses stored keys, oldest first, reusing the keys of prev
// (which may be nil) whose stored bytes are unchanged. Every key is
// opened, retired ones too: a key that cannot be is an error, and so is a
// key in the clear once any key is encrypted (ErrPlaintextKey).
func (s *Set) newRing(stored []store.SigningKey, prev *ring) (*ring, error) {
	r := &ring{all: map[string]*key{}, byID: map[string]*key{}, byAlg: map[jose.SignatureAlgorithm][]*key{}}
	statuses := Describe(stored, s.opts.Now())
	anySealed := slices.ContainsFunc(stored, func(sk store.SigningKey) bool { return isSealed(sk.PrivateKey) })
	for i, sk := range stored {
		if anySealed && !isSealed(sk.PrivateKey) {
			return nil, fmt.Errorf("%w (key %s)", ErrPlaintextKey, sk.ID)
		}
		var k *key
		if p := prevKey(prev, sk); p != nil {
			c := *p
			k = &c
		} else {
			var err error
			if k, err = s.parse(sk); err != nil {
				return nil, err
			}
		}
		st := statuses[i]
		k.activatesAt, k.retiresAt = st.ActivatesAt, sk.RetiresAt
		if at := s.opts.retirement(st); !at.IsZero() && (k.retiresAt.IsZero() || at.Before(k.retiresAt)) {
			k.retiresAt = at
		}
		r.all[k.id] = k
		if st.State == StateRetired {
			continue
		}
		r.byID[k.id] = k
		r.published = append(r.published, k)
	}
	for _, st := range activationOrder(statuses) {
		if k := r.byID[st.ID]; k != nil {
			r.byAlg[k.alg] = append(r.byAlg[k.alg], k)
		}
	}
	if id := seed(stored); id != "" {
		r.secret = r.all[id].der
	}
	return r, nil
}

// seed returns the ID of the key DeriveSecret derives from: the newest
// RSA key that signed from its creation — the first one, or the last made
// by "keys rotate --now" — so that scheduled rotations leave the derived
// secrets alone while a rotation after a leak replaces them too. Keys
// stored before activation times existed (none has one) leave the oldest
// RSA key the seed, as it always was.
func seed(stored []store.SigningKey) string {
	oldest, fresh := "", ""
	for _, sk := range stored {
		if sk.Algorithm != string(IDTokenAlgorithm) {
			continue
		}
		if oldest == "" {
			oldest = sk.ID
		}
		if !sk.ActivatesAt.IsZero() && sk.ActivatesAt.Equal(sk.CreatedAt) {
			fresh = sk.ID
		}
	}
	return cmp.Or(fresh, oldest)
}

// prevKey returns the key of prev stored as sk, unchanged, or nil.
func prevKey(prev *ring, sk store.SigningKey) *key {
	if prev == nil {
		return nil
	}
	k := prev.all[sk.ID]
	if k == nil || k.alg != jose.SignatureAlgorithm(sk.Algorithm) || !bytes.Equal(k.stored, sk.PrivateKey) {
		return nil
	}
	return k
}

// signing returns the key of alg that signs at now: the last to have
// activated, or, when none has yet (clocks of instances differ a little),
// the first to activate.
func (r *ring) signing(alg jose.SignatureAlgorithm, now time.Time) *key {
	ks := r.byAlg[alg]
	if len(ks) == 0 {
		return nil
	}
	k := ks[0]
	for _, c := range ks[1:] {
		if c.activatesAt.After(now) {
			break
		}
		k = c
	}
	return k
}

// reloadOnMiss reloads the keys for a token naming an unknown key, at
// most once a second, and reports whether it did.
func (s *Set) reloadOnMiss() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.lastReload) < time.Second {
		return false
	}
	s.lastReload = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.reloadLocked(ctx) == nil
}

func hasAlg(ks []store.SigningKey, alg jose.SignatureAlgorithm) bool {
	for _, k := range ks {
		if k.Algorithm == string(alg) {
			return true
		}
	}
	return false
}

func (s *Set) sign(alg jose.SignatureAlgorithm, typ string, claims any) (string, error) {
	k := s.ring.Load().signing(alg, s.opts.Now())
	if k == nil {
		return "", fmt.Errorf("keys: no %s key", alg)
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", k.id)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: k.signer}, opts)
	if err != nil {
		return "", fmt.Errorf("keys: signer: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("keys: claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("keys: sign: %w", err)
	}
	return jws.CompactSerialize()
}

// AccessTokenType is the JWT "typ" of access tokens (RFC 9068 §2.1).
const AccessTokenType = "at+jwt"

// SignAccessToken signs an RFC 9068 access token (ES256, typ at+jwt).
func (s *Set) SignAccessToken(claims any) (string, error) {
	return s.sign(AccessTokenAlgorithm, AccessTokenType, claims)
}

// SignIDToken signs an OpenID Connect id_token (RS256, typ JWT).
func (s *Set) SignIDToken(claims any) (string, error) {
	return s.sign(IDTokenAlgorithm, "JWT", claims)
}

// ErrInvalid reports a token that is malformed, not signed by one of the
// set's keys, or of the wrong type.
var ErrInvalid = errors.New("keys: invalid token")

// Verify checks that token is a compact JWS signed by one of the set's
// keys not yet retired, with the key's own algorithm, and with header
// "typ" equal to typ; it returns the payload. Claims are the caller's to
// check.
func (s *Set) Verify(token, typ string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(token, algorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, ErrInvalid
	}
	h := jws.Signatures[0].Header
	if h.ExtraHeaders[jose.HeaderType] != typ {
		return nil, ErrInvalid
	}
	k, ok := s.ring.Load().byID[h.KeyID]
	if !ok && s.reloadOnMiss() {
		k, ok = s.ring.Load().byID[h.KeyID]
	}
	if !ok || jose.SignatureAlgorithm(h.Algorithm) != k.alg || k.retired(s.opts.Now()) {
		return nil, ErrInvalid
	}
	payload, err := jws.Verify(k.signer.Public())
	if err != nil {
		return nil, ErrInvalid
	}
	return payload, nil
}

func (k *key) retired(now time.Time) bool {
	return !k.retiresAt.IsZero() && !now.Before(k.retiresAt)
}

// JWKS returns the public keys not retired — the next keys, the signing
// ones and those whose tokens may still be in use — as a JWK Set
// (RFC 7517 §5), oldest first.
func (s *Set) JWKS() jose.JSONWebKeySet {
	now := s.opts.Now()
	var set jose.JSONWebKeySet
	for _, k := range s.ring.Load().published {
		if k.retired(now) {
			continue
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{
			Key: k.signer.Public(), KeyID: k.id, Algorithm: string(k.alg), Use: "sig",
		})
	}
	return set
}

// DeriveSecret returns a 32-byte secret for purpose, derived with HKDF
// (RFC 5869) from an RSA private key (see seed): a stable key for MACs
// such as browser-binding cookies that needs no storage of its own. It
// does not change with scheduled rotations (retired keys stay in the
// store), only with "keys rotate --now", whose new RSA key seeds it from
// then on: a leaked key must not keep giving the derived secrets away.
// Instances sharing a store derive the same secret from the same keys.
func (s *Set) DeriveSecret(purpose string) ([]byte, error) {
	b, err := hkdf.Key(sha256.New, s.ring.Load().secret, nil, "smartlaunch "+purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("keys: derive: %w", err)
	}
	return b, nil
}

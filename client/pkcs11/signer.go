//go:build cgo

package pkcs11

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	p11 "github.com/miekg/pkcs11"
)

// Signer is a [crypto.Signer] whose private key stays inside a PKCS#11
// token: Sign asks the token to sign. It is safe for concurrent use.
type Signer struct {
	mod        *module
	cfg        Config
	slot       uint
	pub        crypto.PublicKey
	alwaysAuth bool // CKA_ALWAYS_AUTHENTICATE: the PIN again before each signature

	mu      sync.Mutex // guards what follows, and serializes use of the session
	session p11.SessionHandle
	key     p11.ObjectHandle
	closed  bool
}

var _ crypto.Signer = (*Signer)(nil)

// Open loads cfg.Module, logs in to the token labelled cfg.TokenLabel and
// finds the private key cfg selects and its public half. The caller must
// Close the Signer.
func Open(cfg Config) (*Signer, error) {
	if cfg.KeyLabel == "" && len(cfg.KeyID) == 0 {
		return nil, errors.New("pkcs11: Config needs a KeyLabel or a KeyID")
	}
	mod, err := acquire(cfg.Module)
	if err != nil {
		return nil, err
	}
	s := &Signer{mod: mod, cfg: cfg}
	if err := s.open(); err != nil {
		_ = mod.release()
		return nil, err
	}
	return s, nil
}

// open finds the token, opens the session and reads the key.
func (s *Signer) open() error {
	slot, err := s.mod.slot(s.cfg.TokenLabel)
	if err != nil {
		return err
	}
	s.slot = slot
	if err := s.connect(); err != nil {
		return err
	}
	pub, err := s.publicKey()
	if err == nil {
		s.pub = pub
		s.alwaysAuth = s.alwaysAuthenticate()
		return nil
	}
	_ = s.mod.ctx.CloseSession(s.session)
	return err
}

// connect opens a logged-in session and finds the private key in it.
func (s *Signer) connect() error {
	sh, err := s.mod.session(s.slot, s.cfg.PIN, false)
	if err != nil {
		return err
	}
	key, err := s.mod.findOne(sh, p11.CKO_PRIVATE_KEY, "private key", s.cfg)
	if err != nil {
		_ = s.mod.ctx.CloseSession(sh)
		return err
	}
	s.session, s.key = sh, key
	return nil
}

// publicKey reads the public key: RSA's from the private key object, which
// carries the modulus and public exponent; EC's from the public key object
// of the pair, since PKCS#11 private EC keys do not hold the point.
func (s *Signer) publicKey() (crypto.PublicKey, error) {
	kt, err := s.mod.attrs(s.session, s.key, p11.CKA_KEY_TYPE)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: read key type: %w", err)
	}
	switch keyType := bytesToUint(kt[0]); keyType {
	case p11.CKK_EC:
		pubObj, err := s.mod.findOne(s.session, p11.CKO_PUBLIC_KEY, "public key", s.cfg)
		if err != nil {
			return nil, err
		}
		v, err := s.mod.attrs(s.session, pubObj, p11.CKA_EC_PARAMS, p11.CKA_EC_POINT)
		if err != nil {
			return nil, fmt.Errorf("pkcs11: read EC public key: %w", err)
		}
		return ecPublicKey(v[0], v[1])
	case p11.CKK_RSA:
		v, err := s.mod.attrs(s.session, s.key, p11.CKA_MODULUS, p11.CKA_PUBLIC_EXPONENT)
		if err != nil {
			return nil, fmt.Errorf("pkcs11: read RSA public key: %w", err)
		}
		return rsaPublicKey(v[0], v[1])
	default:
		return nil, fmt.Errorf("pkcs11: key type %#x is neither EC nor RSA", keyType)
	}
}

// alwaysAuthenticate reports whether the key wants the PIN before every
// signature; tokens that do not know the attribute do not.
func (s *Signer) alwaysAuthenticate() bool {
	v, err := s.mod.attrs(s.session, s.key, p11.CKA_ALWAYS_AUTHENTICATE)
	return err == nil && len(v[0]) == 1 && v[0][0] != 0
}

// bytesToUint decodes a CK_ULONG attribute value: the C unsigned long in
// native byte order.
func bytesToUint(b []byte) uint {
	switch len(b) {
	case 8:
		return uint(binary.NativeEndian.Uint64(b))
	case 4:
		return uint(binary.NativeEndian.Uint32(b))
	default:
		return ^uint(0)
	}
}

// Public returns the public key: an *ecdsa.PublicKey or an *rsa.PublicKey.
func (s *Signer) Public() crypto.PublicKey { return s.pub }

// Sign signs digest inside the token. For ECDSA keys it uses CKM_ECDSA and
// returns the ASN.1 DER signature; for RSA keys, CKM_RSA_PKCS over the
// digest's DigestInfo (PKCS #1 v1.5), or CKM_RSA_PKCS_PSS when opts is an
// *rsa.PSSOptions. The random source is unused: the token has its own.
func (s *Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil {
		opts = crypto.Hash(0)
	}
	mech, data, err := s.mechanism(digest, opts)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	sig, err := s.signLocked(mech, data)
	if sessionLost(err) {
		// The token was reset or the session dropped: log in once more.
		_ = s.mod.ctx.CloseSession(s.session)
		if err = s.connect(); err == nil {
			sig, err = s.signLocked(mech, data)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("pkcs11: sign: %w", err)
	}
	if _, ok := s.pub.(*ecdsa.PublicKey); ok {
		return ecdsaDER(sig)
	}
	return sig, nil
}

// mechanism chooses the PKCS#11 mechanism and the input it signs.
func (s *Signer) mechanism(digest []byte, opts crypto.SignerOpts) (*p11.Mechanism, []byte, error) {
	h := opts.HashFunc()
	if h != 0 && len(digest) != h.Size() {
		return nil, nil, fmt.Errorf("pkcs11: digest is %d bytes, %v needs %d", len(digest), h, h.Size())
	}
	switch pub := s.pub.(type) {
	case *ecdsa.PublicKey:
		return p11.NewMechanism(p11.CKM_ECDSA, nil), digest, nil
	case *rsa.PublicKey:
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			hm, ok := pssHashes[h]
			if !ok {
				return nil, nil, fmt.Errorf("pkcs11: unsupported hash %v for RSA-PSS", h)
			}
			salt, err := pssSaltLength(pss, h, pub.N.BitLen())
			if err != nil {
				return nil, nil, err
			}
			params := p11.NewPSSParams(hm.hash, hm.mgf, uint(salt))
			return p11.NewMechanism(p11.CKM_RSA_PKCS_PSS, params), digest, nil
		}
		data, err := pkcs1DigestInfo(h, digest)
		if err != nil {
			return nil, nil, err
		}
		return p11.NewMechanism(p11.CKM_RSA_PKCS, nil), data, nil
	default:
		return nil, nil, errors.New("pkcs11: signer has no key")
	}
}

// pssHashes maps a hash to the CK_RSA_PKCS_PSS_PARAMS hash and MGF1 that
// match it (PKCS#11 v2.40 §2.1.14).
var pssHashes = map[crypto.Hash]struct{ hash, mgf uint }{
	crypto.SHA224: {p11.CKM_SHA224, p11.CKG_MGF1_SHA224},
	crypto.SHA256: {p11.CKM_SHA256, p11.CKG_MGF1_SHA256},
	crypto.SHA384: {p11.CKM_SHA384, p11.CKG_MGF1_SHA384},
	crypto.SHA512: {p11.CKM_SHA512, p11.CKG_MGF1_SHA512},
}

// signLocked runs C_SignInit, the context-specific login a key with
// CKA_ALWAYS_AUTHENTICATE needs, and C_Sign. s.mu must be held.
func (s *Signer) signLocked(mech *p11.Mechanism, data []byte) ([]byte, error) {
	ctx := s.mod.ctx
	if err := ctx.SignInit(s.session, []*p11.Mechanism{mech}, s.key); err != nil {
		return nil, err
	}
	if s.alwaysAuth {
		if err := ctx.Login(s.session, p11.CKU_CONTEXT_SPECIFIC, s.cfg.PIN); err != nil {
			// The signing operation stays active; only a new session ends it.
			_ = ctx.CloseSession(s.session)
			if cerr := s.connect(); cerr != nil {
				err = errors.Join(err, cerr)
			}
			return nil, err
		}
	}
	return ctx.Sign(s.session, data)
}

// sessionLost reports whether err means the session or its login is gone,
// which a new session may cure.
func sessionLost(err error) bool {
	for _, rv := range []uint{p11.CKR_SESSION_HANDLE_INVALID, p11.CKR_SESSION_CLOSED,
		p11.CKR_USER_NOT_LOGGED_IN, p11.CKR_KEY_HANDLE_INVALID, p11.CKR_OBJECT_HANDLE_INVALID} {
		if errors.Is(err, p11.Error(rv)) {
			return true
		}
	}
	return false
}

// Close ends the Signer's session and, with the last Signer of its module,
// finalizes the module. It does not log out: login state is shared by
// every session on the token, and closing the last one logs out anyway.
func (s *Signer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.mod.ctx.CloseSession(s.session)
	if err != nil {
		err = fmt.Errorf("pkcs11: close session: %w", err)
	}
	return errors.Join(err, s.mod.release())
}

// GenerateECKey creates an ECDSA key pair on curve (P-256, P-384 or P-521)
// inside the token cfg names, labelled cfg.KeyLabel, with id cfg.KeyID (a
// random 16-byte id when empty). The private key is sensitive and not
// extractable: it never leaves the token. It is for tests and tooling;
// tokens' own tools do the same. It refuses to create a second key with
// the same label and id.
func GenerateECKey(cfg Config, curve elliptic.Curve) error {
	if cfg.KeyLabel == "" && len(cfg.KeyID) == 0 {
		return errors.New("pkcs11: Config needs a KeyLabel or a KeyID")
	}
	params, err := curveParams(curve)
	if err != nil {
		return err
	}
	mod, err := acquire(cfg.Module)
	if err != nil {
		return err
	}
	defer mod.release()
	slot, err := mod.slot(cfg.TokenLabel)
	if err != nil {
		return err
	}
	sh, err := mod.session(slot, cfg.PIN, true)
	if err != nil {
		return err
	}
	defer mod.ctx.CloseSession(sh)
	if existing, err := mod.find(sh, p11.CKO_PRIVATE_KEY, cfg, 1); err != nil {
		return err
	} else if len(existing) > 0 {
		return fmt.Errorf("pkcs11: a private key with %s exists already", cfg.keyName())
	}
	id := cfg.KeyID
	if len(id) == 0 {
		id = make([]byte, 16)
		if _, err := rand.Read(id); err != nil {
			return err
		}
	}
	common := func(class uint) []*p11.Attribute {
		return []*p11.Attribute{
			p11.NewAttribute(p11.CKA_CLASS, class),
			p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_EC),
			p11.NewAttribute(p11.CKA_TOKEN, true),
			p11.NewAttribute(p11.CKA_LABEL, cfg.KeyLabel),
			p11.NewAttribute(p11.CKA_ID, id),
		}
	}
	public := append(common(p11.CKO_PUBLIC_KEY),
		p11.NewAttribute(p11.CKA_EC_PARAMS, params),
		p11.NewAttribute(p11.CKA_VERIFY, true),
	)
	private := append(common(p11.CKO_PRIVATE_KEY),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_SIGN, true),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, false),
	)
	mech := []*p11.Mechanism{p11.NewMechanism(p11.CKM_EC_KEY_PAIR_GEN, nil)}
	if _, _, err := mod.ctx.GenerateKeyPair(sh, mech, public, private); err != nil {
		return fmt.Errorf("pkcs11: generate %s key: %w", curveName(curve), err)
	}
	return nil
}

package keys

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// MinSecretLength is the shortest key-encryption secret NewEncryption
// takes, in bytes: the secret is a key, not a password (HKDF does not
// slow guessing down), so it must be random, such as the output of
// "openssl rand -base64 32".
const MinSecretLength = 32

// The at-rest format of an encrypted private key: sealedPrefix, then the
// 12-byte GCM nonce, then the sealed PKCS #8 DER with its 16-byte tag. A
// key stored in the clear is bare DER, which starts with 0x30, never with
// the prefix; a later format would take "encrypted:v2:".
const (
	sealedFamily = "encrypted:"
	sealedPrefix = sealedFamily + "v1:"
	hkdfInfo     = "smartlaunch signing-key encryption v1"
)

// Errors opening the stored keys. Both stop a Set from opening, so that a
// missing or wrong secret can never lead to new keys being made.
var (
	// ErrSecretNeeded: a stored key is encrypted and no secret was given.
	ErrSecretNeeded = errors.New("keys: the stored signing keys are encrypted at rest and no key-encryption secret is configured")
	// ErrWrongSecret: the secret given does not open a stored key (or the
	// stored bytes were altered).
	ErrWrongSecret = errors.New("keys: the key-encryption secret does not open the stored signing keys (wrong secret, or altered key)")
	// ErrPlaintextKey: a key is stored in the clear beside encrypted ones.
	// Keys are in the clear only before encryption is turned on, and are
	// then all encrypted in one step: this one was written by something
	// else (a server without the secret, or someone who could write the
	// database, planting a key), so it is refused, not encrypted.
	ErrPlaintextKey = errors.New("keys: a signing key is stored in the clear beside encrypted ones: refused (find out who wrote it)")
)

// Encryption encrypts private keys at rest with AES-256-GCM, under a key
// derived with HKDF-SHA256 (RFC 5869) from the operator's secret, with the
// key id as associated data, so a sealed key moved to another row does not
// open. A nil *Encryption stores keys in the clear.
type Encryption struct {
	aead cipher.AEAD
}

// NewEncryption returns the Encryption of secret, which must hold at
// least MinSecretLength bytes.
func NewEncryption(secret []byte) (*Encryption, error) {
	if len(secret) < MinSecretLength {
		return nil, fmt.Errorf("keys: the key-encryption secret must have at least %d bytes, has %d", MinSecretLength, len(secret))
	}
	k, err := hkdf.Key(sha256.New, secret, nil, hkdfInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("keys: derive the key-encryption key: %w", err)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("keys: key-encryption cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keys: key-encryption cipher: %w", err)
	}
	return &Encryption{aead: aead}, nil
}

// seal encrypts the private key der of key id for storing.
func (e *Encryption) seal(id string, der []byte) ([]byte, error) {
	nonce := make([]byte, e.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keys: nonce: %w", err)
	}
	out := append([]byte(sealedPrefix), nonce...)
	return e.aead.Seal(out, nonce, der, []byte(id)), nil
}

// open returns the PKCS #8 DER of a stored key: as stored when it is in
// the clear (stored before a secret was configured), else decrypted. e
// may be nil.
func (e *Encryption) open(sk store.SigningKey) ([]byte, error) {
	b := sk.PrivateKey
	if !isSealed(b) {
		return b, nil
	}
	if !bytes.HasPrefix(b, []byte(sealedPrefix)) {
		return nil, fmt.Errorf("keys: key %s: unknown at-rest format (from a newer release?)", sk.ID)
	}
	if e == nil {
		return nil, fmt.Errorf("%w (key %s)", ErrSecretNeeded, sk.ID)
	}
	rest := b[len(sealedPrefix):]
	n := e.aead.NonceSize()
	if len(rest) < n+e.aead.Overhead() {
		return nil, fmt.Errorf("%w (key %s: truncated)", ErrWrongSecret, sk.ID)
	}
	der, err := e.aead.Open(nil, rest[:n], rest[n:], []byte(sk.ID))
	if err != nil {
		return nil, fmt.Errorf("%w (key %s)", ErrWrongSecret, sk.ID)
	}
	return der, nil
}

// isSealed reports whether stored private key bytes are encrypted.
func isSealed(b []byte) bool { return bytes.HasPrefix(b, []byte(sealedFamily)) }

// encryptStored encrypts, when the Set has a secret, the keys of stored
// that are in the clear, all in one compare-and-swap (so that the store
// never holds clear keys beside encrypted ones, and instances doing it at
// once agree), and reports whether the store changed (or another instance
// changed it first). The caller has opened every key of stored already:
// they are all in the clear, or all encrypted.
func (s *Set) encryptStored(ctx context.Context, stored []store.SigningKey) (bool, error) {
	if s.opts.Encryption == nil {
		return false, nil
	}
	var rs []store.PrivateKeyReplacement
	for _, sk := range stored {
		if isSealed(sk.PrivateKey) {
			continue
		}
		sealed, err := s.opts.Encryption.seal(sk.ID, sk.PrivateKey)
		if err != nil {
			return false, err
		}
		rs = append(rs, store.PrivateKeyReplacement{ID: sk.ID, Old: sk.PrivateKey, New: sealed})
	}
	if len(rs) == 0 {
		return false, nil
	}
	switch err := s.st.ReplacePrivateKeys(ctx, rs); {
	case err == nil, errors.Is(err, store.ErrConflict): // ErrConflict: another instance encrypted them first
		return true, nil
	default:
		return false, fmt.Errorf("keys: encrypt the keys at rest: %w", err)
	}
}

//go:build !cgo

package pkcs11

import (
	"crypto"
	"crypto/elliptic"
	"io"
)

// Signer is a [crypto.Signer] whose private key stays inside a PKCS#11
// token. Built without cgo, none can be opened.
type Signer struct{}

// Open returns [ErrNoCgo]: loading a PKCS#11 library needs cgo.
func Open(Config) (*Signer, error) { return nil, ErrNoCgo }

// GenerateECKey returns [ErrNoCgo]: loading a PKCS#11 library needs cgo.
func GenerateECKey(Config, elliptic.Curve) error { return ErrNoCgo }

// Public returns nil.
func (*Signer) Public() crypto.PublicKey { return nil }

// Sign returns [ErrNoCgo].
func (*Signer) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return nil, ErrNoCgo }

// Close does nothing.
func (*Signer) Close() error { return nil }

package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// Sealer seals and opens secrets.
type Sealer interface {
	// Seal encrypts and authenticates plaintext, and authenticates
	// additional, which is not stored in the blob.
	Seal(plaintext, additional []byte) ([]byte, error)
	// Open returns the plaintext of a blob made by Seal with the same
	// additional data. A wrong key, a wrong passphrase, other additional
	// data or a changed blob is ErrOpen.
	Open(sealed, additional []byte) ([]byte, error)
}

// ErrOpen reports a blob that does not open: tampered with, moved, or
// sealed under another key or passphrase.
var ErrOpen = errors.New("seal: the stored secret cannot be opened (wrong key or passphrase, or it was changed)")

// Blob layout: magic, kind, [kind-specific header], nonce, ciphertext.
var magic = []byte("SLS1")

const (
	kindKey        byte = 1
	kindPassphrase byte = 2
	keySize             = chacha20poly1305.KeySize
)

// Argon2id parameters: RFC 9106 §4, second recommended option (64 MiB,
// three passes). They are written into each blob, so they can change
// without making older blobs unreadable.
const (
	argonTime    uint32 = 3
	argonMemory  uint32 = 64 * 1024 // KiB
	argonThreads uint8  = 4
	saltSize            = 16
)

// NewKey returns a Sealer for a 32-byte key.
func NewKey(key []byte) (Sealer, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("seal: key is %d bytes, want %d", len(key), keySize)
	}
	return &keySealer{key: bytes.Clone(key)}, nil
}

type keySealer struct{ key []byte }

func (s *keySealer) Seal(plaintext, additional []byte) ([]byte, error) {
	return sealWith(s.key, append(bytes.Clone(magic), kindKey), plaintext, additional)
}

func (s *keySealer) Open(sealed, additional []byte) ([]byte, error) {
	hdr := len(magic) + 1
	if len(sealed) < hdr || !bytes.Equal(sealed[:len(magic)], magic) || sealed[len(magic)] != kindKey {
		return nil, ErrOpen
	}
	return openWith(s.key, sealed[:hdr], sealed[hdr:], additional)
}

// Passphrase returns a Sealer whose key is derived from passphrase with
// argon2id and a random salt stored in each blob. The derived key is
// computed once per salt and kept in memory.
func Passphrase(passphrase []byte) Sealer {
	return &passSealer{pass: bytes.Clone(passphrase), keys: map[string][]byte{}}
}

type passSealer struct {
	pass []byte

	mu   sync.Mutex
	salt []byte            // the salt new blobs use; set on first use
	keys map[string][]byte // header (salt and parameters) → derived key
}

// passHeader is the header of a passphrase blob: magic, kind, parameters
// and salt.
func passHeader(t, m uint32, p uint8, salt []byte) []byte {
	h := append(bytes.Clone(magic), kindPassphrase)
	h = binary.BigEndian.AppendUint32(h, t)
	h = binary.BigEndian.AppendUint32(h, m)
	h = append(h, p)
	return append(h, salt...)
}

const passHeaderSize = 4 + 1 + 4 + 4 + 1 + saltSize

func (s *passSealer) key(hdr []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[string(hdr)]; ok {
		return k
	}
	off := len(magic) + 1
	t := binary.BigEndian.Uint32(hdr[off:])
	m := binary.BigEndian.Uint32(hdr[off+4:])
	p := hdr[off+8]
	salt := hdr[off+9:]
	k := argon2.IDKey(s.pass, salt, t, m, p, keySize)
	s.keys[string(hdr)] = k
	return k
}

func (s *passSealer) Seal(plaintext, additional []byte) ([]byte, error) {
	s.mu.Lock()
	if s.salt == nil {
		s.salt = make([]byte, saltSize)
		if _, err := rand.Read(s.salt); err != nil {
			s.mu.Unlock()
			return nil, fmt.Errorf("seal: salt: %w", err)
		}
	}
	hdr := passHeader(argonTime, argonMemory, argonThreads, s.salt)
	s.mu.Unlock()
	return sealWith(s.key(hdr), hdr, plaintext, additional)
}

func (s *passSealer) Open(sealed, additional []byte) ([]byte, error) {
	if len(sealed) < passHeaderSize || !bytes.Equal(sealed[:len(magic)], magic) || sealed[len(magic)] != kindPassphrase {
		return nil, ErrOpen
	}
	hdr := sealed[:passHeaderSize]
	off := len(magic) + 1
	t := binary.BigEndian.Uint32(hdr[off:])
	m := binary.BigEndian.Uint32(hdr[off+4:])
	p := hdr[off+8]
	// Refuse parameters an attacker could use to make Open hang or
	// exhaust memory, and ones too weak to have been written by Seal.
	if t < 1 || t > 8 || m < 8*1024 || m > 256*1024 || p < 1 || p > 16 {
		return nil, ErrOpen
	}
	return openWith(s.key(hdr), hdr, sealed[passHeaderSize:], additional)
}

// sealWith encrypts plaintext under key; the header is authenticated with
// the additional data and prefixed to the blob.
func sealWith(key, hdr, plaintext, additional []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	out := append(hdr, nonce...)
	return aead.Seal(out, nonce, plaintext, associated(hdr, additional)), nil
}

func openWith(key, hdr, rest, additional []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if len(rest) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrOpen
	}
	nonce, ct := rest[:aead.NonceSize()], rest[aead.NonceSize():]
	pt, err := aead.Open(nil, nonce, ct, associated(hdr, additional))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// associated is the AEAD's additional data: the header, then the caller's
// additional data, length-prefixed so the two cannot be confused.
func associated(hdr, additional []byte) []byte {
	ad := binary.BigEndian.AppendUint32(bytes.Clone(hdr), uint32(len(additional)))
	return append(ad, additional...)
}

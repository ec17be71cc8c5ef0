package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// Server nonces (RFC 9449 §8, §9) are stateless, so every instance sharing
// NonceKey accepts every other's: base64url of an 8-byte big-endian Unix
// time of issue followed by the first 16 bytes of HMAC-SHA256 over a
// domain-separation label and that time. 32 characters, all NQCHAR.
const (
	nonceTimeLen = 8
	nonceMACLen  = 16
	nonceLabel   = "smartlaunch dpop nonce v1\x00"
)

// Nonce returns a fresh server nonce, valid for the Verifier's NonceTTL, for
// the DPoP-Nonce response header (RFC 9449 §8.1). Callers send one with
// every use_dpop_nonce error and may send one with successful responses.
func (v *Verifier) Nonce() string {
	return v.nonceAt(v.now())
}

func (v *Verifier) nonceAt(t time.Time) string {
	var b [nonceTimeLen + nonceMACLen]byte
	binary.BigEndian.PutUint64(b[:nonceTimeLen], uint64(t.Unix()))
	copy(b[nonceTimeLen:], v.nonceMAC(b[:nonceTimeLen]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (v *Verifier) nonceMAC(ts []byte) []byte {
	m := hmac.New(sha256.New, v.nonceKey)
	m.Write([]byte(nonceLabel))
	m.Write(ts)
	return m.Sum(nil)[:nonceMACLen]
}

// checkNonce returns nil if nonce came from Nonce of a Verifier with the
// same key within NonceTTL of now, and an error wrapping ErrUseNonce
// otherwise. A nonce issued up to IATSkew in the future (another instance's
// clock) is accepted.
func (v *Verifier) checkNonce(nonce string, now time.Time) error {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != nonceTimeLen+nonceMACLen {
		return useNonce(ReasonNonceInvalid, "nonce is malformed")
	}
	if !hmac.Equal(b[nonceTimeLen:], v.nonceMAC(b[:nonceTimeLen])) {
		return useNonce(ReasonNonceInvalid, "nonce was not issued by this server")
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(b[:nonceTimeLen])), 0)
	if now.Sub(issued) >= v.nonceTTL || issued.Sub(now) > v.iatSkew {
		return useNonce(ReasonNonceInvalid, "nonce has expired")
	}
	return nil
}

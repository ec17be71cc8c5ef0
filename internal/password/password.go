package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Parameters follow RFC 9106's second recommended option, with the
// memory lowered to 19 MiB as OWASP suggests for interactive logins.
const (
	memoryKiB = 19 * 1024
	passes    = 2
	threads   = 1
	saltLen   = 16
	keyLen    = 32
)

// ErrMismatch reports that a password does not match its hash.
var ErrMismatch = errors.New("password: mismatch")

var b64 = base64.RawStdEncoding

// Hash returns the argon2id PHC string for pw with a fresh random salt.
func Hash(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, passes, memoryKiB, threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, memoryKiB, passes, threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// dummyHash is what CheckUnknown checks against.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c21hcnRsYXVuY2hkdW1teQ$Ckv3aX0j3VGAHvMHtqbh4PEyM3xqCjgSdbcmmnGZpwU"

// CheckUnknown spends the time of a Check on pw and returns ErrMismatch:
// a sign-in naming no account takes as long as one with a wrong password,
// so response times do not tell which user names exist.
func CheckUnknown(pw string) error {
	_ = Check(dummyHash, pw)
	return ErrMismatch
}

// Check reports whether pw matches the PHC string encoded; it returns
// ErrMismatch for a wrong password and another error for a malformed hash.
// The comparison of derived keys is constant-time.
func Check(encoded, pw string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("password: not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return errors.New("password: unsupported argon2 version")
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return fmt.Errorf("password: parameters: %w", err)
	}
	if m == 0 || m > 1<<21 || t == 0 || t > 16 || p == 0 {
		return errors.New("password: parameters out of range")
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("password: salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return errors.New("password: malformed key")
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

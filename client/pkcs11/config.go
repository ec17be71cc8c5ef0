package pkcs11

import (
	"errors"
	"fmt"
)

// Config says which key of which PKCS#11 token a [Signer] uses.
type Config struct {
	// Module is the path of the token's PKCS#11 library, such as
	// /usr/lib/softhsm/libsofthsm2.so.
	Module string
	// TokenLabel selects the token (CK_TOKEN_INFO.label). Empty means the
	// only token present, and is an error when there are several.
	TokenLabel string
	// PIN is the user PIN. Empty skips C_Login, for tokens that
	// authenticate otherwise (a PIN pad) or keys that need no login.
	PIN string
	// KeyLabel (CKA_LABEL) and KeyID (CKA_ID) select the key; at least one
	// is required, and when both are set the key must match both. The
	// private and public key objects of a pair share them.
	KeyLabel string
	KeyID    []byte
}

// ErrNoCgo is returned by [Open] and [GenerateECKey] in programs built
// without cgo, which cannot load a PKCS#11 library.
var ErrNoCgo = errors.New("pkcs11: built without cgo; PKCS#11 tokens need cgo (CGO_ENABLED=1)")

// ErrClosed is returned by [Signer.Sign] after [Signer.Close].
var ErrClosed = errors.New("pkcs11: signer is closed")

func (c Config) keyName() string {
	switch {
	case c.KeyLabel != "" && len(c.KeyID) > 0:
		return fmt.Sprintf("label %q and id %x", c.KeyLabel, c.KeyID)
	case c.KeyLabel != "":
		return fmt.Sprintf("label %q", c.KeyLabel)
	default:
		return fmt.Sprintf("id %x", c.KeyID)
	}
}

//go:build !cgo

package pkcs11

import (
	"crypto/elliptic"
	"errors"
	"testing"
)

// TestNoCgo: built without cgo, Open and GenerateECKey say so.
func TestNoCgo(t *testing.T) {
	if _, err := Open(Config{KeyLabel: "k"}); !errors.Is(err, ErrNoCgo) {
		t.Errorf("Open: %v, want ErrNoCgo", err)
	}
	if err := GenerateECKey(Config{KeyLabel: "k"}, elliptic.P256()); !errors.Is(err, ErrNoCgo) {
		t.Errorf("GenerateECKey: %v, want ErrNoCgo", err)
	}
}

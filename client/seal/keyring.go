package seal

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/zalando/go-keyring"
)

// ErrNoKeyring reports that no OS keyring is reachable: on Linux no
// Secret Service (GNOME Keyring, KWallet) on the session bus, as on most
// servers and containers.
var ErrNoKeyring = errors.New("seal: no OS keyring is available")

// Keyring returns a Sealer whose key is kept in the operating system's
// keyring (Secret Service on Linux, Keychain on macOS, Credential Manager
// on Windows) under service and account, created on first use. The key
// never touches the disk outside the keyring.
func Keyring(service, account string) (Sealer, error) {
	enc, err := keyring.Get(service, account)
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		key := make([]byte, keySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("seal: key: %w", err)
		}
		enc = base64.StdEncoding.EncodeToString(key)
		if err := keyring.Set(service, account, enc); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNoKeyring, err)
		}
		// Another process may have stored its key at the same moment:
		// use whatever the keyring kept, as every process then will.
		if enc, err = keyring.Get(service, account); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNoKeyring, err)
		}
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrNoKeyring, err)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(key) != keySize {
		return nil, fmt.Errorf("seal: the keyring entry %s/%s is not a smartlaunch key", service, account)
	}
	return NewKey(key)
}

// Default returns the best protection available: the OS keyring, or
// else a passphrase that ask supplies (typed by the user, say). It
// reports which it chose as "keyring" or "passphrase".
func Default(service, account string, ask func() ([]byte, error)) (Sealer, string, error) {
	s, err := Keyring(service, account)
	if err == nil {
		return s, "keyring", nil
	}
	if !errors.Is(err, ErrNoKeyring) {
		return nil, "", err
	}
	pass, err := ask()
	if err != nil {
		return nil, "", fmt.Errorf("seal: passphrase: %w", err)
	}
	if len(pass) == 0 {
		return nil, "", errors.New("seal: no OS keyring is available and the passphrase is empty")
	}
	return Passphrase(pass), "passphrase", nil
}

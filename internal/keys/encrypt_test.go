package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
)

func encryption(t testing.TB, secret string) *Encryption {
	t.Helper()
	e, err := NewEncryption([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var (
	secretA = strings.Repeat("a", 32)
	secretB = strings.Repeat("b", 32)
)

// storedKeys lists the keys of st.
func storedKeys(t testing.TB, st store.Keys) []store.SigningKey {
	t.Helper()
	ks, err := st.ListKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// wantAllSealed fails t unless every stored key is encrypted.
func wantAllSealed(t *testing.T, st store.Keys) {
	t.Helper()
	for _, k := range storedKeys(t, st) {
		if !bytes.HasPrefix(k.PrivateKey, []byte(sealedPrefix)) {
			t.Errorf("key %s stored in the clear while a secret is configured", k.ID)
		}
	}
}

// TestEncryptionRoundTrip: with a secret, keys are stored encrypted, and
// a restart with the same secret signs and verifies with the same keys.
func TestEncryptionRoundTrip(t *testing.T) {
	c := newClock()
	opts := Options{Now: c.Now, Encryption: encryption(t, secretA)}
	s, db := openSetWith(t, opts)
	wantAllSealed(t, db)
	tok, err := s.SignAccessToken(map[string]string{"sub": "x"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := Open(t.Context(), db, opts)
	if err != nil {
		t.Fatalf("reopen with the same secret: %v", err)
	}
	if _, err := again.Verify(tok, AccessTokenType); err != nil {
		t.Errorf("a token signed before the restart: %v", err)
	}
	if signingKID(again, IDTokenAlgorithm) != signingKID(s, IDTokenAlgorithm) {
		t.Error("the keys changed across the restart")
	}
	a, _ := s.DeriveSecret("cookie")
	b, _ := again.DeriveSecret("cookie")
	if !bytes.Equal(a, b) {
		t.Error("DeriveSecret changed across the restart")
	}
	// Every key written with the secret is encrypted: scheduled and
	// manual rotations too.
	sched := opts
	sched.RotateEvery, sched.PublishAhead = 90*day, day
	s2, err := Open(t.Context(), db, sched)
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(89 * day)
	if created := maintain(t, s2); len(created) != 2 {
		t.Fatalf("Maintain created %v", created)
	}
	if _, err := s2.Rotate(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	if n := len(storedKeys(t, db)); n != 6 {
		t.Fatalf("%d keys stored, want 6", n)
	}
	wantAllSealed(t, db)
}

// TestEncryptionHidesKeyMaterial: with a secret, neither the rows nor the
// database files hold any private key's DER encoding or private scalar.
func TestEncryptionHidesKeyMaterial(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(t.Context(), filepath.Join(dir, "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), db, Options{Encryption: encryption(t, secretA)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rotate(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	var secrets [][]byte
	for _, k := range s.ring.Load().all {
		secrets = append(secrets, k.der)
		switch p := k.signer.(type) {
		case *rsa.PrivateKey:
			secrets = append(secrets, p.D.Bytes(), p.Primes[0].Bytes())
		case *ecdsa.PrivateKey:
			d, err := p.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, d)
		}
	}
	if len(secrets) != 4*2+2*1 {
		t.Fatalf("collected %d secrets from 4 keys", len(secrets))
	}
	rows := storedKeys(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var blobs [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, b)
	}
	for _, r := range rows {
		blobs = append(blobs, r.PrivateKey)
	}
	for i, sec := range secrets {
		for _, b := range blobs {
			if bytes.Contains(b, sec) {
				t.Fatalf("private key material %d found in the store", i)
			}
		}
	}
}

// TestPlaintextKeysMigrate: keys stored in the clear (before a secret was
// configured) still open with a secret, and are encrypted in place; tokens
// and derived secrets are unchanged.
func TestPlaintextKeysMigrate(t *testing.T) {
	plain, db := openSet(t)
	tok, _ := plain.SignIDToken(map[string]string{"sub": "x"})
	cookie, _ := plain.DeriveSecret("cookie")
	for _, k := range storedKeys(t, db) {
		if bytes.HasPrefix(k.PrivateKey, []byte(sealedPrefix)) {
			t.Fatal("a key was encrypted without a secret")
		}
	}
	enc := encryption(t, secretA)
	s, err := Open(t.Context(), db, Options{Encryption: enc})
	if err != nil {
		t.Fatalf("open plaintext keys with a secret: %v", err)
	}
	wantAllSealed(t, db)
	if _, err := s.Verify(tok, "JWT"); err != nil {
		t.Errorf("a token signed before the encryption: %v", err)
	}
	if got, _ := s.DeriveSecret("cookie"); !bytes.Equal(got, cookie) {
		t.Error("DeriveSecret changed with the encryption")
	}
	if signingKID(s, IDTokenAlgorithm) != signingKID(plain, IDTokenAlgorithm) {
		t.Error("the encryption changed the keys")
	}
	// The instance without the secret now refuses the keys (and keeps
	// what it read), rather than writing a key in the clear.
	if err := plain.Reload(t.Context()); !errors.Is(err, ErrSecretNeeded) {
		t.Errorf("Reload without the secret = %v, want ErrSecretNeeded", err)
	}
	if _, err := plain.Rotate(t.Context(), true); !errors.Is(err, ErrSecretNeeded) {
		t.Errorf("Rotate without the secret = %v, want ErrSecretNeeded", err)
	}
	if _, err := plain.Maintain(t.Context()); !errors.Is(err, ErrSecretNeeded) {
		t.Errorf("Maintain without the secret = %v, want ErrSecretNeeded", err)
	}
	wantAllSealed(t, db)
	if _, err := plain.SignAccessToken(map[string]string{"sub": "x"}); err != nil {
		t.Errorf("the instance without the secret stopped signing with the keys it read: %v", err)
	}
}

// TestWrongSecretRefused: a wrong or missing secret fails Open with a
// clear error, and no key is made (never new keys in silence).
func TestWrongSecretRefused(t *testing.T) {
	_, db := openSetWith(t, Options{Encryption: encryption(t, secretA)})
	before := len(storedKeys(t, db))
	for _, tc := range []struct {
		name string
		enc  *Encryption
		want error
	}{
		{"wrong secret", encryption(t, secretB), ErrWrongSecret},
		{"no secret", nil, ErrSecretNeeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(t.Context(), db, Options{Encryption: tc.enc, RotateEvery: day})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open = %v, want %v", err, tc.want)
			}
			if n := len(storedKeys(t, db)); n != before {
				t.Errorf("%d keys stored after the refused Open, want %d", n, before)
			}
		})
	}
}

// TestSealedKeyBoundToID: the key id is the associated data, so a sealed
// key copied into another key's row does not open.
func TestSealedKeyBoundToID(t *testing.T) {
	enc := encryption(t, secretA)
	_, db := openSetWith(t, Options{Encryption: enc})
	ks := storedKeys(t, db)
	if err := db.ReplacePrivateKeys(t.Context(), []store.PrivateKeyReplacement{
		{ID: ks[1].ID, Old: ks[1].PrivateKey, New: ks[0].PrivateKey}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), db, Options{Encryption: enc}); !errors.Is(err, ErrWrongSecret) {
		t.Errorf("Open with a moved sealed key = %v, want ErrWrongSecret", err)
	}
}

func TestNewEncryptionShortSecret(t *testing.T) {
	if _, err := NewEncryption([]byte(strings.Repeat("x", MinSecretLength-1))); err == nil {
		t.Error("NewEncryption took a secret shorter than MinSecretLength")
	}
}

// TestPlaintextKeyBesideEncryptedRefused: once the keys are encrypted, a
// key in the clear — planted by someone able to write the database — is
// refused with an error naming it: not loaded, not encrypted, no key
// written; the instances keep signing with the keys they had read.
func TestPlaintextKeyBesideEncryptedRefused(t *testing.T) {
	c := newClock()
	opts := Options{Now: c.Now, Encryption: encryption(t, secretA), RotateEvery: day}
	s, db := openSetWith(t, opts)
	signing := signingKID(s, AccessTokenAlgorithm)
	planter := &Set{opts: Options{Now: c.Now}.withDefaults()}
	c.Advance(time.Second)
	planted, err := planter.generate(AccessTokenAlgorithm, c.Now(), c.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateKey(t.Context(), planted); err != nil {
		t.Fatal(err)
	}
	before := storedKeys(t, db)
	c.Advance(day) // Maintain would rotate
	for name, call := range map[string]func() error{
		"Open":     func() error { _, err := Open(t.Context(), db, opts); return err },
		"Reload":   func() error { return s.Reload(t.Context()) },
		"Maintain": func() error { _, err := s.Maintain(t.Context()); return err },
		"Rotate":   func() error { _, err := s.Rotate(t.Context(), true); return err },
	} {
		err := call()
		if !errors.Is(err, ErrPlaintextKey) || !strings.Contains(err.Error(), planted.ID) {
			t.Errorf("%s = %v, want ErrPlaintextKey naming key %s", name, err, planted.ID)
		}
	}
	if d := cmp.Diff(before, storedKeys(t, db)); d != "" {
		t.Errorf("keys written after the refusal (-before +after):\n%s", d)
	}
	if kid := signingKID(s, AccessTokenAlgorithm); kid != signing {
		t.Errorf("the instance signs with %s, want still %s", kid, signing)
	}
}

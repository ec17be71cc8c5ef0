package seal

import (
	"bytes"
	"errors"
	"testing"
)

func mustKey(t *testing.T, b byte) Sealer {
	t.Helper()
	s, err := NewKey(bytes.Repeat([]byte{b}, keySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTripAndRefusals(t *testing.T) {
	secret := []byte(`{"refresh_token":"rt-123"}`)
	ad := []byte("/home/app/.smartapp/token.json")
	tests := []struct {
		name         string
		seal, open   Sealer
		openAD       []byte
		tamper       func([]byte) []byte
		wantOpenFail bool
	}{
		{name: "key", seal: mustKey(t, 1), open: mustKey(t, 1), openAD: ad},
		{name: "wrong key", seal: mustKey(t, 1), open: mustKey(t, 2), openAD: ad, wantOpenFail: true},
		{name: "moved (other additional data)", seal: mustKey(t, 1), open: mustKey(t, 1), openAD: []byte("/tmp/x"), wantOpenFail: true},
		{name: "truncated", seal: mustKey(t, 1), open: mustKey(t, 1), openAD: ad,
			tamper: func(b []byte) []byte { return b[:len(b)-1] }, wantOpenFail: true},
		{name: "passphrase, another process", seal: Passphrase([]byte("correct horse")), open: Passphrase([]byte("correct horse")), openAD: ad},
		{name: "wrong passphrase", seal: Passphrase([]byte("correct horse")), open: Passphrase([]byte("battery staple")), openAD: ad, wantOpenFail: true},
		{name: "key blob is not a passphrase blob", seal: mustKey(t, 1), open: Passphrase([]byte("x")), openAD: ad, wantOpenFail: true},
		{name: "passphrase blob with hostile argon2 memory", seal: Passphrase([]byte("p")), open: Passphrase([]byte("p")), openAD: ad,
			tamper: func(b []byte) []byte { b[len(magic)+1+4] = 0xff; return b }, wantOpenFail: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			blob, err := tc.seal.Seal(secret, ad)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(blob, []byte("rt-123")) {
				t.Fatal("the sealed blob holds the plaintext")
			}
			if tc.tamper != nil {
				blob = tc.tamper(blob)
			}
			got, err := tc.open.Open(blob, tc.openAD)
			if tc.wantOpenFail {
				if !errors.Is(err, ErrOpen) {
					t.Fatalf("Open = %q, %v; want ErrOpen", got, err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, secret) {
				t.Fatalf("Open = %q, %v; want %q", got, err, secret)
			}
		})
	}
}

// Every byte of a blob is authenticated: flipping any one makes Open fail.
func TestEveryByteIsAuthenticated(t *testing.T) {
	for _, s := range []Sealer{mustKey(t, 7), Passphrase([]byte("pw"))} {
		blob, err := s.Seal([]byte("secret"), nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range blob {
			b := bytes.Clone(blob)
			b[i] ^= 0x01
			if _, err := s.Open(b, nil); !errors.Is(err, ErrOpen) {
				t.Fatalf("%T: byte %d flipped: Open err = %v, want ErrOpen", s, i, err)
			}
		}
	}
}

// Two seals of the same secret differ (a fresh nonce each time).
func TestFreshNonce(t *testing.T) {
	s := mustKey(t, 3)
	a, _ := s.Seal([]byte("same"), nil)
	b, _ := s.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one plaintext are identical")
	}
}

func TestNewKeySize(t *testing.T) {
	if _, err := NewKey(make([]byte, 16)); err == nil {
		t.Fatal("NewKey accepted a 16-byte key")
	}
}

func FuzzOpen(f *testing.F) {
	k := mustKey(&testing.T{}, 9)
	p := Passphrase([]byte("pw"))
	kb, _ := k.Seal([]byte("x"), nil)
	pb, _ := p.Seal([]byte("x"), nil)
	f.Add(kb)
	f.Add(pb)
	f.Fuzz(func(t *testing.T, b []byte) {
		// Never panics; a blob that opens must be one we sealed.
		for _, s := range []Sealer{k, p} {
			if pt, err := s.Open(b, nil); err == nil && string(pt) != "x" {
				t.Fatalf("forged blob opened to %q", pt)
			}
		}
	})
}

//go:build cgo

package pkcs11

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	p11 "github.com/miekg/pkcs11"
)

// openKey generates an EC key named label on curve in cfg's token and
// opens a Signer for it, closed when the test ends.
func openKey(t *testing.T, cfg Config, label string, curve elliptic.Curve) *Signer {
	t.Helper()
	cfg.KeyLabel = label
	if err := GenerateECKey(cfg, curve); err != nil {
		t.Fatalf("GenerateECKey: %v", err)
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestECDSASignInToken: a key generated in the token signs digests that
// ecdsa.VerifyASN1 accepts with the public key Public reports.
func TestECDSASignInToken(t *testing.T) {
	cfg := NewSoftHSMToken(t)
	for _, tt := range []struct {
		name  string
		curve elliptic.Curve
		hash  crypto.Hash
	}{
		{"P-256 with SHA-256", elliptic.P256(), crypto.SHA256},
		{"P-384 with SHA-384", elliptic.P384(), crypto.SHA384},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := openKey(t, cfg, tt.name, tt.curve)
			pub, ok := s.Public().(*ecdsa.PublicKey)
			if !ok || pub.Curve != tt.curve {
				t.Fatalf("Public() = %T on %v, want *ecdsa.PublicKey on %s", s.Public(), pub, tt.curve.Params().Name)
			}
			h := tt.hash.New()
			h.Write([]byte("a DPoP proof's signing input"))
			digest := h.Sum(nil)
			sig, err := s.Sign(rand.Reader, digest, tt.hash)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if !ecdsa.VerifyASN1(pub, digest, sig) {
				t.Errorf("signature %x does not verify", sig)
			}
			if _, err := s.Sign(rand.Reader, digest[:10], tt.hash); err == nil {
				t.Error("Sign accepted a digest of the wrong length")
			}
		})
	}
}

// TestKeyNotExtractable: GenerateECKey's private key is sensitive and
// never extractable, and the token refuses to reveal its value.
func TestKeyNotExtractable(t *testing.T) {
	cfg := NewSoftHSMToken(t)
	s := openKey(t, cfg, "dpop", elliptic.P256())
	ctx := s.mod.ctx
	_, err := ctx.GetAttributeValue(s.session, s.key, []*p11.Attribute{p11.NewAttribute(p11.CKA_VALUE, nil)})
	if !errors.Is(err, p11.Error(p11.CKR_ATTRIBUTE_SENSITIVE)) {
		t.Errorf("reading CKA_VALUE: err = %v, want CKR_ATTRIBUTE_SENSITIVE", err)
	}
	v, err := s.mod.attrs(s.session, s.key, p11.CKA_SENSITIVE, p11.CKA_EXTRACTABLE, p11.CKA_NEVER_EXTRACTABLE)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		name string
		val  byte
	}{{"CKA_SENSITIVE", 1}, {"CKA_EXTRACTABLE", 0}, {"CKA_NEVER_EXTRACTABLE", 1}} {
		if len(v[i]) != 1 || v[i][0] != want.val {
			t.Errorf("%s = %v, want %d", want.name, v[i], want.val)
		}
	}
	// A second key of the same name would make Open ambiguous.
	if err := GenerateECKey(Config{Module: cfg.Module, TokenLabel: "test", PIN: "1234", KeyLabel: "dpop"}, elliptic.P256()); err == nil {
		t.Error("GenerateECKey made a second key with the same label")
	}
}

// TestRSAImportedKey: an RSA key signs PKCS #1 v1.5 (with the DigestInfo)
// and PSS signatures in the token that crypto/rsa verifies.
func TestRSAImportedKey(t *testing.T) {
	cfg := NewSoftHSMToken(t)
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "rsa.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	util, _ := exec.LookPath("softhsm2-util")
	softhsmUtil(t, util, "--import", file, "--token", "test", "--label", "rsa", "--id", "01", "--pin", "1234")

	cfg.KeyID = []byte{1}
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if pub, ok := s.Public().(*rsa.PublicKey); !ok || !pub.Equal(&priv.PublicKey) {
		t.Fatalf("Public() = %v, want the imported key's", s.Public())
	}
	d256 := sha256.Sum256([]byte("client assertion"))
	d384 := sha512.Sum384([]byte("client assertion"))
	for _, tt := range []struct {
		name   string
		digest []byte
		opts   crypto.SignerOpts
	}{
		{"RS256", d256[:], crypto.SHA256},
		{"RS384", d384[:], crypto.SHA384},
		{"PS256 salt auto", d256[:], &rsa.PSSOptions{Hash: crypto.SHA256}},
		{"PS384 salt = hash", d384[:], &rsa.PSSOptions{Hash: crypto.SHA384, SaltLength: rsa.PSSSaltLengthEqualsHash}},
	} {
		sig, err := s.Sign(rand.Reader, tt.digest, tt.opts)
		if err != nil {
			t.Errorf("%s: Sign: %v", tt.name, err)
			continue
		}
		if pss, ok := tt.opts.(*rsa.PSSOptions); ok {
			err = rsa.VerifyPSS(&priv.PublicKey, pss.Hash, tt.digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
		} else {
			err = rsa.VerifyPKCS1v15(&priv.PublicKey, tt.opts.HashFunc(), tt.digest, sig)
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

// TestConcurrentSigners: two Signers over one key in one process sign
// concurrently; closing one leaves the other (and the module) working.
func TestConcurrentSigners(t *testing.T) {
	cfg := NewSoftHSMToken(t)
	a := openKey(t, cfg, "shared", elliptic.P256())
	cfg.KeyLabel = "shared"
	b, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("x"))
	var wg sync.WaitGroup
	for i := range 8 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for range 20 {
				sig, err := s.Sign(nil, digest[:], crypto.SHA256)
				if err != nil || !ecdsa.VerifyASN1(s.Public().(*ecdsa.PublicKey), digest[:], sig) {
					t.Errorf("concurrent Sign: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := b.Sign(nil, digest[:], crypto.SHA256); !errors.Is(err, ErrClosed) {
		t.Errorf("Sign after Close: %v, want ErrClosed", err)
	}
	if _, err := a.Sign(nil, digest[:], crypto.SHA256); err != nil {
		t.Errorf("the other Signer after one closed: %v", err)
	}
}

// TestOpenErrors: Open reports what is wrong and leaves nothing loaded.
func TestOpenErrors(t *testing.T) {
	cfg := NewSoftHSMToken(t)
	if err := GenerateECKey(Config{Module: cfg.Module, TokenLabel: "test", PIN: "1234", KeyLabel: "k"}, elliptic.P256()); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no module", Config{KeyLabel: "k"}, "Config.Module"},
		{"missing module", Config{Module: "/nonexistent/lib.so", KeyLabel: "k"}, "cannot load module"},
		{"no key name", Config{Module: cfg.Module, TokenLabel: "test", PIN: "1234"}, "KeyLabel or a KeyID"},
		{"unknown token", Config{Module: cfg.Module, TokenLabel: "other", PIN: "1234", KeyLabel: "k"}, `no token labelled "other"`},
		{"wrong PIN", Config{Module: cfg.Module, TokenLabel: "test", PIN: "0000", KeyLabel: "k"}, "CKR_PIN_INCORRECT"},
		{"unknown key", Config{Module: cfg.Module, TokenLabel: "test", PIN: "1234", KeyLabel: "nope"}, `no private key with label "nope"`},
		{"wrong id", Config{Module: cfg.Module, TokenLabel: "test", PIN: "1234", KeyLabel: "k", KeyID: []byte{9}}, "no private key"},
	} {
		s, err := Open(tt.cfg)
		if err == nil {
			s.Close()
			t.Errorf("%s: Open succeeded", tt.name)
		} else if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
	modules.Lock()
	defer modules.Unlock()
	if len(modules.m) != 0 {
		t.Errorf("%d modules still loaded after failed Opens", len(modules.m))
	}
}

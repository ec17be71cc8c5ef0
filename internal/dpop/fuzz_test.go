package dpop_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"fmt"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/dpop"
)

// acceptAll is a replay cache that never reports a replay, so the fuzzer
// can present a valid seed more than once. Replay is tested on SQLite
// elsewhere.
type acceptAll struct{}

func (acceptAll) Remember(context.Context, string, time.Time, time.Time) (bool, error) {
	return true, nil
}

// FuzzVerify feeds arbitrary DPoP header values to Verify. It must never
// panic, and it may accept only a proof signed by one of the seed keys with
// one of the seed jtis: no mutation makes garbage into a proof.
func FuzzVerify(f *testing.F) {
	c := newClock(t0)
	v := verifierOn(f, acceptAll{}, c)
	valid := map[[2]string]bool{}
	// Worker processes rerun this set-up, so the seed keys must be the same
	// in every process: derived from fixed bytes.
	ec, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		f.Fatal(err)
	}
	ed := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	for i, k := range []testKey{{"ES256", ec}, {"EdDSA", ed}} {
		p := newProof(k)
		p.claims["jti"] = fmt.Sprintf("seed-%d", i)
		p.claims["ath"] = ath("tok")
		valid[[2]string{thumb(f, k.signer), p.claims["jti"].(string)}] = true
		f.Add(p.compact())
	}
	for _, s := range []string{"", "a.b.c", "....", "e30.e30.e30", "eyJ0eXAiOiJkcG9wK2p3dCJ9.e30."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		for _, tok := range []string{"", "tok"} {
			got, err := v.Verify(context.Background(), dpop.Request{Header: h, Method: "POST", URL: tokenURL, AccessToken: tok})
			if err != nil {
				continue
			}
			if !valid[[2]string{got.JKT, got.JTI}] {
				t.Fatalf("Verify accepted %q as %+v, which no seed key signed", h, got)
			}
		}
	})
}

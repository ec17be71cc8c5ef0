package pkcs11

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"testing"
)

// TestECPublicKeyForms: CKA_EC_POINT is accepted as the DER OCTET STRING
// PKCS#11 specifies and as the bare point some tokens return.
func TestECPublicKeyForms(t *testing.T) {
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		params, err := curveParams(curve)
		if err != nil {
			t.Fatal(err)
		}
		bare, err := k.PublicKey.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		wrapped, _ := asn1.Marshal(bare)
		for name, point := range map[string][]byte{"DER": wrapped, "bare": bare} {
			got, err := ecPublicKey(params, point)
			if err != nil || !got.Equal(&k.PublicKey) {
				t.Errorf("%s %s point: got %v, %v; want the key", curve.Params().Name, name, got, err)
			}
		}
	}
	if _, err := curveParams(elliptic.P224()); err == nil {
		t.Error("curveParams accepted P-224")
	}
}

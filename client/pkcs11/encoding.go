package pkcs11

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// The named curves a Signer supports, by the OID that CKA_EC_PARAMS holds
// (RFC 5480 §2.1.1.1).
var (
	oidP256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidP384 = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	oidP521 = asn1.ObjectIdentifier{1, 3, 132, 0, 35}
)

// curveParams returns the DER encoding of curve's OID, the value of
// CKA_EC_PARAMS for a key on it.
func curveParams(curve elliptic.Curve) ([]byte, error) {
	var oid asn1.ObjectIdentifier
	switch curve {
	case elliptic.P256():
		oid = oidP256
	case elliptic.P384():
		oid = oidP384
	case elliptic.P521():
		oid = oidP521
	default:
		return nil, fmt.Errorf("pkcs11: unsupported curve %v (want P-256, P-384 or P-521)", curveName(curve))
	}
	return asn1.Marshal(oid)
}

func curveName(c elliptic.Curve) string {
	if c == nil {
		return "nil"
	}
	return c.Params().Name
}

// ecPublicKey decodes an EC public key from its CKA_EC_PARAMS (a named
// curve's OID) and CKA_EC_POINT. PKCS#11 says the point is a DER OCTET
// STRING holding the uncompressed point; some tokens return the bare
// point, which is accepted too.
func ecPublicKey(params, point []byte) (*ecdsa.PublicKey, error) {
	var oid asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(params, &oid); err != nil || len(rest) > 0 {
		return nil, errors.New("pkcs11: CKA_EC_PARAMS is not a named curve")
	}
	var curve elliptic.Curve
	switch {
	case oid.Equal(oidP256):
		curve = elliptic.P256()
	case oid.Equal(oidP384):
		curve = elliptic.P384()
	case oid.Equal(oidP521):
		curve = elliptic.P521()
	default:
		return nil, fmt.Errorf("pkcs11: unsupported curve %v", oid)
	}
	size := 1 + 2*((curve.Params().BitSize+7)/8)
	var inner []byte
	if rest, err := asn1.Unmarshal(point, &inner); err == nil && len(rest) == 0 && len(inner) == size {
		point = inner
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: CKA_EC_POINT: %w", err)
	}
	return pub, nil
}

// rsaPublicKey decodes CKA_MODULUS and CKA_PUBLIC_EXPONENT.
func rsaPublicKey(modulus, exponent []byte) (*rsa.PublicKey, error) {
	e := new(big.Int).SetBytes(exponent)
	if len(modulus) == 0 || !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 {
		return nil, errors.New("pkcs11: invalid RSA public key")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(modulus), E: int(e.Int64())}, nil
}

// ecdsaDER converts the signature CKM_ECDSA returns, r and s as two
// big-endian integers of the curve's size (PKCS#11 v2.40 §2.3.1), to the
// ASN.1 DER form crypto.Signer promises for ECDSA (RFC 3279 §2.2.3).
func ecdsaDER(raw []byte) ([]byte, error) {
	if len(raw) == 0 || len(raw)%2 != 0 {
		return nil, fmt.Errorf("pkcs11: ECDSA signature of %d bytes", len(raw))
	}
	n := len(raw) / 2
	return asn1.Marshal(struct{ R, S *big.Int }{
		new(big.Int).SetBytes(raw[:n]), new(big.Int).SetBytes(raw[n:]),
	})
}

// digestInfoPrefix is the DER DigestInfo header that precedes a digest in
// an RSA PKCS #1 v1.5 signature (RFC 8017 §9.2 note 1); CKM_RSA_PKCS signs
// the DigestInfo as given.
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA224: {0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c},
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// pkcs1DigestInfo returns what CKM_RSA_PKCS signs for an RSA PKCS #1 v1.5
// signature of digest: its DigestInfo, or the digest itself when h is zero
// (crypto/rsa's convention for pre-encoded input).
func pkcs1DigestInfo(h crypto.Hash, digest []byte) ([]byte, error) {
	if h == 0 {
		return digest, nil
	}
	prefix, ok := digestInfoPrefix[h]
	if !ok {
		return nil, fmt.Errorf("pkcs11: unsupported hash %v for RSA PKCS #1 v1.5", h)
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("pkcs11: digest is %d bytes, %v needs %d", len(digest), h, h.Size())
	}
	return append(append([]byte(nil), prefix...), digest...), nil
}

// pssSaltLength resolves opts.SaltLength for a key of modulus bits as
// crypto/rsa does when signing: Auto is as long as the key allows,
// EqualsHash the hash's size.
func pssSaltLength(opts *rsa.PSSOptions, h crypto.Hash, bits int) (int, error) {
	switch sl := opts.SaltLength; {
	case sl == rsa.PSSSaltLengthAuto:
		n := (bits-1+7)/8 - h.Size() - 2
		if n < 0 {
			return 0, errors.New("pkcs11: RSA key too short for PSS with this hash")
		}
		return n, nil
	case sl == rsa.PSSSaltLengthEqualsHash:
		return h.Size(), nil
	case sl > 0:
		return sl, nil
	default:
		return 0, fmt.Errorf("pkcs11: invalid PSS salt length %d", sl)
	}
}

// Package pkcs11 provides a [crypto.Signer] whose private key lives in a
// PKCS#11 token and never leaves it: every signature is computed inside
// the token. It is the hardware half of issue 9's "DPoP with any
// crypto.Signer": hand a [*Signer] to package client (or to go-jose through
// cryptosigner.Opaque) to sign DPoP proofs (RFC 9449) or private_key_jwt
// client assertions (RFC 7523) with a key that cannot be copied.
//
// It is a public package; any program may import it. It uses cgo (through
// github.com/miekg/pkcs11, which loads the PKCS#11 library with dlopen at
// run time), which is why it lives apart from package client: programs
// that do not import it build without cgo. Built with CGO_ENABLED=0, [Open]
// and [GenerateECKey] return [ErrNoCgo].
//
// # Using a token
//
// A [Config] names the PKCS#11 library (the "module"), the token by its
// label, the user PIN and the key by its label or its CKA_ID:
//
//	s, err := pkcs11.Open(pkcs11.Config{
//		Module:     "/usr/lib/softhsm/libsofthsm2.so",
//		TokenLabel: "smartapp",
//		PIN:        pin, // from a file or a prompt, never from the command line
//		KeyLabel:   "dpop",
//	})
//	if err != nil { ... }
//	defer s.Close()
//	// s.Public() is the *ecdsa.PublicKey (P-256, P-384, P-521) or *rsa.PublicKey;
//	// s.Sign signs inside the token: ECDSA (ASN.1 DER, as crypto.Signer
//	// requires), RSA PKCS #1 v1.5, or RSA-PSS when opts is *rsa.PSSOptions.
//
// [GenerateECKey] creates a non-extractable, sensitive EC key pair inside a
// token, for tests and tooling; a token's own tools (softhsm2-util,
// pkcs11-tool --keypairgen, ykman, tpm2_ptool) do the same.
//
// # The same code for other hardware
//
// Anything with a PKCS#11 library is used exactly as SoftHSM2 is; only the
// Config changes:
//
//   - A TPM 2.0, through tpm2-pkcs11 (Debian package libtpm2-pkcs11-1):
//     create a token and a key with "tpm2_ptool init", "tpm2_ptool addtoken
//     --pid 1 --label smartapp --userpin ... --sopin ..." and "tpm2_ptool
//     addkey --algorithm ecc256 --label smartapp --key-label dpop --userpin
//     ..."; then Module is the package's libtpm2_pkcs11.so (dpkg -L
//     libtpm2-pkcs11-1 shows where), TokenLabel "smartapp", KeyLabel "dpop".
//     The key is bound to this machine's TPM.
//   - A YubiKey (PIV), through Yubico's ykcs11 (package ykcs11,
//     libykcs11.so) or OpenSC (opensc-pkcs11.so): generate the key on the
//     device (ykman piv keys generate --algorithm ECCP256 9a ...; some PIV
//     libraries list a key only once its slot holds a certificate), then
//     use the token label and the key's label or CKA_ID that the library
//     reports (pkcs11-tool --module ... --list-slots, --list-objects). PIV
//     slot 9c keys demand the PIN before every signature
//     (CKA_ALWAYS_AUTHENTICATE); the Signer gives it, from Config.PIN, each
//     time.
//   - A cloud KMS or network HSM: Google Cloud KMS (libkmsp11.so,
//     configured by the file KMS_PKCS11_CONFIG names), AWS CloudHSM
//     (libcloudhsm_pkcs11.so) and others publish PKCS#11 libraries that work
//     here unchanged. A KMS whose Go client library offers its own
//     crypto.Signer needs no PKCS#11 at all: give that crypto.Signer to
//     package client directly; this package is only one way to get one.
//
// # Concurrency
//
// A [Signer] is safe for concurrent use: it holds one PKCS#11 session and
// serializes operations on it with a mutex (tokens are rarely faster in
// parallel). The PKCS#11 library itself is process-wide state: this package
// initializes each module once and finalizes it when its last Signer
// closes, so several Signers over one module coexist in a process.
package pkcs11

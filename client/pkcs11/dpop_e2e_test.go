//go:build cgo

package pkcs11_test

import (
	"crypto"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"

	"github.com/smartlaunch/smartlaunch/client/pkcs11"
	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/testserver"
)

const (
	appID       = "hsm-app"
	appRedirect = "http://127.0.0.1:9/callback"
	appScope    = "launch/patient patient/*.rs offline_access"
)

// TestDPoPWithHSMKey (issue 9, "What must be shown"): a public app whose
// DPoP key was generated in a SoftHSM2 token and never leaves it runs a
// standalone launch against the real server, exchanges the code with DPoP
// proofs signed through PKCS#11 (learning the server's nonce, RFC 9449
// §8), gets an access token bound to the HSM key (cnf.jkt is its RFC 7638
// thumbprint, RFC 9449 §6.1) and reads the patient's record with it
// (RFC 9449 §7: the DPoP scheme and a proof carrying ath).
func TestDPoPWithHSMKey(t *testing.T) {
	cfg := pkcs11.NewSoftHSMToken(t)
	cfg.KeyLabel = "dpop"
	if err := pkcs11.GenerateECKey(cfg, elliptic.P256()); err != nil {
		t.Fatal(err)
	}
	signer, err := pkcs11.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer signer.Close()

	base := startServer(t)
	fhirBase := base + "/fhir"
	verifier := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	challenge := sha256.Sum256([]byte(verifier))
	q := authorize(t, base+"/authorize?"+url.Values{
		"response_type": {"code"}, "client_id": {appID}, "redirect_uri": {appRedirect}, "scope": {appScope},
		"state": {"state-hsm"}, "aud": {fhirBase},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(challenge[:])}, "code_challenge_method": {"S256"},
	}.Encode())
	if q.Get("state") != "state-hsm" || q.Get("code") == "" {
		t.Fatalf("app redirect %v, want a code and the state", q)
	}

	p := &prover{t: t, signer: signer}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {appRedirect},
		"client_id": {appID}, "code_verifier": {verifier}}
	resp, body := p.do(http.MethodPost, base+"/token", "", strings.NewReader(form.Encode()))
	if resp.StatusCode != http.StatusOK || body["token_type"] != "DPoP" {
		t.Fatalf("code exchange: %d %v, want 200 with token_type DPoP", resp.StatusCode, body)
	}
	if p.nonces == 0 {
		t.Error("the token endpoint never asked for a DPoP nonce; this test means to cover that round trip")
	}
	token, _ := body["access_token"].(string)
	patient, _ := body["patient"].(string)
	if patient != demo.PatientJill || body["refresh_token"] == nil {
		t.Errorf("token response patient %q, refresh_token %v; want %s and a refresh token", patient, body["refresh_token"], demo.PatientJill)
	}

	tp, err := (&jose.JSONWebKey{Key: signer.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	cnf, _ := claimsOf(t, token)["cnf"].(map[string]any)
	if want := base64.RawURLEncoding.EncodeToString(tp); cnf["jkt"] != want {
		t.Errorf("access token cnf = %v, want jkt %s (the HSM key's thumbprint)", cnf, want)
	}

	resp, body = p.do(http.MethodGet, fhirBase+"/Patient/"+patient, token, nil)
	if resp.StatusCode != http.StatusOK || body["resourceType"] != "Patient" || body["id"] != patient {
		t.Fatalf("GET Patient/%s with DPoP: %d %v, want 200 and the Patient", patient, resp.StatusCode, body)
	}
}

// startServer runs smartlaunch in-process (internal/testserver) with the
// test app registered, and returns its base URL.
func startServer(t *testing.T) string {
	t.Helper()
	return testserver.Start(t, testserver.Options{Clients: []store.Client{{ID: appID, Name: "HSM DPoP App",
		Type: store.ClientPublic, RedirectURIs: []string{appRedirect}, Scope: appScope}}}).Base
}

// prover signs DPoP proofs (RFC 9449 §4.2) with the PKCS#11 Signer,
// through go-jose's opaque signer: only the public key leaves the token.
type prover struct {
	t      *testing.T
	signer crypto.Signer
	nonce  string
	nonces int // use_dpop_nonce answers retried
}

func (p *prover) proof(method, u, accessToken string) string {
	p.t.Helper()
	opts := (&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", jose.JSONWebKey{Key: p.signer.Public()})
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: cryptosigner.Opaque(p.signer)}, opts)
	if err != nil {
		p.t.Fatal(err)
	}
	claims := map[string]any{"jti": base64.RawURLEncoding.EncodeToString(randomBytes(16)), "htm": method, "htu": u,
		"iat": time.Now().Unix()}
	if p.nonce != "" {
		claims["nonce"] = p.nonce
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	b, _ := json.Marshal(claims)
	jws, err := s.Sign(b)
	if err != nil {
		p.t.Fatalf("signing a DPoP proof in the token: %v", err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

// do sends a request with a fresh proof (and the access token under the
// DPoP scheme when there is one) and decodes the JSON answer. A
// use_dpop_nonce answer, from the token endpoint (400) or the resource
// server (401), is retried once with the DPoP-Nonce it carried.
func (p *prover) do(method, u, accessToken string, body *strings.Reader) (*http.Response, map[string]any) {
	p.t.Helper()
	for try := 0; ; try++ {
		var rd io.Reader
		if body != nil {
			if _, err := body.Seek(0, io.SeekStart); err != nil {
				p.t.Fatal(err)
			}
			rd = body
		}
		req, err := http.NewRequest(method, u, rd)
		if err != nil {
			p.t.Fatal(err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if accessToken != "" {
			req.Header.Set("Authorization", "DPoP "+accessToken)
		}
		req.Header.Set("DPoP", p.proof(method, u, accessToken))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			p.t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		if n := resp.Header.Get("DPoP-Nonce"); n != "" {
			p.nonce = n
		}
		wantsNonce := m["error"] == "use_dpop_nonce" || strings.Contains(resp.Header.Get("WWW-Authenticate"), "use_dpop_nonce")
		if wantsNonce && try == 0 {
			p.nonces++
			continue
		}
		return resp, m
	}
}

// authorize plays the patient's browser through sign-in and consent,
// and returns the query of the redirect to the app.
func authorize(t *testing.T, authURL string) url.Values {
	t.Helper()
	u := testserver.SignIn(t, authURL, "patient", "patient-demo")
	if !strings.HasPrefix(u.String(), appRedirect+"?") {
		t.Fatalf("consent redirected to %s, want the app's redirect %s", u, appRedirect)
	}
	return u.Query()
}

// claimsOf decodes a JWT's payload without verifying it.
func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

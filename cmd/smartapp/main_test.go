package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/client"
	"github.com/smartlaunch/smartlaunch/client/seal"
	"github.com/smartlaunch/smartlaunch/internal/demo"
)

// storedToken opens the sealed token file as another process of the app
// would.
func (e *testEnv) storedToken() *client.Token {
	e.t.Helper()
	st := client.NewFileStore(filepath.Join(e.dir, tokenFile), client.WithSealer(seal.Passphrase([]byte(testPassphrase))))
	tok, _, err := st.Load(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	if tok == nil {
		e.t.Fatal("no token stored")
	}
	return tok
}

// liveAuthorizations counts the demo patient's live authorizations, as
// the server sees them.
func (e *testEnv) liveAuthorizations() int {
	e.t.Helper()
	as, err := e.st.ListUserAuthorizations(context.Background(), "user-patient")
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, a := range as {
		if a.Live(time.Now()) {
			n++
		}
	}
	return n
}

// refreshStatus presents a refresh token at the token endpoint directly
// and returns the OAuth error code ("" on success).
func (e *testEnv) refreshStatus(refresh string) string {
	e.t.Helper()
	resp, err := http.PostForm(e.base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {defaultClientID}})
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return body.Error
}

func mustOK(t *testing.T, what string, r result) {
	t.Helper()
	if r.code != exitOK {
		t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", what, r.code, r.stdout, r.stderr)
	}
}

// TestLoginGetWhoamiLogout is the whole life of an authorization: a
// loopback login with sealed storage, FHIR reads, whoami, and a logout
// the server honors.
func TestLoginGetWhoamiLogout(t *testing.T) {
	e := newEnv(t)
	mustOK(t, "login", e.login())

	// Stored sealed: neither token appears in any file in plaintext.
	tok := e.storedToken()
	if tok.RefreshToken == "" || !strings.EqualFold(tok.TokenType, "Bearer") {
		t.Fatalf("stored token: type %q, refresh token %q; want a Bearer token with a refresh token (offline_access)", tok.TokenType, tok.RefreshToken)
	}
	files, _ := os.ReadDir(e.dir)
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(e.dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), tok.RefreshToken) || strings.Contains(string(b), tok.AccessToken) {
			t.Errorf("%s holds a token in plaintext", f.Name())
		}
	}
	if fi, err := os.Stat(e.dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("config directory: %v, mode %v; want 0700", err, fi.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(e.dir, keyFile)); !os.IsNotExist(err) {
		t.Errorf("a DPoP key file exists without --dpop: %v", err)
	}

	r := e.smartapp("get", "Patient/"+demo.PatientJill)
	mustOK(t, "get Patient", r)
	var patient struct{ ResourceType, ID string }
	if err := json.Unmarshal([]byte(r.stdout), &patient); err != nil || patient.ResourceType != "Patient" || patient.ID != demo.PatientJill {
		t.Errorf("get Patient printed %+v (%v):\n%s", patient, err, r.stdout)
	}
	if !strings.Contains(r.stdout, "\n  \"") {
		t.Errorf("get output is not indented:\n%.200s", r.stdout)
	}

	r = e.smartapp("get", "Observation?category=laboratory")
	mustOK(t, "get Observation", r)
	var bundle struct {
		ResourceType string
		Entry        []struct {
			Resource struct {
				ResourceType string
				Category     []struct{ Coding []struct{ Code string } }
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &bundle); err != nil || bundle.ResourceType != "Bundle" || len(bundle.Entry) == 0 {
		t.Fatalf("get Observation printed a %q with %d entries (%v)", bundle.ResourceType, len(bundle.Entry), err)
	}
	for _, en := range bundle.Entry {
		if en.Resource.ResourceType != "Observation" || len(en.Resource.Category) == 0 || en.Resource.Category[0].Coding[0].Code != "laboratory" {
			t.Errorf("entry %+v is not a laboratory Observation", en.Resource)
			break
		}
	}

	r = e.smartapp("whoami")
	mustOK(t, "whoami", r)
	for _, want := range []string{"fhirUser: ", "Patient/" + demo.PatientJill, "patient: " + demo.PatientJill, "name: Jill"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("whoami lacks %q:\n%s", want, r.stdout)
		}
	}

	if n := e.liveAuthorizations(); n != 1 {
		t.Fatalf("%d live authorizations before logout, want 1", n)
	}
	mustOK(t, "logout", e.smartapp("logout"))
	if n := e.liveAuthorizations(); n != 0 {
		t.Errorf("%d live authorizations after logout, want 0: the server did not revoke", n)
	}
	// The old refresh token, never used, is refused: revoked, not just
	// forgotten here.
	if code := e.refreshStatus(tok.RefreshToken); code != "invalid_grant" {
		t.Errorf("the old refresh token after logout: error %q, want invalid_grant", code)
	}
	for _, name := range []string{tokenFile, keyFile} {
		if _, err := os.Stat(filepath.Join(e.dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s still exists after logout: %v", name, err)
		}
	}

	r = e.smartapp("get", "Patient/"+demo.PatientJill)
	if r.code != exitEnded || !strings.Contains(r.stderr, "your authorization has ended; run smartapp login again") {
		t.Errorf("get after logout: exit %d, stderr %q; want exit %d and the log-in-again message", r.code, r.stderr, exitEnded)
	}
	if r = e.smartapp("whoami"); r.code != exitEnded {
		t.Errorf("whoami after logout: exit %d, want %d", r.code, exitEnded)
	}
}

// TestLoginDPoP: --dpop gets a DPoP-bound token that works with get and
// not as a bearer token, and the key is stored sealed.
func TestLoginDPoP(t *testing.T) {
	e := newEnv(t)
	r := e.login("--dpop")
	mustOK(t, "login --dpop", r)
	tok := e.storedToken()
	if tok.TokenType != "DPoP" || tok.JKT == "" {
		t.Fatalf("stored token type %q, jkt %q; want DPoP with a thumbprint", tok.TokenType, tok.JKT)
	}

	p := filepath.Join(e.dir, keyFile)
	sealed, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParsePKCS8PrivateKey(sealed); err == nil {
		t.Error("the DPoP key is stored in plaintext")
	}
	der, err := seal.Passphrase([]byte(testPassphrase)).Open(sealed, []byte(p))
	if err != nil {
		t.Fatalf("the DPoP key does not open with the passphrase and its path: %v", err)
	}
	if _, err := x509.ParsePKCS8PrivateKey(der); err != nil {
		t.Fatalf("the sealed DPoP key: %v", err)
	}

	r = e.smartapp("get", "Patient/"+demo.PatientJill)
	mustOK(t, "get with DPoP", r)
	if !strings.Contains(r.stdout, demo.PatientJill) {
		t.Errorf("get printed:\n%.300s", r.stdout)
	}
	r = e.smartapp("whoami")
	mustOK(t, "whoami", r)
	if !strings.Contains(r.stdout, "token type: DPoP") {
		t.Errorf("whoami:\n%s", r.stdout)
	}

	// The token is bound: without the key's proof the server refuses it.
	req, _ := http.NewRequest(http.MethodGet, e.fhir+"/Patient/"+demo.PatientJill, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the DPoP token as a bearer token: %s, want 401", resp.Status)
	}
	mustOK(t, "logout", e.smartapp("logout"))
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("the DPoP key survives logout: %v", err)
	}
}

// TestWrongPassphrase: the sealed secrets do not open with another
// passphrase; the command fails without touching the authorization.
func TestWrongPassphrase(t *testing.T) {
	e := newEnv(t)
	mustOK(t, "login", e.login("--dpop"))
	t.Setenv("SMARTAPP_PASSPHRASE", "wrong")
	r := e.smartapp("get", "Patient/"+demo.PatientJill)
	if r.code != exitFail || !strings.Contains(r.stderr, "cannot be opened") {
		t.Errorf("get with the wrong passphrase: exit %d, stderr %q", r.code, r.stderr)
	}
	// Without $SMARTAPP_PASSPHRASE the passphrase is read from stdin.
	t.Setenv("SMARTAPP_PASSPHRASE", "")
	r = e.smartappStdin(testPassphrase+"\n", "get", "Patient/"+demo.PatientJill)
	mustOK(t, "get with the passphrase on stdin", r)
	if !strings.Contains(r.stderr, "Passphrase") || !strings.Contains(r.stdout, demo.PatientJill) {
		t.Errorf("get with the passphrase on stdin:\n%s%.200s", r.stderr, r.stdout)
	}
}

// TestLoginTimeout: login gives up when no browser comes back.
func TestLoginTimeout(t *testing.T) {
	e := newEnv(t)
	r := e.smartapp("login", "--fhir", e.fhir, "--no-browser", "--timeout", "10ms")
	if r.code != exitFail || !strings.Contains(r.stderr, "no sign-in within 10ms") || !strings.Contains(r.stderr, "/authorize?") {
		t.Errorf("login timeout: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(e.dir, configFile)); !os.IsNotExist(err) {
		t.Errorf("a failed login wrote the config: %v", err)
	}
}

// TestScopesLint: a redundant pair is a warning (exit 1); a clean
// request passes.
func TestScopesLint(t *testing.T) {
	var e testEnv
	e.t = t
	r := e.smartapp("scopes", "lint", "patient/Observation.rs", "patient/*.rs")
	if r.code != exitFail || !strings.Contains(r.stdout, "warning: redundant: patient/Observation.rs is already granted by patient/*.rs") {
		t.Errorf("redundant pair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = e.smartapp("scopes", "lint", "openid fhirUser launch/patient", "patient/Observation.rs")
	if r.code != exitOK || r.stdout != "suggested: openid fhirUser launch/patient patient/Observation.rs\n" {
		t.Errorf("clean request: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r = e.smartapp("scopes", "lint"); r.code != exitUsage {
		t.Errorf("scopes lint with no scope: exit %d, want %d", r.code, exitUsage)
	}
}

// TestUsage: help, unknown commands and commands before any login.
func TestUsage(t *testing.T) {
	e := testEnv{t: t, dir: filepath.Join(t.TempDir(), "none")}
	if r := e.smartapp("help"); r.code != exitOK || !strings.Contains(r.stdout, "usage: smartapp") {
		t.Errorf("help: exit %d\n%s", r.code, r.stdout)
	}
	for _, args := range [][]string{{}, {"frobnicate"}, {"get"}, {"login", "--bogus"}, {"scopes", "explain"}} {
		if r := e.smartapp(args...); r.code != exitUsage {
			t.Errorf("%q: exit %d, want %d\n%s", args, r.code, exitUsage, r.stderr)
		}
	}
	if r := e.smartapp("get", "Patient"); r.code != exitEnded || !strings.Contains(r.stderr, "not logged in") {
		t.Errorf("get before login: exit %d, stderr %q", r.code, r.stderr)
	}
}

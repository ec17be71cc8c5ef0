package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/smartlaunch/smartlaunch/client"
)

// A standalone launch with a DPoP key and a token store shared with the
// app's other processes. (Compiled, not run: it needs a server and a
// browser.)
func Example() {
	ctx := context.Background()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // or a key in hardware: any crypto.Signer
	c, err := client.New(ctx, "http://127.0.0.1:8080/fhir", client.Config{
		ClientID:    "demo-public-app",
		RedirectURI: "http://127.0.0.1:8000/callback",
		Scopes:      []string{"launch/patient", "openid", "fhirUser", "offline_access", "patient/*.rs"},
		DPoP:        key,
		Store:       client.NewFileStore(os.ExpandEnv("$HOME/.myapp/token.json")),
	})
	if err != nil {
		log.Fatal(err)
	}
	l, err := c.AuthorizeURL("") // keep l in the user's session
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("open", l.URL)

	http.HandleFunc("/callback", func(w http.ResponseWriter, r *http.Request) {
		s, err := c.Exchange(r.Context(), l, r.URL)
		if err != nil {
			http.Error(w, "sign-in failed", http.StatusBadRequest)
			return
		}
		ts := c.TokenSource(s)
		var patient map[string]any
		err = c.Get(r.Context(), ts, "Patient/"+s.Patient, &patient)
		if errors.Is(err, client.ErrAuthorizationEnded) {
			http.Redirect(w, r, "/login", http.StatusFound) // ask the user to sign in again
			return
		}
		fmt.Fprintln(w, patient["name"])
	})
}

// Another process resumes the authorization kept in the shared store; the
// store makes sure only one of them ever presents each refresh token.
func ExampleClient_TokenSource_resume() {
	ctx := context.Background()
	st, err := client.NewSQLiteStore("/var/lib/myapp/token.db")
	if err != nil {
		log.Fatal(err)
	}
	c, err := client.New(ctx, "http://127.0.0.1:8080/fhir", client.Config{ClientID: "demo-public-app", Store: st})
	if err != nil {
		log.Fatal(err)
	}
	var bundle map[string]any
	if err := c.Get(ctx, c.TokenSource(nil), "Observation?category=laboratory", &bundle); err != nil {
		log.Fatal(err)
	}
}

// A backend service authenticates with a private_key_jwt assertion signed
// by its key (ES384 for P-384, RS384 for RSA).
func ExampleBackendTokenSource() {
	ctx := context.Background()
	b, _ := os.ReadFile("backend-key.pem")
	blk, _ := pem.Decode(b)
	if blk == nil {
		log.Fatal("no key")
	}
	key, err := x509.ParseECPrivateKey(blk.Bytes)
	if err != nil {
		log.Fatal(err)
	}
	ts, err := client.BackendTokenSource(ctx, "http://127.0.0.1:8080/fhir", "my-backend", key, "key-1", []string{"system/Patient.rs"})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := ts.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.TokenType)
}

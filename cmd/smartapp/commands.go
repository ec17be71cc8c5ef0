package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/smart/scopelint"
	"github.com/smartlaunch/smartlaunch/smart/scopetext"
)

// get prints the JSON of GET <fhir base>/REL, indented.
func (e *env) get(ctx context.Context, args []string) error {
	flags := e.newFlags("get")
	dirArg := dirFlag(flags)
	if err := parse(flags, args); err != nil {
		return err
	}
	if flags.NArg() != 1 {
		return fmt.Errorf("%w: get takes one relative FHIR URL, such as 'Observation?category=laboratory'", errUsage)
	}
	s, err := e.open(ctx, *dirArg)
	if err != nil {
		return err
	}
	var body json.RawMessage
	if err := s.c.Get(ctx, s.ts, flags.Arg(0), &body); err != nil {
		return ended(err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, body, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = e.stdout.Write(out.Bytes())
	return err
}

// whoami prints the signed-in user, the patient in context and, when it
// can be read, the patient's name.
func (e *env) whoami(ctx context.Context, args []string) error {
	flags := e.newFlags("whoami")
	dirArg := dirFlag(flags)
	if err := parse(flags, args); err != nil {
		return err
	}
	s, err := e.open(ctx, *dirArg)
	if err != nil {
		return err
	}
	// The stored token must still be usable: whoami says who is signed in.
	tok, err := s.ts.Token(ctx)
	if err != nil {
		return ended(err)
	}
	fmt.Fprintf(e.stdout, "fhirUser: %s\n", orNone(s.cfg.FHIRUser))
	fmt.Fprintf(e.stdout, "patient: %s\n", orNone(s.cfg.Patient))
	if s.cfg.Patient != "" {
		var p struct {
			Name []struct {
				Text   string   `json:"text"`
				Given  []string `json:"given"`
				Family string   `json:"family"`
			} `json:"name"`
		}
		if err := s.c.Get(ctx, s.ts, "Patient/"+url.PathEscape(s.cfg.Patient), &p); err != nil {
			fmt.Fprintf(e.stderr, "smartapp: could not read the patient's name: %v\n", err)
		} else if len(p.Name) > 0 {
			n := p.Name[0].Text
			if n == "" {
				n = strings.TrimSpace(strings.Join(append(p.Name[0].Given, p.Name[0].Family), " "))
			}
			fmt.Fprintf(e.stdout, "name: %s\n", n)
		}
	}
	fmt.Fprintf(e.stdout, "server: %s\nclient: %s\ntoken type: %s\nscope: %s\n", s.cfg.FHIR, s.cfg.ClientID, tok.TokenType, tok.Scope)
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// logout revokes the stored tokens at the server (RFC 7009) and deletes
// them and the DPoP key. The local copies are deleted even when the
// server cannot be reached; that is then reported.
func (e *env) logout(ctx context.Context, args []string) error {
	flags := e.newFlags("logout")
	dirArg := dirFlag(flags)
	if err := parse(flags, args); err != nil {
		return err
	}
	s, err := e.open(ctx, *dirArg)
	if err != nil {
		return err
	}
	tok, _, err := s.st.Load(ctx)
	if err != nil {
		return err
	}
	var revokeErr error
	switch ep := s.c.Discovery().RevocationEndpoint; {
	case tok == nil:
	case ep == "":
		revokeErr = errors.New("the server has no revocation endpoint; the tokens were only deleted here")
	default:
		// Revoking the refresh token ends the whole authorization; the
		// access token too, in case there is no refresh token.
		for _, t := range []struct{ tok, hint string }{{tok.RefreshToken, "refresh_token"}, {tok.AccessToken, "access_token"}} {
			if t.tok == "" {
				continue
			}
			if err := revoke(ctx, ep, s.cfg.ClientID, t.tok, t.hint); err != nil {
				revokeErr = errors.Join(revokeErr, err)
			}
		}
	}
	for _, name := range []string{tokenFile, tokenFile + ".lock", keyFile} {
		if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	s.cfg.FHIRUser, s.cfg.Patient = "", ""
	if err := writeConfig(s.dir, s.cfg); err != nil {
		return err
	}
	if revokeErr != nil {
		return fmt.Errorf("deleted the stored tokens, but revoking them failed: %w", revokeErr)
	}
	fmt.Fprintln(e.stderr, "Logged out: the server revoked the authorization and the tokens are deleted.")
	return nil
}

// revoke posts one token to the revocation endpoint as a public client.
func revoke(ctx context.Context, endpoint, clientID, token, hint string) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}, "client_id": {clientID}}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("revoke the %s: %w", hint, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("revoke the %s: %s: %s", hint, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// scopesLint is smartlaunch scopes lint: each finding, then the suggested
// request; it fails when any finding is a warning.
func (e *env) scopesLint(args []string) error {
	flags := e.newFlags("scopes lint")
	maxScopes := flags.Int("max", 10, "the most scopes for data a person can take in on one consent screen")
	asJSON := flags.Bool("json", false, "print the result as JSON")
	if err := parse(flags, args); err != nil {
		return err
	}
	if flags.NArg() == 0 {
		return fmt.Errorf("%w: name at least one scope, such as patient/Observation.rs", errUsage)
	}
	if *maxScopes < 1 {
		return fmt.Errorf("%w: --max must be at least 1", errUsage)
	}
	cat, err := scopetext.New()
	if err != nil {
		return err
	}
	var scopes []string
	for _, a := range flags.Args() {
		scopes = append(scopes, strings.Fields(a)...)
	}
	res := scopelint.Lint(scopes, scopelint.Options{MaxScopes: *maxScopes, Catalog: cat})
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		for _, f := range res.Findings {
			fmt.Fprintf(e.stdout, "%s: %s: %s (%s)\n", f.Severity, f.Kind, f.Message, strings.Join(f.Scopes, " "))
		}
		fmt.Fprintln(e.stdout, strings.Join(append([]string{"suggested:"}, res.Suggested...), " "))
	}
	if res.HasWarnings() {
		return errors.New("scopes lint: the request has warnings")
	}
	return nil
}

package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/smartlaunch/smartlaunch/client"
	"github.com/smartlaunch/smartlaunch/client/seal"
)

// Login defaults: the sandbox's demo patient app, which registers the
// loopback redirect http://127.0.0.1:8000/callback (any port matches).
const (
	defaultFHIR     = "http://127.0.0.1:8080/fhir"
	defaultClientID = "demo-public-app"
	defaultScope    = "openid fhirUser launch/patient offline_access patient/*.rs"
)

// callback is one request to the loopback redirect URI.
type callback struct {
	u     *url.URL
	reply chan error // the outcome of the exchange, for the browser's page
}

func (e *env) login(ctx context.Context, args []string) error {
	flags := e.newFlags("login")
	dirArg := dirFlag(flags)
	fhir := flags.String("fhir", defaultFHIR, "the FHIR server's base URL")
	clientID := flags.String("client-id", defaultClientID, "the app's registered client_id (a public client)")
	scope := flags.String("scope", defaultScope, "the scopes to request, space-separated")
	useDPoP := flags.Bool("dpop", false, "bind the tokens to a new P-256 key (DPoP, RFC 9449)")
	noBrowser := flags.Bool("no-browser", false, "only print the sign-in URL; do not open a browser")
	timeout := flags.Duration("timeout", 5*time.Minute, "how long to wait for the sign-in to finish")
	if err := parse(flags, args); err != nil {
		return err
	}
	if flags.NArg() != 0 {
		return fmt.Errorf("%w: login takes no arguments, got %q", errUsage, flags.Args())
	}
	dir, err := configDir(*dirArg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	cfg := &config{FHIR: strings.TrimSuffix(*fhir, "/"), ClientID: *clientID, Scopes: strings.Fields(*scope), DPoP: *useDPoP}

	// RFC 8252 §7.3: a loopback IP literal, any free port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the redirect: %w", err)
	}
	defer ln.Close()
	redirect := fmt.Sprintf("http://%s/callback", ln.Addr())

	s, protection, err := e.sealer(cfg)
	if err != nil {
		return err
	}
	cfg.Protection = protection
	ccfg := client.Config{ClientID: cfg.ClientID, RedirectURI: redirect, Scopes: cfg.Scopes, Store: tokenStore(dir, s)}
	if cfg.DPoP {
		if ccfg.DPoP, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return err
		}
	}
	c, err := client.New(ctx, cfg.FHIR, ccfg)
	if err != nil {
		return err
	}
	l, err := c.AuthorizeURL("")
	if err != nil {
		return err
	}

	callbacks := make(chan callback, 1) // the first callback only
	done := make(chan struct{})
	defer close(done)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		cb := callback{u: r.URL, reply: make(chan error, 1)}
		select {
		case callbacks <- cb:
		default:
			page(w, http.StatusConflict, "This sign-in was already handled.")
			return
		}
		select {
		case err := <-cb.reply:
			if err != nil {
				page(w, http.StatusBadRequest, "Sign-in failed: "+err.Error())
				return
			}
			page(w, http.StatusOK, "You are signed in to smartapp.")
		case <-done:
			page(w, http.StatusServiceUnavailable, "smartapp stopped waiting for this sign-in.")
		case <-r.Context().Done():
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	fmt.Fprintf(e.stderr, "Open this address in your browser to sign in:\n\n  %s\n\n", l.URL)
	if !*noBrowser {
		openBrowser(l.URL)
	}
	fmt.Fprintf(e.stderr, "Waiting for the sign-in to finish (at most %s)...\n", *timeout)

	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var cb callback
	select {
	case cb = <-callbacks:
	case <-wctx.Done():
		if errors.Is(wctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("no sign-in within %s", *timeout)
		}
		return wctx.Err()
	}
	sess, err := finishLogin(ctx, dir, s, c, l, cb.u, cfg, ccfg.DPoP)
	cb.reply <- err
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Signed in")
	if sess.FHIRUser != "" {
		fmt.Fprintf(e.stderr, " as %s", sess.FHIRUser)
	}
	if sess.Patient != "" {
		fmt.Fprintf(e.stderr, ", patient %s", sess.Patient)
	}
	fmt.Fprintf(e.stderr, " (token type %s; secrets sealed with %s).\n", sess.Token.TokenType, protection)
	return nil
}

// finishLogin exchanges the code and stores what later commands need.
func finishLogin(ctx context.Context, dir string, s seal.Sealer, c *client.Client, l client.Launch, u *url.URL, cfg *config, key crypto.Signer) (*client.Session, error) {
	sess, err := c.Exchange(ctx, l, u)
	if err != nil {
		return nil, err
	}
	if cfg.DPoP && !strings.EqualFold(sess.Token.TokenType, "DPoP") {
		return nil, fmt.Errorf("asked for DPoP but the server issued a %s token", sess.Token.TokenType)
	}
	if key != nil {
		if err := saveKey(dir, s, key); err != nil {
			return nil, fmt.Errorf("store the DPoP key: %w", err)
		}
	} else if err := os.Remove(filepath.Join(dir, keyFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	cfg.FHIRUser, cfg.Patient = sess.FHIRUser, sess.Patient
	if err := writeConfig(dir, cfg); err != nil {
		return nil, err
	}
	return sess, nil
}

// page answers the browser with a short plain page.
func page(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>smartapp</title></head>\n<body><p>%s</p><p>You can close this tab and return to the terminal.</p></body></html>\n", html.EscapeString(msg))
}

// openBrowser tries to open u in the user's browser; failing is fine, the
// address is printed.
func openBrowser(u string) {
	name := "xdg-open"
	if runtime.GOOS == "darwin" {
		name = "open"
	}
	if _, err := exec.LookPath(name); err != nil {
		return
	}
	cmd := exec.Command(name, u)
	if cmd.Start() == nil {
		go func() { _ = cmd.Wait() }()
	}
}

package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/smartlaunch/smartlaunch/client"
	"github.com/smartlaunch/smartlaunch/client/seal"
	"golang.org/x/term"
)

// Files in the configuration directory.
const (
	configFile = "config.json" // config, in plain JSON
	tokenFile  = "token.json"  // the client.NewFileStore, sealed
	keyFile    = "dpop-key"    // the DPoP private key (PKCS #8), sealed
)

// config is what login remembers for the other commands. It holds no
// secret; the tokens and the DPoP key are sealed in their own files.
type config struct {
	FHIR     string   `json:"fhir"`
	ClientID string   `json:"client_id"`
	Scopes   []string `json:"scopes"`
	DPoP     bool     `json:"dpop"`
	// Protection is how secrets are sealed: "keyring" or "passphrase".
	Protection string `json:"protection,omitempty"`
	// From the launch: the signed-in user and the patient in context.
	FHIRUser string `json:"fhir_user,omitempty"`
	Patient  string `json:"patient,omitempty"`
}

// dirFlag adds --dir to fs.
func dirFlag(fs *flag.FlagSet) *string {
	return fs.String("dir", "", "configuration directory (default $XDG_CONFIG_HOME/smartapp or ~/.config/smartapp)")
}

// configDir resolves --dir.
func configDir(dir string) (string, error) {
	if dir == "" {
		base := os.Getenv("XDG_CONFIG_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("no configuration directory: %w (use --dir)", err)
			}
			base = filepath.Join(home, ".config")
		}
		dir = filepath.Join(base, "smartapp")
	}
	return filepath.Abs(dir)
}

func readConfig(dir string) (*config, error) {
	b, err := os.ReadFile(filepath.Join(dir, configFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: not logged in (no %s)", errEnded, filepath.Join(dir, configFile))
	}
	if err != nil {
		return nil, err
	}
	var c config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, configFile), err)
	}
	return &c, nil
}

func writeConfig(dir string, c *config) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, configFile), append(b, '\n'))
}

// writeFile replaces path with b (mode 0600) through a rename.
func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// sealer picks how secrets are sealed for this FHIR server and app: the
// OS keyring, or else a passphrase.
func (e *env) sealer(c *config) (seal.Sealer, string, error) {
	return seal.Default("smartapp", c.FHIR+" "+c.ClientID, e.passphrase)
}

// passphrase reads $SMARTAPP_PASSPHRASE or else a line from stdin, not
// echoed when stdin is a terminal.
func (e *env) passphrase() ([]byte, error) {
	if p := os.Getenv("SMARTAPP_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	fmt.Fprint(e.stderr, "No OS keyring is available. Passphrase for smartapp's stored secrets: ")
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		pass, err := term.ReadPassword(int(f.Fd())) // no echo
		fmt.Fprintln(e.stderr)
		if err != nil {
			return nil, fmt.Errorf("reading the passphrase: %w (or set SMARTAPP_PASSPHRASE)", err)
		}
		return pass, nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return nil, fmt.Errorf("reading the passphrase: %w (or set SMARTAPP_PASSPHRASE)", err)
	}
	return []byte(strings.TrimRight(line, "\r\n")), nil
}

// tokenStore is the sealed file store of the tokens in dir.
func tokenStore(dir string, s seal.Sealer) client.TokenStore {
	return client.NewFileStore(filepath.Join(dir, tokenFile), client.WithSealer(s))
}

// saveKey seals the DPoP key into dir; the additional data is the file's
// path, so a copy elsewhere does not open.
func saveKey(dir string, s seal.Sealer, key crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	p := filepath.Join(dir, keyFile)
	b, err := s.Seal(der, []byte(p))
	if err != nil {
		return err
	}
	return writeFile(p, b)
}

// loadKey opens the DPoP key sealed in dir.
func loadKey(dir string, s seal.Sealer) (crypto.Signer, error) {
	p := filepath.Join(dir, keyFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: the DPoP key is gone", errEnded)
	}
	if err != nil {
		return nil, err
	}
	der, err := s.Open(b, []byte(p))
	if err != nil {
		return nil, fmt.Errorf("DPoP key %s: %w", p, err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("DPoP key %s: %w", p, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("DPoP key %s: %T is not a signing key", p, k)
	}
	return signer, nil
}

// session is a stored authorization opened for use.
type session struct {
	dir string
	cfg *config
	c   *client.Client
	ts  *client.TokenSource
	st  client.TokenStore
}

// open resumes the authorization stored in --dir.
func (e *env) open(ctx context.Context, dirArg string) (*session, error) {
	dir, err := configDir(dirArg)
	if err != nil {
		return nil, err
	}
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	s, _, err := e.sealer(cfg)
	if err != nil {
		return nil, err
	}
	ccfg := client.Config{ClientID: cfg.ClientID, Scopes: cfg.Scopes, Store: tokenStore(dir, s)}
	if cfg.DPoP {
		if ccfg.DPoP, err = loadKey(dir, s); err != nil {
			return nil, err
		}
	}
	c, err := client.New(ctx, cfg.FHIR, ccfg)
	if err != nil {
		return nil, err
	}
	return &session{dir: dir, cfg: cfg, c: c, ts: c.TokenSource(nil), st: ccfg.Store}, nil
}

// ended turns the client's ended-authorization errors into errEnded.
func ended(err error) error {
	if errors.Is(err, client.ErrAuthorizationEnded) {
		return fmt.Errorf("%w (%v)", errEnded, err)
	}
	return err
}

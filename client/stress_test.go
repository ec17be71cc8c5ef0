package client_test

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smartlaunch/smartlaunch/client"
	"github.com/smartlaunch/smartlaunch/internal/demo"
	"github.com/smartlaunch/smartlaunch/internal/server"
)

// stressLong runs the stress test for the 20 seconds instead of
// 8: go test -run TestStress ./client -args -stress.long (or set
// SMARTLAUNCH_STRESS_LONG=1).
var stressLong = flag.Bool("stress.long", false, "run TestStress for 20 s per run instead of 8 s")

func stressDuration() time.Duration {
	if *stressLong || os.Getenv("SMARTLAUNCH_STRESS_LONG") != "" {
		return 20 * time.Second
	}
	return 8 * time.Second
}

// buildStress builds client/internal/stress into dir.
func buildStress(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "stress")
	cmd := exec.Command("go", "build", "-o", bin, "./internal/stress")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./internal/stress: %v\n%s", err, out)
	}
	return bin
}

type stressResult struct {
	Gets      int64    `json:"gets"`
	Refreshes int64    `json:"refreshes"`
	Ended     bool     `json:"ended"`
	Errors    []string `json:"errors"`
}

// stressProc is one running helper process.
type stressProc struct {
	cmd    *exec.Cmd
	lines  chan string // standard output, line by line
	stderr strings.Builder
}

func startStress(t *testing.T, bin string, args ...string) *stressProc {
	t.Helper()
	p := &stressProc{cmd: exec.Command(bin, args...), lines: make(chan string, 16)}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	return p
}

// wait returns the process's result line.
func (p *stressProc) wait(t *testing.T) stressResult {
	t.Helper()
	var last string
	for l := range p.lines {
		last = l
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("stress process: %v\n%s", err, p.stderr.String())
	}
	var r stressResult
	if err := json.Unmarshal([]byte(last), &r); err != nil {
		t.Fatalf("stress process printed %q: %v", last, err)
	}
	return r
}

// stressSetup starts a server with 2 s access tokens, signs the demo
// patient in with a shared P-256 DPoP key and leaves the token in a store
// of kind at a fresh path, and returns the helper's common arguments.
func stressSetup(t *testing.T, kind string) (*env, string, []string) {
	e := newEnv(t, func(c *server.Config) { c.AccessTokenTTL = 2 * time.Second })
	dir := t.TempDir()
	key := newP256(t)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "dpop.pem")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "token."+kind)
	var st client.TokenStore
	if kind == "sqlite" {
		s, err := client.NewSQLiteStore(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.(io.Closer).Close() })
		st = s
	} else {
		st = client.NewFileStore(path)
	}
	login(t, newClient(t, e, client.Config{DPoP: key, Store: st}))
	return e, path, []string{"-fhir", e.fhir, "-client", publicApp, "-store", kind, "-path", path,
		"-dpop-key", keyPath, "-patient", demo.PatientJill, "-goroutines", "16"}
}

// TestStress is the stress test: 3 processes × 16 goroutines
// share one token store, refreshing about every 100 ms (2 s access
// tokens, RefreshBefore 1.9 s) and reading the Patient, for 8 s (20 s
// with -stress.long). The server, which ends an authorization at the
// first reused refresh token, must record no reuse, and every process
// must keep working throughout.
func TestStress(t *testing.T) {
	if testing.Short() {
		t.Skip("stress test skipped in -short mode")
	}
	bin := buildStress(t)
	for _, kind := range []string{"file", "sqlite"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e, _, args := stressSetup(t, kind)
			args = append(args, "-duration", stressDuration().String())
			var procs []*stressProc
			for range 3 {
				procs = append(procs, startStress(t, bin, args...))
			}
			var refreshes int64
			for i, p := range procs {
				r := p.wait(t)
				if len(r.Errors) > 0 || r.Gets == 0 {
					t.Errorf("process %d: %d reads, errors %q; want reads and no errors", i, r.Gets, r.Errors)
				}
				refreshes += r.Refreshes
				t.Logf("process %d: %d reads, %d token requests", i, r.Gets, r.Refreshes)
			}
			if refreshes < 10 {
				t.Errorf("only %d token requests in all: the test did not refresh often", refreshes)
			}
			if n := e.reuseEndings(); n != 0 {
				t.Errorf("server recorded %d authorization endings for refresh token reuse, want 0", n)
			}
		})
	}
}

// TestStressKilled SIGKILLs one of the three processes in the middle of
// a refresh: holding the claim, after presenting the refresh token (the
// worst case) or before sending it. The survivors must not present the
// claimed token again: once the claim is stale they report
// ErrAuthorizationEnded, the store says the authorization ended, and the
// server records no reuse.
func TestStressKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("stress test skipped in -short mode")
	}
	bin := buildStress(t)
	for _, tc := range []struct {
		name, kind string
		before     bool
	}{
		{"file/after-send", "file", false},
		{"sqlite/before-send", "sqlite", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, path, args := stressSetup(t, tc.kind)
			args = append(args, "-duration", "20s", "-claim-timeout", "2s")
			victimArgs := append(append([]string{}, args...), "-hang-at", "4")
			if tc.before {
				victimArgs = append(victimArgs, "-hang-before-send")
			}
			victim := startStress(t, bin, victimArgs...)
			survivors := []*stressProc{startStress(t, bin, args...), startStress(t, bin, args...)}
			select {
			case l := <-victim.lines:
				if l != "HANG" {
					t.Fatalf("victim printed %q, want HANG", l)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("the victim never reached its 4th token request")
			}
			if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = victim.cmd.Wait()
			for i, p := range survivors {
				r := p.wait(t)
				if !r.Ended {
					t.Errorf("survivor %d: ended=%v errors %q; want ErrAuthorizationEnded", i, r.Ended, r.Errors)
				}
				for _, msg := range r.Errors {
					if !strings.Contains(msg, client.ErrAuthorizationEnded.Error()) {
						t.Errorf("survivor %d: error %q is not ErrAuthorizationEnded", i, msg)
					}
				}
			}
			var st client.TokenStore = client.NewFileStore(path)
			if tc.kind == "sqlite" {
				s, err := client.NewSQLiteStore(path)
				if err != nil {
					t.Fatal(err)
				}
				defer s.(io.Closer).Close()
				st = s
			}
			tok, _, err := st.Load(context.Background())
			if err != nil || tok.Ended == "" || tok.Claim != nil {
				t.Errorf("stored token %+v (%v), want it marked ended and unclaimed", tok, err)
			}
			if n := e.reuseEndings(); n != 0 {
				t.Errorf("server recorded %d authorization endings for refresh token reuse, want 0", n)
			}
		})
	}
}

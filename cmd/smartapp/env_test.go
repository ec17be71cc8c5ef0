package main

// These tests run the real smartlaunch server in-process (a real listener,
// a real SQLite store, the demo apps and users) and drive smartapp's real
// commands through run, playing the browser with a cookie jar. Only test
// files import the server's internal packages; internal/layering checks
// the package's own imports.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/smartlaunch/smartlaunch/internal/server"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
	"github.com/smartlaunch/smartlaunch/internal/testserver"
)

const testPassphrase = "correct horse battery staple"

// testEnv is a running smartlaunch server and a smartapp configuration
// directory.
type testEnv struct {
	t    *testing.T
	st   *sqlite.DB
	app  *server.Server
	base string
	fhir string
	dir  string
}

// newEnv starts a server (internal/testserver, with the demo apps smartapp
// uses by default) and makes seal.Default fall back to the passphrase
// deterministically: no session bus, so no keyring.
func newEnv(t *testing.T) *testEnv {
	t.Helper()
	t.Setenv("SMARTAPP_PASSPHRASE", testPassphrase)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	s := testserver.Start(t, testserver.Options{})
	return &testEnv{t: t, st: s.Store, app: s.App, base: s.Base, fhir: s.FHIR, dir: filepath.Join(t.TempDir(), "smartapp")}
}

// result is one smartapp run.
type result struct {
	code           int
	stdout, stderr string
}

// smartapp runs a command with --dir set to the environment's directory
// (the flag goes right after the subcommand).
func (e *testEnv) smartapp(args ...string) result {
	e.t.Helper()
	return e.smartappStdin("", args...)
}

// smartappStdin is smartapp with stdin.
func (e *testEnv) smartappStdin(stdin string, args ...string) result {
	e.t.Helper()
	if len(args) > 0 && args[0] != "scopes" && args[0] != "help" {
		args = append([]string{args[0], "--dir", e.dir}, args[1:]...)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// urlWriter is a stderr that hands the first authorize URL it sees to
// the test.
type urlWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	urls chan string
	sent bool
}

func (w *urlWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.sent {
		for _, f := range strings.Fields(w.buf.String()) {
			if strings.Contains(f, "/authorize?") {
				w.sent = true
				w.urls <- f // buffered: never blocks
				break
			}
		}
	}
	return len(p), nil
}

func (w *urlWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// login runs smartapp login --no-browser and plays the person at the
// browser: sign in as the demo patient, allow, follow the redirect to
// smartapp's loopback listener.
func (e *testEnv) login(extra ...string) result {
	e.t.Helper()
	stderr := &urlWriter{urls: make(chan string, 1)}
	var stdout bytes.Buffer
	codes := make(chan int, 1)
	args := append([]string{"login", "--dir", e.dir, "--fhir", e.fhir, "--no-browser"}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel) // ends a login left waiting by a failed test
	go func() { codes <- run(ctx, args, strings.NewReader(""), &stdout, stderr) }()
	var authorize string
	select {
	case authorize = <-stderr.urls:
	case code := <-codes:
		e.t.Fatalf("login exited %d before printing a URL:\n%s", code, stderr.String())
	}
	callback := testserver.SignIn(e.t, authorize, "patient", "patient-demo")
	if callback.Host == "127.0.0.1:8000" || !strings.HasPrefix(callback.String(), "http://127.0.0.1:") || callback.Path != "/callback" {
		e.t.Fatalf("redirect %s is not smartapp's loopback listener on a free port", callback)
	}
	resp, err := http.Get(callback.String())
	if err != nil {
		e.t.Fatalf("browser at the callback: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	code := <-codes
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "You can close this tab") {
		e.t.Errorf("callback page: %d %s", resp.StatusCode, body)
	}
	// The login goroutine has returned: stdout is ours alone.
	return result{code, stdout.String(), stderr.String()}
}

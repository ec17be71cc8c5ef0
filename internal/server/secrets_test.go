package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// secretWatch sees every response of a test server and remembers the
// secrets the server handed out — authorization codes in redirects,
// tokens from /token, client secrets from /register — so that, when the
// test ends, none of them may appear in any of its log lines (issue 12:
// no secret in any log line during the whole end-to-end suite). Every
// test built on newEnv is covered, not only the ones that look.
type secretWatch struct {
	mu      sync.Mutex
	secrets map[string]string // secret -> what it is
}

// fixedSecrets are known to every test: the test apps' secret and the
// demo passwords.
var fixedSecrets = map[string]string{
	"test-secret": "client secret", "patient-demo": "password", "parent-demo": "password",
	"clinician-demo": "password",
}

func (s *secretWatch) add(secret, what string) {
	if len(secret) < 8 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets == nil {
		s.secrets = map[string]string{}
	}
	s.secrets[secret] = what
}

// wrap returns h recording what its responses hand out.
func (s *secretWatch) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if loc := rec.Header().Get("Location"); loc != "" {
			if u, err := url.Parse(loc); err == nil {
				s.add(u.Query().Get("code"), "authorization code")
			}
		}
		if r.URL.Path == "/token" || r.URL.Path == "/register" {
			var body map[string]any
			if json.Unmarshal(rec.body.Bytes(), &body) == nil {
				for _, k := range []string{"access_token", "refresh_token", "id_token", "client_secret", "registration_access_token"} {
					if v, ok := body[k].(string); ok {
						s.add(v, k)
					}
				}
			}
		}
	})
}

// check fails t for every remembered secret found in logs.
func (s *secretWatch) check(t testing.TB, logs string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for secret, what := range s.secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("%s handed out by the server appears in its logs", what)
		}
	}
	for secret, what := range fixedSecrets {
		if strings.Contains(logs, secret) {
			t.Errorf("the %s %q appears in the logs", what, secret)
		}
	}
}

// teeWriter keeps a copy of the body it writes.
type teeWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

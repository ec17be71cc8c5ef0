package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestServeLogFormatJSON: with --log-format json every log line is a JSON
// object, and a request's line carries its request id.
func TestServeLogFormatJSON(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(t.TempDir(), "data"), "--log-format", "json"}
	go func() {
		done <- run(ctx, args, nil, pw, logs)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve printed no address: %v (serve: %v)", err, <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	base := "http://" + strings.TrimSpace(strings.TrimPrefix(line, "smartlaunch listening on "))
	req, _ := http.NewRequest(http.MethodGet, base+"/healthz", nil)
	req.Header.Set("X-Request-ID", "cmd-test-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v after shutdown", err)
	}

	found := false
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if m["msg"] == "request" && m["path"] == "/healthz" {
			found = true
			if m["request_id"] != "cmd-test-1" {
				t.Errorf("request log line has request_id %v, want cmd-test-1: %s", m["request_id"], l)
			}
		}
	}
	if !found {
		t.Errorf("no request log line for /healthz in:\n%s", logs.String())
	}
}

func TestServeRejectsBadLogFormat(t *testing.T) {
	args := []string{"serve", "--log-format", "xml", "--data", t.TempDir(), "--addr", "127.0.0.1:0"}
	if err := run(context.Background(), args, nil, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "--log-format") {
		t.Errorf("%v: got %v, want an error naming --log-format", args, err)
	}
}

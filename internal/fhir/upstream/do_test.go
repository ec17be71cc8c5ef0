package upstream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// newClient returns a Client for cfg, failing the test on error.
func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// recorded is what an upstream test server saw of one request.
type recorded struct {
	method, requestURI string
	header             http.Header
	body               []byte
}

// recordingUpstream starts a server that records every request and
// answers 200 with a small JSON body.
func recordingUpstream(t *testing.T) (*httptest.Server, chan recorded) {
	t.Helper()
	seen := make(chan recorded, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen <- recorded{r.Method, r.RequestURI, r.Header.Clone(), body}
		w.Header().Set("Content-Type", "application/fhir+json")
		io.WriteString(w, `{"resourceType":"Patient","id":"1"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

func TestDoHeaders(t *testing.T) {
	srv, seen := recordingUpstream(t)
	c := newClient(t, Config{Base: srv.URL + "/fhir", Bearer: "server-token"})
	header := http.Header{
		"Accept":            {"application/fhir+json", "application/json;q=0.5"},
		"Accept-Language":   {"fr-CA"},
		"Content-Type":      {"application/fhir+json; charset=utf-8"},
		"If-Match":          {`W/"3"`},
		"If-None-Match":     {`W/"2"`},
		"If-Modified-Since": {"Wed, 21 Oct 2015 07:28:00 GMT"},
		"If-None-Exist":     {"identifier=http://x|1"},
		"Prefer":            {"return=representation"},
		"Authorization":     {"Bearer caller-token"},
		"Cookie":            {"session=caller"},
		"Dpop":              {"caller.proof.jwt"},
		"X-Forwarded-For":   {"10.1.1.1"},
	}
	body := []byte(`{"resourceType":"Patient"}`)
	resp, err := c.Do(context.Background(), http.MethodPut, "Patient/1", header, body)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	resp.Body.Close()
	got := <-seen

	if got.method != http.MethodPut || got.requestURI != "/fhir/Patient/1" || !bytes.Equal(got.body, body) {
		t.Errorf("upstream got %s %s %q, want PUT /fhir/Patient/1 %q", got.method, got.requestURI, got.body, body)
	}
	for _, name := range forwardedHeaders {
		if g, w := strings.Join(got.header.Values(name), ","), strings.Join(header.Values(name), ","); g != w {
			t.Errorf("upstream %s = %q, want %q", name, g, w)
		}
	}
	if g := got.header.Values("Authorization"); len(g) != 1 || g[0] != "Bearer server-token" {
		t.Errorf("upstream Authorization = %q, want only the configured bearer", g)
	}
	for _, name := range []string{"Cookie", "Dpop", "X-Forwarded-For"} {
		if g := got.header.Values(name); len(g) > 0 {
			t.Errorf("upstream got %s %q, want none", name, g)
		}
	}
}

func TestDoDefaults(t *testing.T) {
	srv, seen := recordingUpstream(t)
	c := newClient(t, Config{Base: srv.URL + "/fhir/"})
	resp, err := c.Do(context.Background(), http.MethodGet, "metadata", http.Header{"Authorization": {"Bearer caller"}}, nil)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != `{"resourceType":"Patient","id":"1"}` {
		t.Errorf("body = %q, %v; want the upstream's body", b, err)
	}
	got := <-seen
	if a := got.header.Get("Accept"); a != "application/fhir+json" {
		t.Errorf("upstream Accept = %q, want application/fhir+json", a)
	}
	if a := got.header.Values("Authorization"); len(a) > 0 {
		t.Errorf("upstream Authorization = %q without credentials, want none", a)
	}
	if got.requestURI != "/fhir/metadata" {
		t.Errorf("upstream request URI = %q, want /fhir/metadata", got.requestURI)
	}
}

func TestDoRefs(t *testing.T) {
	srv, seen := recordingUpstream(t)
	c := newClient(t, Config{Base: srv.URL + "/fhir"})
	tests := []struct {
		ref  string
		want string // request URI at the upstream; "" means refused
	}{
		{"", "/fhir"},
		{"metadata", "/fhir/metadata"},
		{"Patient/1?x=y", "/fhir/Patient/1?x=y"},
		{"?_type=Patient,Observation", "/fhir?_type=Patient,Observation"},
		{"Observation?code=x&_count=5", "/fhir/Observation?code=x&_count=5"},
		{"Observation?code=http%3A%2F%2Floinc.org%7C1234&_count=5", "/fhir/Observation?code=http%3A%2F%2Floinc.org%7C1234&_count=5"},
		{"Observation?code=http://loinc.org|1234&date=ge2020-01-01T00:00:00%2B01:00", "/fhir/Observation?code=http://loinc.org|1234&date=ge2020-01-01T00:00:00%2B01:00"},
		{"Patient/1/_history/2", "/fhir/Patient/1/_history/2"},
		{"Patient/1/$everything?_count=10", "/fhir/Patient/1/$everything?_count=10"},
		{"Patient?name=a%20b&x=..", "/fhir/Patient?name=a%20b&x=.."},
		{"Patient/a%2Cb", "/fhir/Patient/a%2Cb"},
		{"Patient/a.b..c", "/fhir/Patient/a.b..c"},
		{"http://evil.example/fhir/Patient", ""},
		{"HTTPS://evil.example/x", ""},
		{"javascript:alert(1)", ""},
		{"//evil.example/x", ""},
		{"/x", ""},
		{"/fhir/Patient", ""},
		{"../x", ""},
		{"..", ""},
		{"./x", ""},
		{"a/../../x", ""},
		{"Patient/..", ""},
		{"Patient/%2e%2e/%2E%2E/admin", ""},
		{"Patient/..%2Fadmin", ""},
		{"Patient/%5C..%5Cadmin", ""},
		{"Patient/%zz", ""},
		{"#f", ""},
		{"Patient/1#f", ""},
		{"Patient?x=1#f", ""},
		{"Patient/1 2", ""},
		{"Patient/1\r\nX-Injected: 1", ""},
		{"Patient?name=a\tb", ""},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			resp, err := c.Do(context.Background(), http.MethodGet, tt.ref, nil, nil)
			if tt.want == "" {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("Do(%q) succeeded, want ErrBadRef", tt.ref)
				}
				if !errors.Is(err, ErrBadRef) {
					t.Errorf("Do(%q) = %v, want ErrBadRef", tt.ref, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Do(%q): %v", tt.ref, err)
			}
			resp.Body.Close()
			if got := (<-seen).requestURI; got != tt.want {
				t.Errorf("Do(%q) reached %q, want %q", tt.ref, got, tt.want)
			}
		})
	}
	if n := len(seen); n != 0 {
		t.Errorf("%d requests left unchecked: a refused ref reached the upstream", n)
	}
}

func TestDoRedirectNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	srv := httptest.NewServer(http.RedirectHandler(other.URL+"/steal", http.StatusFound))
	t.Cleanup(srv.Close)
	c := newClient(t, Config{Base: srv.URL, Bearer: "server-token"})
	resp, err := c.Do(context.Background(), http.MethodGet, "Patient/1", nil, nil)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != other.URL+"/steal" {
		t.Errorf("Do = %d Location %q, want the 302 itself", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("redirect target got %d requests, want 0", n)
	}
}

// blockingUpstream starts a server whose handler writes the status line
// and flushes when headersFirst is set, then blocks until the test ends.
func blockingUpstream(t *testing.T, headersFirst bool) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if headersFirst {
			io.WriteString(w, `{"resourceType":`)
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	// Cleanups run last-registered first: release the handlers, then
	// close the server, which waits for them.
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv
}

func TestDoUnavailable(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name         string
		base         string
		wantDeadline bool
	}{
		{"connection refused", closedURL, false},
		{"no answer in time", blockingUpstream(t, false).URL, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, Config{Base: tt.base, Timeout: 50 * time.Millisecond})
			resp, err := c.Do(context.Background(), http.MethodGet, "Patient/1", nil, nil)
			if err == nil {
				resp.Body.Close()
				t.Fatal("Do succeeded, want ErrUnavailable")
			}
			if !errors.Is(err, ErrUnavailable) {
				t.Errorf("Do error = %v, want ErrUnavailable", err)
			}
			if got := errors.Is(err, context.DeadlineExceeded); got != tt.wantDeadline {
				t.Errorf("errors.Is(%v, context.DeadlineExceeded) = %v, want %v", err, got, tt.wantDeadline)
			}
		})
	}
}

func TestDoTimeoutWhileReading(t *testing.T) {
	srv := blockingUpstream(t, true)
	c := newClient(t, Config{Base: srv.URL, Timeout: 50 * time.Millisecond})
	resp, err := c.Do(context.Background(), http.MethodGet, "Patient/1", nil, nil)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("reading the body = %q, %v; want ErrUnavailable and DeadlineExceeded", b, err)
	}
	if string(b) != `{"resourceType":` {
		t.Errorf("read %q before the timeout, want what was sent", b)
	}
}

func TestDoMaxBodyBytes(t *testing.T) {
	const limit = 1000
	tests := []struct {
		name    string
		size    int
		chunked bool // no Content-Length, so the limit is found by reading
		wantErr bool
		wantLen int
	}{
		{"under the limit", limit - 1, false, false, limit - 1},
		{"exactly the limit", limit, true, false, limit},
		{"one byte over, declared", limit + 1, false, true, 0},
		{"one byte over, chunked", limit + 1, true, true, limit},
		{"far over, chunked", 50 * limit, true, true, limit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body := bytes.Repeat([]byte("x"), tt.size)
				if tt.chunked {
					w.Write(body[:1])
					w.(http.Flusher).Flush()
					body = body[1:]
				}
				w.Write(body)
			}))
			t.Cleanup(srv.Close)
			c := newClient(t, Config{Base: srv.URL, MaxBodyBytes: limit})
			resp, err := c.Do(context.Background(), http.MethodGet, "Binary/1", nil, nil)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if got := errors.Is(err, ErrTooLarge); got != tt.wantErr {
				t.Errorf("reading %d bytes: error %v, want ErrTooLarge %v", tt.size, err, tt.wantErr)
			}
			if !tt.wantErr && err != nil {
				t.Errorf("reading %d bytes: %v", tt.size, err)
			}
			if len(b) != tt.wantLen {
				t.Errorf("read %d bytes, want %d", len(b), tt.wantLen)
			}
			if _, err := resp.Body.Read(make([]byte, 1)); tt.wantErr && !errors.Is(err, ErrTooLarge) {
				t.Errorf("Read after the limit = %v, want ErrTooLarge again", err)
			}
		})
	}
}

package upstream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// forwardedHeaders are the request headers Do passes to the upstream. The
// caller's credentials (Authorization, Cookie, DPoP) are never among them.
var forwardedHeaders = []string{
	"Accept",
	"Accept-Language",
	"Content-Type",
	"If-Match",
	"If-Modified-Since",
	"If-None-Exist",
	"If-None-Match",
	"Prefer",
}

// defaultAccept is sent when the caller's header has no Accept.
const defaultAccept = "application/fhir+json"

// Do sends a request to the upstream and returns its response, whatever
// its status. The caller must close the response body.
//
// ref is a path relative to the base with an optional query, sent exactly
// as given (already percent-encoded): "Patient/123",
// "Observation?code=x&_count=5", "metadata", "" for the base itself, or
// "?_type=Patient" for a query on the base. A ref that could leave the
// base (an absolute URL, a leading "/", a "." or ".." segment, even
// percent-encoded, an encoded "/" or "\" in a segment, a fragment, a space
// or a control character) is refused with ErrBadRef before anything is
// sent.
//
// Only the headers in an allow-list are taken from header: Accept,
// Accept-Language, Content-Type, If-Match, If-Modified-Since,
// If-None-Exist, If-None-Match and Prefer. Accept defaults to
// application/fhir+json. Authorization is set from the Config's
// credentials, never taken from header. With client credentials, a 401
// answer drops the cached token and the request is sent once more with a
// new one; the second answer is returned, whatever it is. Redirects are
// not followed: a 3xx is returned like any other answer.
//
// The whole call, reading the body included, is bounded by
// Config.Timeout. Failing to reach the upstream, to get a token, or to get
// an answer in time returns an error wrapping ErrUnavailable (and
// context.DeadlineExceeded for a timeout); reading the body can fail the
// same way. Reading more than Config.MaxBodyBytes of the body fails with
// an error wrapping ErrTooLarge, at the first Read when the response
// declares a longer Content-Length.
func (c *Client) Do(ctx context.Context, method, ref string, header http.Header, body []byte) (*http.Response, error) {
	target, err := c.resolve(ref)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	resp, err := c.send(ctx, method, target, header, body)
	if err != nil {
		cancel()
		return nil, err
	}
	lb := &limitedBody{rc: resp.Body, left: c.maxBody, max: c.maxBody, cancel: cancel}
	if resp.ContentLength > c.maxBody && method != http.MethodHead {
		lb.err = lb.tooLarge()
	}
	resp.Body = lb
	return resp, nil
}

// send makes the request, and with client credentials repeats it once
// with a fresh token when the upstream answers 401.
func (c *Client) send(ctx context.Context, method, target string, header http.Header, body []byte) (*http.Response, error) {
	resp, gen, err := c.attempt(ctx, method, target, header, body)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || c.tokens == nil {
		return resp, err
	}
	// Drain a little so the connection can be reused.
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
	c.tokens.invalidate(gen)
	resp, _, err = c.attempt(ctx, method, target, header, body)
	return resp, err
}

// attempt sends one request. It returns the generation of the
// client-credentials token it used.
func (c *Client) attempt(ctx context.Context, method, target string, header http.Header, body []byte) (*http.Response, uint64, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, 0, fmt.Errorf("upstream: %w", err)
	}
	for _, name := range forwardedHeaders {
		if v := header.Values(name); len(v) > 0 {
			req.Header[name] = append([]string(nil), v...)
		}
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", defaultAccept)
	}
	gen, err := c.authorize(req)
	if err != nil {
		return nil, 0, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return resp, gen, nil
}

// authorize sets the request's Authorization from the credentials. It
// returns the generation of the client-credentials token it used.
func (c *Client) authorize(req *http.Request) (uint64, error) {
	switch {
	case c.tokens != nil:
		tok, gen, err := c.tokens.token()
		if err != nil {
			return 0, fmt.Errorf("%w: getting an access token: %w", ErrUnavailable, err)
		}
		tok.SetAuthHeader(req)
		return gen, nil
	case c.bearer != "":
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	return 0, nil
}

// resolve returns the upstream URL for ref, or an error wrapping
// ErrBadRef.
func (c *Client) resolve(ref string) (string, error) {
	path, query, hasQuery := strings.Cut(ref, "?")
	if err := checkRef(ref, path); err != nil {
		return "", fmt.Errorf("%w: %q: %s", ErrBadRef, ref, err)
	}
	target := c.base
	if path != "" {
		target += "/" + path
	}
	if hasQuery {
		target += "?" + query
	}
	return target, nil
}

// checkRef reports why ref, whose path part is path, may not be sent.
func checkRef(ref, path string) error {
	for i := 0; i < len(ref); i++ {
		switch b := ref[i]; {
		case b <= ' ' || b == 0x7f:
			return fmt.Errorf("space or control character at %d", i)
		case b == '#':
			return fmt.Errorf("fragment")
		}
	}
	if strings.HasPrefix(path, "/") {
		return fmt.Errorf("absolute path")
	}
	if path == "" {
		return nil
	}
	for i, seg := range strings.Split(path, "/") {
		if i == 0 && strings.Contains(seg, ":") {
			return fmt.Errorf("absolute URL")
		}
		dec, err := url.PathUnescape(seg)
		switch {
		case err != nil:
			return fmt.Errorf("bad escape in path")
		case dec == "." || dec == "..":
			return fmt.Errorf("dot segment")
		case strings.ContainsAny(dec, `/\`):
			return fmt.Errorf("slash or backslash in a segment")
		}
	}
	return nil
}

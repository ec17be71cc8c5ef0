package remotekeys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// errFetch marks a failed JWKS fetch. Its messages name the status or the
// transport failure, never the response body.
var errFetch = errors.New("remotekeys: fetching JWKS failed")

// fetched is the result of one successful fetch.
type fetched struct {
	keys []jose.JSONWebKey
	ttl  time.Duration // how long the set may be used, before clamping
}

// fetch GETs uri once and parses the JWK Set, all within Config.Timeout. It
// does not run CheckURI; Key does that first.
func (f *Fetcher) fetch(ctx context.Context, uri string) (fetched, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return fetched{}, fmt.Errorf("%w: bad request", errFetch)
	}
	// SMART App Launch 2.1 client-confidential-asymmetric: GET with Accept: application/json.
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	req.Header.Set("User-Agent", "smartlaunch-remotekeys")
	resp, err := f.client.Do(req)
	if err != nil {
		return fetched{}, fmt.Errorf("%w: %w", errFetch, stripURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fetched{}, fmt.Errorf("%w: status %d", errFetch, resp.StatusCode)
	}
	if !jsonContentType(resp.Header.Get("Content-Type")) {
		return fetched{}, fmt.Errorf("%w: content type is not JSON", errFetch)
	}
	if resp.ContentLength > f.cfg.MaxBytes {
		return fetched{}, fmt.Errorf("%w: body larger than %d bytes", errFetch, f.cfg.MaxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.cfg.MaxBytes+1))
	if err != nil {
		return fetched{}, fmt.Errorf("%w: reading body: %w", errFetch, stripURL(err))
	}
	if int64(len(body)) > f.cfg.MaxBytes {
		return fetched{}, fmt.Errorf("%w: body larger than %d bytes", errFetch, f.cfg.MaxBytes)
	}
	keys, err := parseSet(body)
	if err != nil {
		return fetched{}, err
	}
	return fetched{keys: keys, ttl: f.lifetime(resp.Header)}, nil
}

// stripURL unwraps a *url.Error to its cause, so that the jwks_uri
// (already known to the caller) is not repeated in messages.
func stripURL(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

// jsonContentType accepts application/json, application/jwk-set+json and
// any other application/*+json type.
func jsonContentType(v string) bool {
	mt, _, err := mime.ParseMediaType(v)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// lifetime is how long a response may be used according to its caching
// headers (RFC 9111 §4.2.1): Cache-Control max-age less Age; with no-store
// or no-cache, zero (Key then revalidates at most every MinRefetch); with no
// max-age, Expires less Date; with neither, DefaultTTL. An unparsable value
// counts as zero, the conservative reading. Key clamps the result to
// [MinRefetch, MaxTTL].
func (f *Fetcher) lifetime(h http.Header) time.Duration {
	maxAge, haveMaxAge := time.Duration(0), false
	for _, field := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(field, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return 0
			case "max-age":
				secs, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(value), `"`), 10, 64)
				if err != nil || secs < 0 {
					secs = 0
				}
				age := time.Duration(min(secs, int64(f.cfg.MaxTTL/time.Second)+1)) * time.Second
				if !haveMaxAge || age < maxAge {
					maxAge = age
				}
				haveMaxAge = true
			}
		}
	}
	if haveMaxAge {
		if age, err := strconv.ParseInt(h.Get("Age"), 10, 64); err == nil && age > 0 {
			maxAge -= time.Duration(min(age, int64(f.cfg.MaxTTL/time.Second)+1)) * time.Second
		}
		return max(maxAge, 0)
	}
	if v := h.Get("Expires"); v != "" {
		exp, err := http.ParseTime(v)
		if err != nil {
			return 0
		}
		date, err := http.ParseTime(h.Get("Date"))
		if err != nil {
			date = f.cfg.Now()
		}
		return max(exp.Sub(date), 0)
	}
	return f.cfg.DefaultTTL
}

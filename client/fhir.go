package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Do sends req with ts's access token: "Authorization: Bearer", or for a
// DPoP-bound token "Authorization: DPoP" with a fresh proof over req
// carrying ath (RFC 9449 §7). A 401 with use_dpop_nonce is retried once
// with the server's nonce (RFC 9449 §9); a request with a body must then
// have GetBody set (http.NewRequest does for common body types).
func (c *Client) Do(ctx context.Context, ts *TokenSource, req *http.Request) (*http.Response, error) {
	tok, err := ts.Token(ctx)
	if err != nil {
		return nil, err
	}
	if err := ts.keyMatches(tok); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		// A clone, so the token never lands in the caller's headers.
		r := req.Clone(ctx)
		if attempt > 0 {
			if req.GetBody != nil {
				if r.Body, err = req.GetBody(); err != nil {
					return nil, err
				}
			}
		}
		dpopBound := strings.EqualFold(tok.TokenType, "DPoP") && ts.key != nil
		if dpopBound {
			r.Header.Set("Authorization", "DPoP "+tok.AccessToken)
			p, err := ts.key.proof(r.Method, r.URL, c.nonce(originOf(r.URL)), tok.AccessToken, c.now().Unix())
			if err != nil {
				return nil, err
			}
			r.Header.Set("DPoP", p)
		} else {
			r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		}
		resp, err := c.hc.Do(r)
		if err != nil {
			return nil, err
		}
		nonce := resp.Header.Get("DPoP-Nonce")
		c.setNonce(originOf(r.URL), nonce)
		if dpopBound && attempt == 0 && resp.StatusCode == http.StatusUnauthorized && nonce != "" &&
			strings.Contains(resp.Header.Get("WWW-Authenticate"), "use_dpop_nonce") &&
			(req.Body == nil || req.GetBody != nil) {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			continue
		}
		return resp, nil
	}
}

// FHIRError is a FHIR API error: the HTTP status and the
// OperationOutcome's issues, when the server sent one.
type FHIRError struct {
	Status int
	Issues []Issue
}

// Issue is one OperationOutcome.issue.
type Issue struct {
	Severity    string `json:"severity"`
	Code        string `json:"code"`
	Diagnostics string `json:"diagnostics"`
}

func (e *FHIRError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fhir: HTTP %d", e.Status)
	for _, i := range e.Issues {
		fmt.Fprintf(&b, "; %s %s: %s", i.Severity, i.Code, i.Diagnostics)
	}
	return b.String()
}

// Get reads <fhirBase>/<rel> (such as "Patient/123" or
// "Observation?patient=123&category=laboratory") and decodes the JSON
// resource into v. An error status is returned as *FHIRError.
func (c *Client) Get(ctx context.Context, ts *TokenSource, rel string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/"+strings.TrimPrefix(rel, "/"), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := c.Do(ctx, ts, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		fe := &FHIRError{Status: resp.StatusCode}
		var oo struct {
			ResourceType string  `json:"resourceType"`
			Issue        []Issue `json:"issue"`
		}
		if json.Unmarshal(body, &oo) == nil && oo.ResourceType == "OperationOutcome" {
			fe.Issues = oo.Issue
		}
		return fe
	}
	if v == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return dec.Decode(v)
}

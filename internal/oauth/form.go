package oauth

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"unicode/utf8"
)

// MaxBodyBytes bounds every form body the server reads.
const MaxBodyBytes = 1 << 20

// params is a request's parameters after strict checks: each appears at
// most once (RFC 6749 §3.1, §3.2) and all are valid UTF-8.
type params map[string]string

func (p params) get(k string) string { return p[k] }

// parseValues checks v and flattens it. A repeated parameter is an
// invalid_request; so is a parameter that is not valid UTF-8.
func parseValues(v url.Values) (params, error) {
	p := make(params, len(v))
	for k, vs := range v {
		if len(vs) > 1 {
			return nil, newError(ErrInvalidRequest, "parameter "+safeName(k)+" is repeated")
		}
		if !utf8.ValidString(k) || !utf8.ValidString(vs[0]) {
			return nil, newError(ErrInvalidRequest, "parameters must be valid UTF-8")
		}
		p[k] = vs[0]
	}
	return p, nil
}

// safeName returns k if it is short plain ASCII, so it can be echoed in an
// error description, and a placeholder otherwise.
func safeName(k string) string {
	if len(k) > 40 {
		return "(a parameter)"
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c == '-' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return "(a parameter)"
		}
	}
	return k
}

// readForm parses an application/x-www-form-urlencoded POST body of at
// most MaxBodyBytes. Query parameters are not merged in: the token endpoint
// takes its parameters from the body only.
func readForm(w http.ResponseWriter, r *http.Request) (params, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, newError(ErrInvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &Error{Code: ErrInvalidRequest, Description: "the body is too large", Status: http.StatusRequestEntityTooLarge}
		}
		return nil, newError(ErrInvalidRequest, "the body could not be read")
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, newError(ErrInvalidRequest, "the body is not a valid form")
	}
	return parseValues(v)
}

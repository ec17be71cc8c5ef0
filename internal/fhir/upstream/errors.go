package upstream

import "errors"

var (
	// ErrUnavailable reports that the upstream could not be reached or did
	// not answer in time: a dial or TLS failure, a broken connection, the
	// Config.Timeout running out, or a failure to obtain an access token.
	// A proxy answers 502, or 504 when errors.Is(err,
	// context.DeadlineExceeded) also holds.
	ErrUnavailable = errors.New("upstream: unavailable")

	// ErrTooLarge is returned by a response body's Read once the body has
	// exceeded Config.MaxBodyBytes.
	ErrTooLarge = errors.New("upstream: response body too large")

	// ErrBadResponse reports an upstream response body that is not the
	// document expected (not JSON, not a Bundle, not a
	// CapabilityStatement). A proxy answers 502.
	ErrBadResponse = errors.New("upstream: malformed response")

	// ErrBadRef reports a reference passed to Client.Do that is not a
	// plain path relative to the upstream base: an absolute URL, a path
	// starting with "/", a "." or ".." segment, a fragment, or characters
	// that are not allowed in a request line.
	ErrBadRef = errors.New("upstream: reference outside the base")
)

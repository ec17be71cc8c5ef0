package ratelimit

import (
	"net/http"
	"strconv"
	"time"
)

// SetRetryAfter sets the Retry-After header (RFC 9110 §10.2.3) to wait
// in whole seconds, rounded up and at least 1.
func SetRetryAfter(h http.Header, wait time.Duration) {
	secs := int64((wait + time.Second - 1) / time.Second)
	h.Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
}

package oauth

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestClaimedID: whatever an unauthenticated request claims to be is
// stored as valid UTF-8 without control characters, at most 128 bytes,
// so the audit event is never lost to the store refusing it.
func TestClaimedID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"test-public", "test-public"},
		{"a\x00b\r\nc", "abc"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{strings.Repeat("a", 200), strings.Repeat("a", 128)},
		{strings.Repeat("a", 127) + "é", strings.Repeat("a", 127)},
		{"", ""},
	}
	for _, tt := range tests {
		got := claimedID(tt.in)
		if got != tt.want || !utf8.ValidString(got) || len(got) > 128 {
			t.Errorf("claimedID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

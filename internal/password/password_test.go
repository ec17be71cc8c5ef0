package password

import (
	"errors"
	"strings"
	"testing"
)

func TestHashCheck(t *testing.T) {
	h, err := Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Errorf("Hash = %q, want an argon2id PHC string", h)
	}
	if strings.Contains(h, "correct horse") {
		t.Error("hash contains the password")
	}
	h2, _ := Hash("correct horse")
	if h == h2 {
		t.Error("two hashes of one password are equal; salt not random")
	}
	tests := []struct {
		name    string
		encoded string
		pw      string
		want    error
	}{
		{"right password", h, "correct horse", nil},
		{"wrong password", h, "correct horsf", ErrMismatch},
		{"empty password", h, "", ErrMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Check(tt.encoded, tt.pw); !errors.Is(err, tt.want) {
				t.Errorf("Check = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCheckMalformed(t *testing.T) {
	for _, enc := range []string{
		"", "plain", "$argon2i$v=19$m=1,t=1,p=1$c2FsdA$a2V5",
		"$argon2id$v=18$m=19456,t=2,p=1$c2FsdA$a2V5",
		"$argon2id$v=19$m=99999999,t=2,p=1$c2FsdA$a2V5",
		"$argon2id$v=19$m=19456,t=2,p=1$!!$a2V5",
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$",
	} {
		err := Check(enc, "x")
		if err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("Check(%q) = %v, want a malformed-hash error", enc, err)
		}
	}
}

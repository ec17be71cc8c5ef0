package consentdocs_test

import (
	"testing"

	"github.com/smartlaunch/smartlaunch/internal/consentdocs"
)

func BenchmarkNew(b *testing.B) {
	tx := texts(b)
	for b.Loop() {
		if _, err := consentdocs.New(consentdocs.Config{Texts: tx}); err != nil {
			b.Fatal(err)
		}
	}
}

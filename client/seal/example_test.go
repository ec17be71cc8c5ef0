package seal_test

import (
	"fmt"
	"log"

	"github.com/smartlaunch/smartlaunch/client/seal"
)

// Sealing a secret with a passphrase, and opening it in another process
// that knows the passphrase. The additional data binds the blob to where
// it is kept.
func ExamplePassphrase() {
	blob, err := seal.Passphrase([]byte("correct horse battery staple")).Seal([]byte("refresh-token"), []byte("token.json"))
	if err != nil {
		log.Fatal(err)
	}
	later := seal.Passphrase([]byte("correct horse battery staple"))
	secret, err := later.Open(blob, []byte("token.json"))
	fmt.Println(string(secret), err)

	_, err = later.Open(blob, []byte("elsewhere.json"))
	fmt.Println(err == seal.ErrOpen)
	// Output:
	// refresh-token <nil>
	// true
}

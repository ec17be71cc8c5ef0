package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/smartlaunch/smartlaunch/client"
	"github.com/smartlaunch/smartlaunch/client/seal"
)

// A file store shared by an app's processes, its token sealed with a key
// from the OS keyring or, where there is none, a passphrase. Every write
// is a compare-and-swap: a writer holding a stale version loses, which is
// how two processes never both present one refresh token.
func ExampleNewFileStore() {
	dir, _ := os.MkdirTemp("", "myapp")
	defer os.RemoveAll(dir)
	// In an app: seal.Default("myapp", account, askPassphrase).
	sealer := seal.Passphrase([]byte("correct horse battery staple"))
	st := client.NewFileStore(filepath.Join(dir, "token.json"), client.WithSealer(sealer))

	ctx := context.Background()
	if err := st.CompareAndSwap(ctx, 0, &client.Token{AccessToken: "a1", RefreshToken: "r1"}); err != nil {
		log.Fatal(err)
	}
	tok, version, _ := st.Load(ctx)
	fmt.Println(tok.RefreshToken, version)

	// Process A rotates the token; process B, still at version 1, loses.
	_ = st.CompareAndSwap(ctx, 1, &client.Token{AccessToken: "a2", RefreshToken: "r2"})
	err := st.CompareAndSwap(ctx, 1, &client.Token{AccessToken: "b2", RefreshToken: "rX"})
	fmt.Println(errors.Is(err, client.ErrConflict))

	tok, version, _ = st.Load(ctx)
	fmt.Println(tok.RefreshToken, version)
	// Output:
	// r1 1
	// true
	// r2 2
}

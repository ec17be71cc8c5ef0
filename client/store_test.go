package client_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/smartlaunch/smartlaunch/client"
)

// stores returns one fresh store of each kind.
func stores(t *testing.T) map[string]client.TokenStore {
	dir := t.TempDir()
	sq, err := client.NewSQLiteStore(filepath.Join(dir, "token.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.(io.Closer).Close() })
	return map[string]client.TokenStore{
		"memory": client.NewMemoryStore(),
		"file":   client.NewFileStore(filepath.Join(dir, "token.json")),
		"sqlite": sq,
	}
}

// TestStoreCAS: an empty store loads as (nil, 0); each swap at the
// current version succeeds and increments it; a swap at any other version
// is ErrConflict and changes nothing.
func TestStoreCAS(t *testing.T) {
	ctx := context.Background()
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			tok, v, err := st.Load(ctx)
			if tok != nil || v != 0 || err != nil {
				t.Fatalf("empty Load = %v, %d, %v; want nil, 0, nil", tok, v, err)
			}
			if err := st.CompareAndSwap(ctx, 1, &client.Token{AccessToken: "x"}); !errors.Is(err, client.ErrConflict) {
				t.Errorf("swap at 1 of an empty store: %v, want ErrConflict", err)
			}
			if err := st.CompareAndSwap(ctx, 0, &client.Token{AccessToken: "a", RefreshToken: "r1"}); err != nil {
				t.Fatal(err)
			}
			if err := st.CompareAndSwap(ctx, 0, &client.Token{AccessToken: "b"}); !errors.Is(err, client.ErrConflict) {
				t.Errorf("second create: %v, want ErrConflict", err)
			}
			claim := &client.Token{AccessToken: "a", RefreshToken: "r1", Claim: &client.Claim{By: "me"}}
			if err := st.CompareAndSwap(ctx, 1, claim); err != nil {
				t.Fatal(err)
			}
			if err := st.CompareAndSwap(ctx, 1, &client.Token{AccessToken: "stale"}); !errors.Is(err, client.ErrConflict) {
				t.Errorf("swap at an old version: %v, want ErrConflict", err)
			}
			tok, v, err = st.Load(ctx)
			if err != nil || v != 2 || tok.AccessToken != "a" || tok.Claim == nil || tok.Claim.By != "me" {
				t.Errorf("Load = %+v, %d, %v; want the claimed token at version 2", tok, v, err)
			}
		})
	}
}

// TestStoreConcurrent: 32 goroutines each add 10 increments by
// load-and-swap; with correct CAS none is lost.
func TestStoreConcurrent(t *testing.T) {
	ctx := context.Background()
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			const workers, each = 32, 10
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for range each {
						for {
							tok, v, err := st.Load(ctx)
							if err != nil {
								t.Error(err)
								return
							}
							n := 0
							if tok != nil {
								n, _ = strconv.Atoi(tok.AccessToken)
							}
							err = st.CompareAndSwap(ctx, v, &client.Token{AccessToken: strconv.Itoa(n + 1)})
							if err == nil {
								break
							}
							if !errors.Is(err, client.ErrConflict) {
								t.Error(err)
								return
							}
						}
					}
				})
			}
			wg.Wait()
			tok, v, err := st.Load(ctx)
			if err != nil || v != workers*each || tok.AccessToken != strconv.Itoa(workers*each) {
				t.Errorf("after %d increments: %+v at version %d (%v)", workers*each, tok, v, err)
			}
		})
	}
}

// TestFileStoreDurable: a swap replaces the file by rename (no temporary
// files remain; an open reader of the old file keeps the old content),
// the files are private, and a fresh store on the same path sees the
// token.
func TestFileStoreDurable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "token.json")
	st := client.NewFileStore(path)
	if err := st.CompareAndSwap(ctx, 0, &client.Token{AccessToken: "old"}); err != nil {
		t.Fatal(err)
	}
	old, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := st.CompareAndSwap(ctx, 1, &client.Token{AccessToken: "new", RefreshToken: "r"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(old); !strings.Contains(string(b), `"old"`) {
		t.Errorf("the old file was changed in place: %s", b)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "token.json" && e.Name() != "token.json.lock" {
			t.Errorf("stray file %s", e.Name())
		}
		if info, _ := e.Info(); info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
	tok, v, err := client.NewFileStore(path).Load(ctx)
	if err != nil || v != 2 || tok.AccessToken != "new" || tok.RefreshToken != "r" {
		t.Errorf("reopened: %+v at %d (%v)", tok, v, err)
	}
}

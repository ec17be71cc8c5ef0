package client_test

import (
	"bytes"
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
	"github.com/smartlaunch/smartlaunch/client/seal"
)

// stores returns one fresh store of each kind, the file and SQLite
// stores also sealed.
func stores(t *testing.T) map[string]client.TokenStore {
	dir := t.TempDir()
	sealer := testSealer(t, 1)
	sq := sqliteStore(t, filepath.Join(dir, "token.db"))
	sqSealed := sqliteStore(t, filepath.Join(dir, "sealed.db"), client.WithSealer(sealer))
	return map[string]client.TokenStore{
		"memory":        client.NewMemoryStore(),
		"file":          client.NewFileStore(filepath.Join(dir, "token.json")),
		"file-sealed":   client.NewFileStore(filepath.Join(dir, "sealed.json"), client.WithSealer(sealer)),
		"sqlite":        sq,
		"sqlite-sealed": sqSealed,
	}
}

func sqliteStore(t *testing.T, path string, opts ...client.StoreOption) client.TokenStore {
	t.Helper()
	st, err := client.NewSQLiteStore(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.(io.Closer).Close() })
	return st
}

// testSealer is a key sealer (fast; the passphrase and keyring sealers
// are tested in package seal).
func testSealer(t *testing.T, b byte) seal.Sealer {
	t.Helper()
	s, err := seal.NewKey(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSealedStoreAtRest: a sealed store keeps no token in plaintext on
// disk; it opens only with its own key, at its own location; a plaintext
// record from before sealing still reads and is sealed on the next write.
func TestSealedStoreAtRest(t *testing.T) {
	ctx := context.Background()
	const refresh = "rt-at-rest-7f3a"
	tok := &client.Token{AccessToken: "at-at-rest-91c2", RefreshToken: refresh}
	for _, kind := range []string{"file", "sqlite"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			open := func(name string, opts ...client.StoreOption) client.TokenStore {
				if kind == "file" {
					return client.NewFileStore(filepath.Join(dir, name), opts...)
				}
				return sqliteStore(t, filepath.Join(dir, name), opts...)
			}
			right := client.WithSealer(testSealer(t, 1))
			st := open("a", right)
			if err := st.CompareAndSwap(ctx, 0, tok); err != nil {
				t.Fatal(err)
			}
			if got, v, err := st.Load(ctx); err != nil || v != 1 || got.RefreshToken != refresh {
				t.Fatalf("Load = %+v, %d, %v", got, v, err)
			}
			onDisk := readAll(t, dir)
			if strings.Contains(onDisk, refresh) || strings.Contains(onDisk, tok.AccessToken) {
				t.Fatal("a sealed store wrote a token in plaintext")
			}
			if _, _, err := open("a", client.WithSealer(testSealer(t, 2))).Load(ctx); !errors.Is(err, seal.ErrOpen) {
				t.Errorf("Load with another key: %v, want seal.ErrOpen", err)
			}
			if _, _, err := open("a").Load(ctx); err == nil {
				t.Error("Load without a sealer read a sealed token")
			}
			// A sealed record copied to another store does not open there.
			copyFile(t, filepath.Join(dir, "a"), filepath.Join(dir, "b"))
			if kind == "sqlite" { // the record may still be in the WAL
				copyFile(t, filepath.Join(dir, "a-wal"), filepath.Join(dir, "b-wal"))
			}
			if _, _, err := open("b", right).Load(ctx); !errors.Is(err, seal.ErrOpen) {
				t.Errorf("Load of a copied record: %v, want seal.ErrOpen", err)
			}
			// Turning sealing on for a plaintext store.
			plain := open("c")
			if err := plain.CompareAndSwap(ctx, 0, tok); err != nil {
				t.Fatal(err)
			}
			sealed := open("c", right)
			got, v, err := sealed.Load(ctx)
			if err != nil || got.RefreshToken != refresh {
				t.Fatalf("sealed Load of a plaintext record = %+v, %v", got, err)
			}
			if err := sealed.CompareAndSwap(ctx, v, got); err != nil {
				t.Fatal(err)
			}
			if _, _, err := open("c").Load(ctx); err == nil {
				t.Error("the next write did not seal the plaintext record")
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "c")); kind == "file" && strings.Contains(string(b), refresh) {
				t.Error("the sealed file still holds the plaintext token")
			}
		})
	}
}

// readAll returns every file under dir, concatenated (SQLite's WAL too).
func readAll(t *testing.T, dir string) string {
	t.Helper()
	var all strings.Builder
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	if all.Len() == 0 {
		t.Fatal("nothing on disk")
	}
	return all.String()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
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

// TestSQLiteStoreMode: the SQLite token database is the owner's alone.
func TestSQLiteStoreMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.db")
	st := sqliteStore(t, path)
	if err := st.CompareAndSwap(context.Background(), 0, &client.Token{AccessToken: "a", RefreshToken: "r"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

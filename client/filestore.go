package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// NewFileStore returns a TokenStore kept in the file at path, shared by
// every process that opens the same path (Linux and other Unix systems).
// Each operation holds an exclusive flock(2) on path+".lock"; a write goes
// to a temporary file in the same directory, is fsynced, renamed over
// path, and the directory is fsynced, so a crash leaves either the old
// token or the new one. The files are created with mode 0600. With
// WithSealer the token is stored encrypted.
func NewFileStore(path string, opts ...StoreOption) TokenStore {
	where := path
	if abs, err := filepath.Abs(path); err == nil {
		where = abs
	}
	return &fileStore{path: path, where: "file:" + where, opts: newStoreOptions(opts)}
}

type fileStore struct {
	path  string
	where string // what sealed records are bound to
	opts  storeOptions
}

// fileRecord is the file's content: the token as JSON, or sealed.
type fileRecord struct {
	Version uint64          `json:"version"`
	Token   json.RawMessage `json:"token,omitempty"`
	Sealed  []byte          `json:"sealed,omitempty"`
}

// locked runs f holding the lock file's exclusive lock.
func (s *fileStore) locked(ctx context.Context, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	lf, err := os.OpenFile(s.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("client: file store lock: %w", err)
	}
	defer lf.Close() // closing releases the lock
	for {
		err = syscall.Flock(int(lf.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("client: file store lock: %w", err)
	}
	return f()
}

func (s *fileStore) read() (fileRecord, error) {
	var r fileRecord
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("client: file store %s is corrupt: %w", s.path, err)
	}
	return r, nil
}

func (s *fileStore) Load(ctx context.Context) (*Token, uint64, error) {
	var r fileRecord
	if err := s.locked(ctx, func() (err error) { r, err = s.read(); return err }); err != nil {
		return nil, 0, err
	}
	switch {
	case r.Sealed != nil:
		t, err := s.opts.open(r.Sealed, true, s.where, r.Version)
		return t, r.Version, err
	case len(r.Token) > 0 && string(r.Token) != "null":
		t, err := s.opts.open(r.Token, false, s.where, r.Version)
		return t, r.Version, err
	}
	return nil, r.Version, nil
}

func (s *fileStore) CompareAndSwap(ctx context.Context, old uint64, t *Token) error {
	return s.locked(ctx, func() error {
		r, err := s.read()
		if err != nil {
			return err
		}
		if r.Version != old {
			return ErrConflict
		}
		rec := fileRecord{Version: old + 1}
		enc, sealed, err := s.opts.seal(t, s.where, rec.Version)
		if err != nil {
			return err
		}
		if sealed {
			rec.Sealed = enc
		} else {
			rec.Token = enc
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return writeDurably(s.path, b)
	})
}

// writeDurably replaces path with b: temporary file, fsync, rename, fsync
// of the directory.
func writeDurably(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

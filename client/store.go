package client

import (
	"context"
	"errors"
	"sync"
)

// ErrConflict is returned by TokenStore.CompareAndSwap when the stored
// version is not the one given.
var ErrConflict = errors.New("client: token store version conflict")

// TokenStore keeps one authorization's current token with a version that
// every successful CompareAndSwap increments. It is how processes sharing
// an authorization agree on who presents a refresh token (see the package
// documentation).
type TokenStore interface {
	// Load returns the stored token and its version; (nil, 0, nil) when
	// nothing is stored.
	Load(ctx context.Context) (*Token, uint64, error)
	// CompareAndSwap stores t if the stored version is still oldVersion
	// (0: nothing stored), durably before it returns; otherwise it returns
	// ErrConflict.
	CompareAndSwap(ctx context.Context, oldVersion uint64, t *Token) error
}

// NewMemoryStore returns a TokenStore for one process.
func NewMemoryStore() TokenStore { return &memoryStore{} }

type memoryStore struct {
	mu  sync.Mutex
	tok *Token
	ver uint64
}

func (m *memoryStore) Load(context.Context) (*Token, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return clone(m.tok), m.ver, nil
}

func (m *memoryStore) CompareAndSwap(_ context.Context, old uint64, t *Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old != m.ver {
		return ErrConflict
	}
	m.tok, m.ver = clone(t), m.ver+1
	return nil
}

// clone copies t so stores never share memory with callers.
func clone(t *Token) *Token {
	if t == nil {
		return nil
	}
	c := *t
	if t.Claim != nil {
		cl := *t.Claim
		c.Claim = &cl
	}
	return &c
}

package ratelimit

import (
	"container/list"
	"crypto/sha256"
	"time"
)

// DefaultMaxKeys is the number of keys a limiter keeps when its MaxKeys
// is zero.
const DefaultMaxKeys = 100_000

// sweep is how many expired entries an insertion removes, at most, from
// the least recently touched end, so idle keys go without a timer.
const sweep = 4

// table is a map from hashed key to entry with least-recently-touched
// order, a size cap and expiry. It is not safe for concurrent use: the
// limiters hold their lock around it.
type table[V any] struct {
	max   int
	items map[[sha256.Size]byte]*list.Element
	order *list.List // of *item[V], least recently touched first
}

type item[V any] struct {
	key     [sha256.Size]byte
	expires time.Time
	v       V
}

func newTable[V any](maxKeys int) *table[V] {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	return &table[V]{max: maxKeys, items: map[[sha256.Size]byte]*list.Element{}, order: list.New()}
}

// get returns the live entry for key, or nil.
func (t *table[V]) get(key string, now time.Time) *item[V] {
	e, ok := t.items[sha256.Sum256([]byte(key))]
	if !ok {
		return nil
	}
	it := e.Value.(*item[V])
	if !now.Before(it.expires) {
		t.remove(e)
		return nil
	}
	return it
}

// put stores v for key until expires, marks it most recently touched,
// and makes room by dropping expired and, past the cap, the oldest entries.
func (t *table[V]) put(key string, v V, expires, now time.Time) {
	h := sha256.Sum256([]byte(key))
	if e, ok := t.items[h]; ok {
		it := e.Value.(*item[V])
		it.v, it.expires = v, expires
		t.order.MoveToBack(e)
		return
	}
	for i := 0; i < sweep; i++ {
		front := t.order.Front()
		if front == nil || now.Before(front.Value.(*item[V]).expires) {
			break
		}
		t.remove(front)
	}
	for t.order.Len() >= t.max {
		t.remove(t.order.Front())
	}
	t.items[h] = t.order.PushBack(&item[V]{key: h, expires: expires, v: v})
}

// delete forgets key.
func (t *table[V]) delete(key string) {
	if e, ok := t.items[sha256.Sum256([]byte(key))]; ok {
		t.remove(e)
	}
}

func (t *table[V]) remove(e *list.Element) {
	delete(t.items, e.Value.(*item[V]).key)
	t.order.Remove(e)
}

// len is the number of entries held, live or not yet swept.
func (t *table[V]) len() int { return t.order.Len() }

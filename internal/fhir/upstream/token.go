package upstream

import (
	"sync"

	"golang.org/x/oauth2"
)

// tokenCache holds the client-credentials token source. The oauth2
// library's reuse source caches the token and renews it before it
// expires; tokenCache adds the one thing it lacks, dropping a token the
// upstream has refused.
//
// Each source has a generation number. A caller that saw a token refused
// passes the generation it got the token from to invalidate, so that
// several requests refused at once replace the source, and fetch a new
// token, only once.
type tokenCache struct {
	newSource func() oauth2.TokenSource

	mu  sync.Mutex
	src oauth2.TokenSource
	gen uint64
}

func newTokenCache(newSource func() oauth2.TokenSource) *tokenCache {
	return &tokenCache{newSource: newSource, src: newSource()}
}

// token returns the current token and the generation it belongs to.
func (t *tokenCache) token() (*oauth2.Token, uint64, error) {
	t.mu.Lock()
	src, gen := t.src, t.gen
	t.mu.Unlock()
	tok, err := src.Token()
	return tok, gen, err
}

// invalidate drops the cached token of generation gen, if it is still the
// current one.
func (t *tokenCache) invalidate(gen uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gen == gen {
		t.src = t.newSource()
		t.gen++
	}
}

package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/smartlaunch/smartlaunch/client/seal"
)

// StoreOption configures NewFileStore and NewSQLiteStore.
type StoreOption func(*storeOptions)

type storeOptions struct {
	sealer seal.Sealer
}

// WithSealer makes a store keep its token encrypted with s (see package
// seal: a key from the OS keyring, or a passphrase). Each stored record
// is bound to the store's location and version, so a record copied from
// another store, or from another version of this one, does not open. A
// store that holds a plaintext record from before sealing was turned on
// still reads it, and seals it on the next write.
func WithSealer(s seal.Sealer) StoreOption {
	return func(o *storeOptions) { o.sealer = s }
}

func newStoreOptions(opts []StoreOption) storeOptions {
	var o storeOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

// errNeedSealer reports a sealed record read without a Sealer.
var errNeedSealer = errors.New("client: the stored token is encrypted; open the store WithSealer")

// additional is the data a sealed record is bound to: the store's kind
// and location, and the record's version.
func additional(where string, version uint64) []byte {
	return []byte(where + "\x00" + strconv.FormatUint(version, 10))
}

// seal encodes t for storage: JSON, sealed when o has a Sealer. sealed
// reports which.
func (o storeOptions) seal(t *Token, where string, version uint64) (b []byte, sealed bool, err error) {
	b, err = json.Marshal(t)
	if err != nil || o.sealer == nil {
		return b, false, err
	}
	b, err = o.sealer.Seal(b, additional(where, version))
	if err != nil {
		return nil, false, fmt.Errorf("client: seal token: %w", err)
	}
	return b, true, nil
}

// open decodes a stored token: b is JSON, or a blob from seal when
// sealed.
func (o storeOptions) open(b []byte, sealed bool, where string, version uint64) (*Token, error) {
	if sealed {
		if o.sealer == nil {
			return nil, errNeedSealer
		}
		var err error
		if b, err = o.sealer.Open(b, additional(where, version)); err != nil {
			return nil, fmt.Errorf("client: open stored token: %w", err)
		}
	}
	var t Token
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("client: stored token is corrupt: %w", err)
	}
	return &t, nil
}

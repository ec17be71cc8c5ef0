package upstream

import (
	"context"
	"fmt"
	"io"
)

// limitedBody is a response body that fails with ErrTooLarge past a size
// limit, reports read failures as ErrUnavailable, and ends the call's
// timeout context when closed.
type limitedBody struct {
	rc     io.ReadCloser
	left   int64 // bytes that may still be read
	max    int64
	cancel context.CancelFunc
	err    error // sticky
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	// Ask for one byte more than allowed, to tell "exactly the limit"
	// from "over it".
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.left {
		n = int(b.left)
		b.left = 0
		b.err = b.tooLarge()
		return n, b.err
	}
	b.left -= int64(n)
	if err != nil && err != io.EOF {
		b.err = fmt.Errorf("%w: reading the response: %w", ErrUnavailable, err)
		return n, b.err
	}
	return n, err
}

func (b *limitedBody) tooLarge() error {
	return fmt.Errorf("%w (limit %d bytes)", ErrTooLarge, b.max)
}

// Close closes the underlying body and releases the call's timeout.
func (b *limitedBody) Close() error {
	err := b.rc.Close()
	b.cancel()
	return err
}

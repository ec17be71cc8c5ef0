package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

// Refresh-token rotation is the token endpoint's hot path, and each
// rotation must be durable before its response is sent. One fsync per
// rotation would cap throughput at the disk's flush rate, so rotations are
// group-committed: one goroutine takes every rotation waiting at that
// moment (up to maxBatch) and applies them in a single transaction, each
// inside its own savepoint, so one rotation's failure never touches
// another's. All callers of a batch are answered after its COMMIT.

const maxBatch = 256

type rotation struct {
	ctx     context.Context
	oldHash string
	next    store.RefreshToken
	now     time.Time
	done    chan rotationResult
}

type rotationResult struct {
	old store.RefreshToken
	err error
}

func (db *DB) startCommitter() {
	db.rotations = make(chan *rotation)
	db.stop = make(chan struct{})
	db.stopped = make(chan struct{})
	go db.commitLoop()
}

func (db *DB) stopCommitter() {
	if db.stop == nil {
		return
	}
	close(db.stop)
	<-db.stopped
	db.stop = nil
}

func (db *DB) commitLoop() {
	defer close(db.stopped)
	for {
		var first *rotation
		select {
		case <-db.stop:
			return
		case first = <-db.rotations:
		}
		batch := []*rotation{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-db.rotations:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		db.commitBatch(batch)
	}
}

// RotateRefreshToken implements store.RefreshTokens (RFC 9700 §4.14.2,
// refresh token rotation): atomically it marks the old token used (a
// compare-and-set on used_at IS NULL), inserts next, and sets the
// authorization's last_used_at to now. A losing or later caller gets the
// old token, as stored, with store.ErrAlreadyUsed, and nothing of its next
// is stored. The returned old token carries UsedAt and ReplacedBy. now must
// not be the zero time. The change is committed durably before it returns.
func (db *DB) RotateRefreshToken(ctx context.Context, oldHash string, next store.RefreshToken, now time.Time) (store.RefreshToken, error) {
	if now.IsZero() {
		return store.RefreshToken{}, wrap("rotate refresh token", errZeroTime)
	}
	r := &rotation{ctx: ctx, oldHash: oldHash, next: next, now: now, done: make(chan rotationResult, 1)}
	select {
	case db.rotations <- r:
	case <-ctx.Done():
		return store.RefreshToken{}, fmt.Errorf("sqlite: rotate refresh token: %w", ctx.Err())
	case <-db.stopped:
		return store.RefreshToken{}, errors.New("sqlite: rotate refresh token: database closed")
	}
	// Once handed over, the rotation is applied whatever the caller does;
	// waiting for the result keeps "durable before the response" true.
	res := <-r.done
	return res.old, res.err
}

// commitBatch applies a batch in one transaction and answers every caller.
func (db *DB) commitBatch(batch []*rotation) {
	results := make([]rotationResult, len(batch))
	err := db.inTx(context.Background(), "rotate refresh tokens", func(tx *sql.Tx) error {
		for i, r := range batch {
			results[i] = rotateOne(tx, r)
		}
		return nil
	})
	for i, r := range batch {
		if err != nil {
			results[i] = rotationResult{err: err}
		}
		r.done <- results[i]
	}
}

// rotateOne applies one rotation inside a savepoint of tx.
func rotateOne(tx *sql.Tx, r *rotation) rotationResult {
	ctx := context.WithoutCancel(r.ctx)
	if _, err := tx.ExecContext(ctx, `SAVEPOINT rotation`); err != nil {
		return rotationResult{err: wrap("rotate refresh token", err)}
	}
	old, err := rotateStatements(ctx, tx, r)
	if err != nil && !errors.Is(err, store.ErrAlreadyUsed) {
		if _, rbErr := tx.ExecContext(ctx, `ROLLBACK TO rotation`); rbErr != nil {
			err = errors.Join(err, rbErr)
		}
	}
	if _, relErr := tx.ExecContext(ctx, `RELEASE rotation`); relErr != nil && err == nil {
		err = relErr
	}
	if err != nil && !errors.Is(err, store.ErrAlreadyUsed) {
		return rotationResult{err: wrap("rotate refresh token", err)}
	}
	return rotationResult{old: old, err: wrap("rotate refresh token", err)}
}

func rotateStatements(ctx context.Context, tx *sql.Tx, r *rotation) (store.RefreshToken, error) {
	old, err := scanRefreshToken(tx.QueryRowContext(ctx,
		`UPDATE refresh_tokens SET used_at = ?, replaced_by = ?
		WHERE hash = ? AND used_at IS NULL RETURNING `+refreshTokenColumns,
		micros(r.now), r.next.Hash, r.oldHash))
	if errors.Is(err, sql.ErrNoRows) {
		old, err = scanRefreshToken(tx.QueryRowContext(ctx,
			`SELECT `+refreshTokenColumns+` FROM refresh_tokens WHERE hash = ?`, r.oldHash))
		if err != nil {
			return store.RefreshToken{}, err
		}
		return old, store.ErrAlreadyUsed
	}
	if err != nil {
		return store.RefreshToken{}, err
	}
	if err := insertRefreshToken(ctx, tx, r.next); err != nil {
		return store.RefreshToken{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE authorizations SET last_used_at = ? WHERE id = ?`,
		micros(r.now), old.AuthorizationID); err != nil {
		return store.RefreshToken{}, err
	}
	return old, nil
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Writes on the hot paths — refresh-token rotation, one-time jti records —
// must be durable before their responses are sent. One fsync per write
// would cap throughput at the disk's flush rate, so they are
// group-committed: one goroutine takes every write waiting at that moment
// (up to maxBatch) and applies them in a single transaction, each inside
// its own savepoint so one write's failure never touches another's. All
// callers of a batch are answered after its COMMIT.

const maxBatch = 256

// batchOp is one write. apply runs inside a savepoint; an error rolls back
// that savepoint only, unless it is errKeep, which keeps what apply did
// (nothing, by convention) and still reports the error.
type batchOp struct {
	ctx   context.Context
	apply func(ctx context.Context, tx *sql.Tx) error
	done  chan error
}

func (db *DB) startCommitter() {
	db.batch = make(chan *batchOp)
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
		var first *batchOp
		select {
		case <-db.stop:
			return
		case first = <-db.batch:
		}
		ops := []*batchOp{first}
	drain:
		for len(ops) < maxBatch {
			select {
			case op := <-db.batch:
				ops = append(ops, op)
			default:
				break drain
			}
		}
		db.commitBatch(ops)
	}
}

// inBatch runs apply as part of the next group commit and returns once
// that commit is durable. Once handed over, the write is applied whatever
// the caller's context does, so "durable before the response" holds.
func (db *DB) inBatch(ctx context.Context, op string, apply func(ctx context.Context, tx *sql.Tx) error) error {
	b := &batchOp{ctx: context.WithoutCancel(ctx), apply: apply, done: make(chan error, 1)}
	select {
	case db.batch <- b:
	case <-ctx.Done():
		return fmt.Errorf("sqlite: %s: %w", op, ctx.Err())
	case <-db.stopped:
		return fmt.Errorf("sqlite: %s: database closed", op)
	}
	return <-b.done
}

func (db *DB) commitBatch(ops []*batchOp) {
	results := make([]error, len(ops))
	err := db.inTx(context.Background(), "group commit", func(tx *sql.Tx) error {
		for i, op := range ops {
			results[i] = applyInSavepoint(tx, op)
		}
		return nil
	})
	for i, op := range ops {
		if err != nil {
			results[i] = err
		}
		op.done <- results[i]
	}
}

// applyInSavepoint runs one op so that its failure undoes only its own
// writes.
func applyInSavepoint(tx *sql.Tx, op *batchOp) error {
	if _, err := tx.ExecContext(op.ctx, `SAVEPOINT op`); err != nil {
		return err
	}
	err := op.apply(op.ctx, tx)
	if err != nil && !errors.Is(err, errKeep) {
		if _, rbErr := tx.ExecContext(op.ctx, `ROLLBACK TO op`); rbErr != nil {
			err = errors.Join(err, rbErr)
		}
	}
	if _, relErr := tx.ExecContext(op.ctx, `RELEASE op`); relErr != nil && err == nil {
		err = relErr
	}
	return err
}

// errKeep marks an op result that is an answer, not a failure: nothing to
// roll back (a refresh token already used, a jti already seen).
var errKeep = errors.New("sqlite: keep")

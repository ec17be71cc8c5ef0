// Package postgres is smartlaunch's PostgreSQL store: a store.Store backed
// by one PostgreSQL database through github.com/jackc/pgx/v5, for several
// server instances sharing the work.
//
// Open applies the schema migrations embedded from migrations/ and returns a
// connection pool; OpenNoMigrate opens without migrating (when an operator
// runs Migrate, "smartlaunch migrate", separately) and refuses a database
// whose schema is behind. Migrations are applied in file-name order, each in
// its own transaction, recorded in schema_migrations, while holding a
// session-level advisory lock, so that instances starting at once apply
// each migration exactly once.
//
// Transactions run at PostgreSQL's default READ COMMITTED isolation, and
// every commit is durable before the call that made it returns (the
// server's synchronous_commit setting, on by default). Security transitions
// are single statements whose WHERE clause is the compare-and-set:
// consuming a code, taking an authorization request, ending an
// authorization or rotating a refresh token is one UPDATE or DELETE ...
// RETURNING. When several such statements race for one row, PostgreSQL
// makes the later ones wait for the first to commit and then re-checks
// their WHERE clause against the row it committed, so exactly one of them
// changes it. WriteResources locks the rows of the resources it changes
// with SELECT ... FOR UPDATE before it compares their versions with the
// bases of the changes, and creates with plain INSERTs, so a concurrent
// writer of the same resource either waits and then sees the committed
// version or fails on the primary key; both give store.ErrConflict. Rows
// are locked and created in (type, id) order so that concurrent writers
// do not deadlock; a transaction PostgreSQL aborts anyway to break a
// deadlock (or for a serialization failure) is run again, a few times.
//
// Times are stored as bigint unix microseconds (NULL for the zero time) and
// returned in UTC. Text is PostgreSQL text, which cannot hold a NUL
// character, nor invalid UTF-8 in a UTF8 database; such a value is
// refused with an error.
//
// Package postgres is imported by cmd/smartlaunch and by tests; feature
// packages depend on the interfaces in internal/store instead.
package postgres

// Package sqlite is smartlaunch's embedded default store: a store.Store
// backed by one SQLite file through the pure-Go driver modernc.org/sqlite.
//
// The database runs in WAL mode with synchronous=FULL, so a commit is on disk
// before the call that made it returns, and with a busy timeout, so the
// server and a CLI process may use the same file at once. Write transactions
// begin IMMEDIATE, taking the write lock up front. Schema migrations are SQL
// files embedded from migrations/ and applied in file-name order when the
// database is opened; the applied ones are recorded in schema_migrations.
//
// Security transitions (consuming a code, rotating a refresh token, taking an
// authorization request, ending an authorization) are each one statement or
// one transaction. Times are stored as INTEGER unix microseconds (NULL for
// the zero time) and returned in UTC.
//
// Package sqlite is imported by cmd/smartlaunch and by tests; feature
// packages depend on the interfaces in internal/store instead.
package sqlite

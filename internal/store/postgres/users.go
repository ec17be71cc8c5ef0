package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

const userColumns = `id, username, password_hash, display_name, fhir_user, patients, all_patients, created_at, email, language`

// CreateUser implements store.Users.
func (db *DB) CreateUser(ctx context.Context, u store.User) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		u.ID, u.Username, u.PasswordHash, u.DisplayName, u.FHIRUser, strs(u.Patients),
		u.AllPatients, micros(u.CreatedAt), u.Email, u.Language)
	return wrap("create user", err)
}

// GetUser implements store.Users.
func (db *DB) GetUser(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return store.User{}, wrap("get user", err)
	}
	return u, nil
}

// GetUserByUsername implements store.Users.
func (db *DB) GetUserByUsername(ctx context.Context, username string) (store.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`, username))
	if err != nil {
		return store.User{}, wrap("get user by username", err)
	}
	return u, nil
}

// ListUsers implements store.Users.
func (db *DB) ListUsers(ctx context.Context) ([]store.User, error) {
	out, err := queryAll(ctx, db.pool, scanUser, `SELECT `+userColumns+` FROM users ORDER BY id`)
	return out, wrap("list users", err)
}

func scanUser(r pgx.Row) (store.User, error) {
	var (
		u       store.User
		created *int64
	)
	if err := r.Scan(&u.ID, &u.Username, &u.PasswordHash, &u.DisplayName, &u.FHIRUser,
		&u.Patients, &u.AllPatients, &created, &u.Email, &u.Language); err != nil {
		return store.User{}, err
	}
	u.CreatedAt = timeOf(created)
	u.Patients = orNil(u.Patients)
	return u, nil
}

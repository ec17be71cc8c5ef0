package sqlite

import (
	"context"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

const userColumns = `id, username, password_hash, display_name, fhir_user, patients, all_patients, created_at, email, language`

// CreateUser implements store.Users.
func (db *DB) CreateUser(ctx context.Context, u store.User) error {
	patients, err := encodeStrings(u.Patients)
	if err != nil {
		return wrap("create user", err)
	}
	_, err = db.sql.ExecContext(ctx,
		`INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Username, u.PasswordHash, u.DisplayName, u.FHIRUser, patients,
		u.AllPatients, micros(u.CreatedAt), u.Email, u.Language)
	return wrap("create user", err)
}

// GetUser implements store.Users.
func (db *DB) GetUser(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(db.stmts.getUser.QueryRowContext(ctx, id))
	if err != nil {
		return store.User{}, wrap("get user", err)
	}
	return u, nil
}

// GetUserByUsername implements store.Users.
func (db *DB) GetUserByUsername(ctx context.Context, username string) (store.User, error) {
	u, err := scanUser(db.sql.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	if err != nil {
		return store.User{}, wrap("get user by username", err)
	}
	return u, nil
}

func scanUser(r rowScanner) (store.User, error) {
	var (
		u        store.User
		patients string
		created  nullMicros
	)
	if err := r.Scan(&u.ID, &u.Username, &u.PasswordHash, &u.DisplayName, &u.FHIRUser,
		&patients, &u.AllPatients, &created, &u.Email, &u.Language); err != nil {
		return store.User{}, err
	}
	u.CreatedAt = created.time()
	var err error
	if u.Patients, err = decodeStrings(patients); err != nil {
		return store.User{}, err
	}
	return u, nil
}

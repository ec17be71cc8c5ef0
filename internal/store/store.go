package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// Errors returned by every backend. Match them with errors.Is.
var (
	// ErrNotFound reports that the record asked for does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict reports that a record with the same key already exists.
	ErrConflict = errors.New("store: conflict")
	// ErrAlreadyUsed reports that a single-use record (an authorization code
	// or a refresh token) was presented after it had been used. Methods that
	// return it also return the record, so the caller can end its authorization.
	ErrAlreadyUsed = errors.New("store: already used")
)

// Store is everything a backend provides. Consumers should accept the
// smaller interfaces below instead.
type Store interface {
	Clients
	Users
	AuthRequests
	Codes
	Authorizations
	RefreshTokens
	ReplayCache
	Sessions
	AuditEvents
	AppStates
	Launches
	AccessRecords
	Keys
	Resources
	Reminders
	// Close releases the backend's resources.
	Close() error
}

// Hash returns the hex-encoded SHA-256 of a secret value: the only form in
// which codes, refresh tokens and client secrets are stored or looked up.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

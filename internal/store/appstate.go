package store

import (
	"context"
	"time"
)

// AppState is one SMART App State record (SMART App Launch 2.1 "Persisting
// App State", R-STATE-09..24): a FHIR Basic resource kept apart from the
// ordinary FHIR resources, keyed by its id and searched by its state code
// and subject. The backend stores JSON as given and never parses it.
//
// A deleted record stays as a tombstone (DeletedAt set, JSON empty) so that
// every later request about its id can be refused as a failed precondition
// (R-STATE-24); tombstones keep Code and Subject for access decisions and
// are never returned by searches.
type AppState struct {
	ID string
	// Version is the resource's meta.versionId: 1 on creation, one more on
	// each update.
	Version int64
	// Code is the state code, "system|code" of Basic.code.coding[0].
	Code string
	// Subject is the absolute Basic.subject.reference, or "" for global
	// state. Code and Subject never change after creation.
	Subject string
	// ClientID is the app that created the record.
	ClientID    string
	LastUpdated time.Time
	// DeletedAt is when the record was deleted; zero while it lives.
	DeletedAt time.Time
	// JSON is the resource exactly as served; empty for a tombstone.
	JSON []byte
}

// AppStateQuery selects the live App State records with one state code
// and one subject; Subject "" selects global state (the FHIR search
// subject:missing=true).
type AppStateQuery struct {
	Code    string
	Subject string
}

// AppStates stores SMART App State records.
type AppStates interface {
	// CreateAppState stores a new record; ErrConflict if the ID is taken,
	// also by a tombstone.
	CreateAppState(ctx context.Context, s AppState) error
	// GetAppState returns the record, a tombstone included, or ErrNotFound.
	GetAppState(ctx context.Context, id string) (AppState, error)
	// UpdateAppState replaces the Version, LastUpdated and JSON of the live
	// record s.ID if its stored version is prev (compare-and-set): of any
	// number of concurrent calls with the same prev exactly one succeeds.
	// Code, Subject and ClientID are left as stored. It returns ErrNotFound
	// for an unknown ID and ErrConflict when the record is a tombstone or
	// its version is not prev.
	UpdateAppState(ctx context.Context, s AppState, prev int64) error
	// DeleteAppState turns the live record id whose version is prev into a
	// tombstone deleted at at; the errors are those of UpdateAppState.
	DeleteAppState(ctx context.Context, id string, prev int64, at time.Time) error
	// SearchAppStates returns the live records q selects, ordered by ID.
	SearchAppStates(ctx context.Context, q AppStateQuery) ([]AppState, error)
}

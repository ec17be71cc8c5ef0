package store

import (
	"context"
	"time"
)

// AccessRecord counts an app's data requests of one resource kind on one
// day, for the connected-apps page ("what it read lately"). It holds no
// clinical content: no ids, no queries, only kinds and counts.
type AccessRecord struct {
	AuthorizationID string
	// Day is the UTC midnight starting the day.
	Day          time.Time
	ResourceType string
	Count        int
}

// AccessRecords stores access counts.
type AccessRecords interface {
	// AddAccess adds each record's count to the stored one for its
	// authorization, day and kind, in one transaction.
	AddAccess(ctx context.Context, recs []AccessRecord) error
	// ListAccess returns an authorization's records from since on, by day
	// then kind.
	ListAccess(ctx context.Context, authorizationID string, since time.Time) ([]AccessRecord, error)
	// DeleteAccessBefore deletes records of days before before, returning
	// how many (the retention period).
	DeleteAccessBefore(ctx context.Context, before time.Time) (int, error)
}

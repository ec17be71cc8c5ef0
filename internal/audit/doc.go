// Package audit records security events — an authorization ending, and
// why — in the store's append-only audit trail and in the log, so an
// operator can reconstruct what happened and a user can later be told.
// Recording never fails the request that caused it: a store error is
// logged instead.
//
// It is imported by the feature packages (oauth, and later account and
// fhir); it imports only internal/store.
package audit

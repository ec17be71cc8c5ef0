// Package audit records security events — sign-ins, authorizations
// granted, refreshed and ended (and why), failed client authentication,
// clients registered and changed, signing keys rotated — in the store's
// append-only audit trail and in the log, so an operator can reconstruct
// who authorized what, and a user can later be told. Recording never fails
// the request that caused it: a store error is logged instead.
//
// Events are exported as FHIR R4 AuditEvent resources (Resource), which
// the FHIR API serves to administrators' backend clients and
// "smartlaunch audit export" writes as NDJSON.
//
// It is imported by the feature packages and the commands; it imports
// only internal/store.
package audit

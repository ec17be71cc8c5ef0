// Package fhirwire holds the wire conventions every FHIR endpoint of
// smartlaunch shares — the FHIR API and the App State endpoint: errors
// answered as OperationOutcome, application/fhir+json bodies, and the
// WWW-Authenticate challenge for refused credentials (RFC 6750 §3,
// RFC 9449 §7.1).
//
// It is imported by internal/fhir and internal/appstate; it imports only
// the standard library.
package fhirwire

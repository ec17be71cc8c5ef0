// Package usage counts what each authorization reads from the FHIR API —
// resource kinds per day, never content — so people can see on their
// connected-apps page what an app did lately. Counting is in memory on the
// request path; a flush writes the counts to the store every few seconds
// and on shutdown, so the FHIR API pays no write per request.
//
// It is imported by internal/server, which hands the recorder to the FHIR
// API; it imports only internal/store.
package usage

// Package server assembles smartlaunch's one http.Handler from the feature
// packages (oauth, consent, fhir), adds the cross-cutting middleware
// (request logging without secrets, panic recovery, health check), and
// runs and shuts down the HTTP server.
//
// It is imported by cmd/smartlaunch and by end-to-end tests.
package server

// Package testserver runs the real smartlaunch server in-process for the
// end-to-end tests of code outside the server — package client,
// client/pkcs11 and cmd/smartapp — and plays the person at the browser
// through sign-in, the patient picker and consent.
//
// The server is the real one: a real listener (httptest), a real SQLite
// store seeded with the demo users and apps and one sample patient (Jill
// Tillman), and every handler. Only tests import this package.
//
// It imports internal/server, internal/store, internal/store/sqlite,
// internal/demo and sampledata; nothing imports it but tests.
package testserver

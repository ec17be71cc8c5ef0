// Package ehr is smartlaunch's EHR simulator, served at /ehr: a clinician
// or patient signs in, sees a patient list from the FHIR data, opens a
// chart (banner, recent visits, conditions, observations) and launches any
// registered app that has a launch URL, in a new window or embedded in the
// page (SMART App Launch §2.0.1, the EHR launch). It also offers an
// authenticated API that creates launches for tests and other EHR front
// ends, and serves the SMART style document (smart_style_url).
//
// A launch is an opaque, unguessable id bound to one app and short-lived,
// stored as store.Launch; the oauth package resolves it at /authorize.
// Sign-in is the shared session of internal/session, so launching an app
// does not ask for the password again.
//
// It is imported by internal/server only.
package ehr

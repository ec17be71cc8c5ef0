// Package session owns a person's sign-in session at smartlaunch: the
// cookie (a random value whose SHA-256 is the stored session's id), its
// lifetime, and ending it. The consent pages and the EHR simulator share
// one session, so a person signed in to the simulator is not asked for a
// password again when an app they launch asks for authorization.
//
// It is imported by the feature packages that sign people in (consent,
// ehr); it imports only internal/store.
package session

// Package oauth is smartlaunch's OAuth 2.0 / OpenID Connect authorization
// server for SMART App Launch 2.1: discovery (.well-known/smart-configuration,
// the OpenID configuration, the JWK Set), the authorization endpoint, the
// token endpoint (one file per grant), and verification of the access tokens
// it issues.
//
// The authorize endpoint validates a request and stores it; the consent
// package signs the user in, asks for a patient and for consent, and sends
// the browser back to /authorize/continue, where this package issues the
// code. The two meet only through the stored store.AuthRequest.
//
// It is imported by internal/server only.
package oauth

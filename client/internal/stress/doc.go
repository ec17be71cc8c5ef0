// Command stress is a test helper of package client, built and run only
// by client's TestStress: one process of several that share one
// TokenStore and keep refreshing and reading FHIR data through
// client.TokenSource. It is not a public tool.
package main

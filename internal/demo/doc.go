// Package demo seeds a fresh data directory with the sandbox's demo users,
// demo apps and the synthetic sample patients, so that `smartlaunch serve`
// runs with zero configuration. Its credentials are public (see README.md):
// they exist for a sandbox and must never reach production.
//
// It is imported by cmd/smartlaunch only.
package demo

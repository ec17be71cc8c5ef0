// Command smartlaunch is the SMART on FHIR sandbox server and its
// operator tools, in one binary:
//
//	smartlaunch serve    [--addr 127.0.0.1:8080] [--data DIR] [--base-url URL]
//	smartlaunch client add --data DIR --type public|confidential-symmetric --redirect-uri URI ... [--scope S]
//	smartlaunch client list|show|update|remove|rotate-secret --data DIR [--id ID] ...
//	smartlaunch user add --data DIR --username NAME [--fhir-user Patient/ID] [--patient ID ...] [--all-patients] < password
//	smartlaunch scopes explain [--lang es] [--json] [--strict] SCOPE...
//	smartlaunch version
//
// With no flags, serve keeps its state in ./smartlaunch-data (an embedded
// SQLite database), creates signing keys, demo users, demo apps and the
// synthetic sample patients on first start, and listens on 127.0.0.1:8080.
// The client and user commands work on the data directory of a running
// server.
//
// This package is wiring only: flags, then store, then server.
package main

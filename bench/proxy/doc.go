// Command proxy measures what smartlaunch's FHIR proxy mode adds to the
// latency of a FHIR read and search: one smartlaunch server holds the
// sample data (the upstream), a second serves /fhir in front of it (the
// proxy, authenticating to the upstream with client credentials), and the
// same requests go to each, in one run, each with its own access token.
// See bench/README.md.
package main

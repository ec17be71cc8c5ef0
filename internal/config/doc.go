// Package config owns smartlaunch's configuration file: one versioned
// YAML document (version: 1) holding the settings "smartlaunch serve"
// otherwise takes as flags, decoded strictly (an unknown key is an error)
// and checked as a whole, so that every problem is reported at once.
//
// Secrets are never written in the file: each is named either by a file
// that holds it (a key ending in _file) or by an environment variable
// that holds it (a key ending in _env).
//
// The package holds plain values only; it reads no environment and opens
// nothing but the file it is asked to load. Only cmd/smartlaunch imports
// it: it turns a File into the runtime configuration.
package config

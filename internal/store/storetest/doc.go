// Package storetest is the conformance suite for store.Store backends: the
// contract of internal/store written down as tests, concurrency cases
// included. Every backend's tests call Run with an Opener that returns a
// fresh, empty store.
//
// Package storetest is imported only by backend tests.
package storetest

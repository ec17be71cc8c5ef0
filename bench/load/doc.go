// Package load runs a request function from many goroutines for a fixed
// time and reports throughput and latency percentiles; the load tools
// under bench/ share it. It also starts a smartlaunch server on a loopback
// port over a fresh SQLite store in a temporary directory.
package load

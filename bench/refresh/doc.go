// Command refresh measures refresh-token rotation over HTTP: it starts a
// smartlaunch server on a loopback port with a fresh SQLite store, gives
// each worker its own authorization, and has the workers rotate their
// refresh tokens as fast as the server allows, at several concurrency
// levels. See bench/README.md.
package main

// Package ratelimit owns in-memory, per-key rate limits: Lockout, which
// counts failures and locks a key out for a fixed time once too many
// accumulate, and Buckets, a token bucket per key. Both take an injected
// clock, are safe for concurrent use, and bound their memory: keys are
// hashed to a fixed size, an entry is dropped once it no longer limits
// anything, and past MaxKeys the least recently touched key is evicted
// (forgetting it errs on the side of letting a request through).
//
// The limits are per process: several instances behind a load balancer
// each keep their own counts.
//
// It is a leaf package: the feature packages (internal/consent,
// internal/oauth) import it, and it imports only the standard library.
package ratelimit

// Package ratelimit owns in-memory, per-key rate limits: Lockout, which
// counts failures and locks a key out for a fixed time once too many
// accumulate, and Buckets, a token bucket per key. Both take an injected
// clock, are safe for concurrent use, and bound their memory: keys are
// hashed to a fixed size, an entry is dropped once it no longer limits
// anything, and past MaxKeys the least recently touched key is evicted
// (forgetting it errs on the side of letting a request through).
//
// SignIn combines three Lockouts into the sign-in limits that every
// password form of the server shares. Proxies and Client say who the
// client of a request is, the key of per-address limits and the address
// in the access log: the connection's peer, or, behind a trusted reverse
// proxy, the address it names in X-Forwarded-For.
//
// The limits are per process: several instances behind a load balancer
// each keep their own counts.
//
// It is a leaf package: the feature packages (internal/consent,
// internal/account, internal/ehr, internal/oauth), internal/server and
// internal/config import it, and it imports only the standard library.
package ratelimit

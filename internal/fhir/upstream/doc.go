// Package upstream is the HTTP side of smartlaunch's FHIR proxy mode, in
// which the /fhir API is served by forwarding each request to an upstream
// FHIR R4 server (HAPI, a cloud FHIR service) with the server's own
// credentials. Package fhir decides what a token may see; this package
// provides the mechanics of talking to the upstream and reshaping what it
// answers:
//
//   - [Client] sends a request relative to the upstream base, forwarding
//     only an allow-list of request headers and authenticating with a
//     static bearer token or an OAuth 2.0 client-credentials grant
//     (RFC 6749 §4.4), whose token is cached, renewed before it expires,
//     and renewed once more when the upstream answers 401. Responses are
//     limited in size and time.
//   - [RewriteURLs] rewrites the upstream's absolute URLs in a JSON
//     document into the proxy's own, touching nothing else.
//   - [BundleFilter] streams a Bundle from the upstream to the client one
//     entry at a time, letting a filter drop or change entries and
//     top-level members, so a large searchset never sits in memory whole.
//   - [MergeCapability] puts the proxy's SMART security block and base URL
//     into the upstream's CapabilityStatement.
//
// Errors are wrapped with %w around the sentinels [ErrUnavailable] (the
// upstream could not be reached or did not answer in time: 502 or 504),
// [ErrTooLarge] (a response body exceeded Config.MaxBodyBytes),
// [ErrBadResponse] (the upstream answered with a body that is not the
// document expected: 502) and [ErrBadRef] (a reference that would leave
// the upstream base).
//
// Package upstream is imported by internal/fhir and constructed from
// configuration in cmd. It imports only the standard library and
// golang.org/x/oauth2.
package upstream

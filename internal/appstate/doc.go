// Package appstate is smartlaunch's SMART App State endpoint (SMART App
// Launch 2.1 "Persisting App State", capability smart-app-state,
// R-STATE-*): a small FHIR R4 API over Basic resources in which apps keep
// configuration, stored in its own table (store.AppStates), apart from the
// ordinary FHIR resources (R-STATE-09, R-STATE-38).
//
// The server package mounts the Handler with http.StripPrefix at the URL
// it advertises as smart_app_state_endpoint (R-STATE-07), so the paths it
// sees are "/metadata", "/Basic" and "/Basic/{id}".
//
// # Interactions (R-STATE-08)
//
//   - POST /Basic creates (R-STATE-13..17): 201 with ETag W/"1", Location
//     and the stored resource. The body must be a Basic without id and
//     meta.versionId, with exactly one code.coding carrying a system and a
//     code, at most one subject, and top-level extensions each with a url
//     and a valueString only (no modifierExtension). The subject, when
//     present, must be an absolute reference FHIRBase + "/{Type}/{id}"
//     with Type one of Patient, Practitioner, PractitionerRole,
//     RelatedPerson and Person (R-STATE-14). Other elements are kept as
//     received; the server sets id, meta.versionId and meta.lastUpdated.
//   - PUT /Basic/{id} updates (R-STATE-18..21): If-Match must name the
//     latest version and subject and code must equal the stored ones, or
//     the answer is 412; the body's id must equal {id} (else 400).
//   - DELETE /Basic/{id} (R-STATE-22..25): If-Match must name the latest
//     version, else 412; 204 on success. The id is remembered: every later
//     request about it is answered 412 (R-STATE-24).
//   - GET /Basic?code=system|code&subject=<absolute reference> and
//     GET /Basic?code=system|code&subject:missing=true (R-STATE-26..28)
//     answer a searchset Bundle. code and exactly one of subject and
//     subject:missing=true are required; any other parameter is refused
//     with 400 (no lenient handling: the search is the access unit).
//   - GET /metadata answers a CapabilityStatement that instantiates
//     smart-app-state-server; it needs no token.
//
// A PUT or DELETE without If-Match is answered 412, as FHIR R4 http
// ("Managing Resource Contention") prescribes for servers that require
// version-aware updates, not 428. GET /Basic/{id} (read) is not part of
// the App State API and is answered 405. A body larger than
// Config.MaxBytes (256 KiB by default, R-STATE-13) is answered 413. Limits
// (R-STATE-11): any number of resources per state code and subject, each
// at most MaxBytes; state is kept until deleted (R-STATE-12).
//
// # Access control (R-STATE-30..37)
//
// Every request but /metadata carries an access token, checked by the
// Verifier (401 with its challenge otherwise, R-STATE-31). An interaction
// needs a granted scope on Basic (or *) with its permission: c for POST,
// u for PUT, d for DELETE, s for search. Among those, a scope counts only
// if its context fits the subject (R-STATE-32, R-STATE-35):
//
//   - subject = FHIRBase + "/Patient/" + the patient in context: patient/;
//   - subject = FHIRBase + "/" + the user's fhirUser: user/;
//   - no subject (global state): user/;
//   - any other subject: no scope; refused (R-STATE-37 "MAY reject").
//
// system/ scopes never reach App State. A scope with a query counts only
// if its query is exactly code=system|code naming the state code (a scope
// with any other parameter counts for nothing). A scope without a query
// counts only for state codes the app is trusted with by the default rule
// of R-STATE-33: the origin (scheme://host[:port]) of the code's system
// equals the origin of one of the client's registered redirect URIs or
// its launch URL. A scope naming the code explicitly bypasses that rule:
// such a scope was approved for the client when it was registered.
//
// Refusals follow D-4 of spec/attacks.md: no granted scope with the
// permission on Basic is 403. A POST or search naming a subject or state
// code the token may not use is 403 (the request itself names what is
// refused, so nothing about stored data is revealed). A PUT or DELETE of
// an id the token may not use is 404 with the same body as an unknown id,
// so that ids of other apps' and other subjects' state stay hidden; the
// access check comes before any precondition check (412) for that reason.
//
// Every answer is application/fhir+json; errors are OperationOutcome with
// fixed text, and internal errors are logged, never sent.
//
// Package appstate is imported by internal/server; it imports store and
// smart.
package appstate

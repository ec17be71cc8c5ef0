// Package fhir is smartlaunch's FHIR R4 resource server over the
// resources in a store.Resources — read, vread, create, update (with
// If-Match), JSON Patch, delete, conditional create and update, history at
// every level with every version kept, search, batch and transaction
// Bundles, Patient/$everything — with SMART App Launch 2.1 scope
// enforcement, and the loader that fills the store from transaction
// Bundles (package sampledata).
//
// Requests carry a bearer access token, checked by the TokenVerifier the
// server package hands to New; GET /metadata and CORS preflights need none.
// Every error is answered with an OperationOutcome; internal error text is
// logged, never sent.
//
// # Scope enforcement
//
// One decision function, definitions.decide, answers for every
// interaction (read, vread, history, search at type and system level,
// create, update, delete), using the SMART v2 permission each needs: r for
// read, vread and instance history; s for searches and type or system
// history; c, u and d for create, update and delete (v1 read = rs, write =
// cud). Its rule:
//
//   - The scopes that cover an interaction on a type are those of any
//     context (patient/, user/, system/) whose type is the type or * and
//     whose permissions include the letter. If none does, the answer is 403
//     (D-4).
//   - Each covering scope allows a set of resources. A user/ or system/
//     scope allows every resource of the type; a patient/ scope allows the
//     resources in the patient compartment of the patient in context (as
//     the FHIR R4 patient CompartmentDefinition defines it; a Patient is in
//     its own compartment), or every resource of a type that is never in a
//     patient compartment (Organization, Practitioner, Medication, ...),
//     and nothing without a patient context. A query on a scope
//     (patient/Observation.rs?category=laboratory) further limits it to the
//     resources that match the query as a FHIR search would; a query the
//     server cannot evaluate exactly (an unsupported parameter or
//     modifier) makes the scope allow nothing, never more.
//   - A resource is visible when ANY covering scope allows it: the union of
//     (compartment AND query) over the covering scopes. Scopes never
//     combine to narrow one another, and a broader scope is never
//     narrowed by a query scope beside it.
//   - If the covering scopes allow nothing at all, the answer is 403.
//     Otherwise a resource they do not allow is treated exactly as one that
//     does not exist: a read answers 404 with the same body (D-4), a search
//     never returns it.
//
// Searches apply the decision as one store query (ResourceQuery.AnyOf,
// the union). Reads fetch the resource and check it against each scope's
// clause on its stored compartments and index entries. Writes check the indexed new content (create, update, patch) and the
// stored one (update, patch, delete) the same way, so that a write can move
// nothing into or out of what the token may write; the store
// applies each write as a compare-and-swap on the version the decision was
// made on. Every version of a resource is kept with its own compartments
// and index, and history and vread judge each version on its own.
// Batch and transaction entries are decided exactly as if each was sent
// alone; a transaction's writes are stored all or none.
//
// Chained parameters, _has, _include and _revinclude never reveal a
// resource the token could not read directly: the resources a chain or
// _has looks at are confined by the read decision for their type (a _has
// over a type the token may not read is refused with 403), and included
// resources are filtered by it; when that leaves some out, the Bundle
// carries an OperationOutcome entry (search.mode = outcome) saying some
// included resources were withheld (D-6). For _revinclude that entry is
// present whenever the token may not read every resource of the
// referencing type, whatever the data, so that it never tells that hidden
// resources exist.
//
// # Search
//
// Supported parameters are listed in supportedParams and advertised in
// the CapabilityStatement. A parameter the server does not support is
// refused with 400 under "Prefer: handling=strict"; otherwise (lenient, the
// default) it is left out, the Bundle's self link shows only the applied
// parameters, and an OperationOutcome entry names the ones left out.
// Malformed values of supported parameters are always refused with 400.
//
// Indexing evaluates the FHIRPath expressions of search-parameters.json
// for the supported parameters and for the compartment parameters, using
// only the small subset of FHIRPath those expressions need: member paths,
// choice types, "as Type" and ".where(resolve() is Type)".
//
// # Proxy mode
//
// With Config.Upstream, the same API is served in front of another FHIR
// R4 server (package upstream holds the HTTP mechanics): the request is
// checked exactly as in embedded mode — token, scopes, parameters — and
// sent on with the server's own credentials, narrowed to what the token
// may see where the scopes allow it (a patient compartment search
// Patient/{id}/{type} and a scope's query, ANDed with the client's), and
// every resource the upstream answers is judged again, with the same
// decisions, before it is passed on: matches, includes and every version
// of a history. A Bundle is streamed through, one entry at a time;
// its total is kept only where it is exact. Chained parameters and _has
// are resolved here against the upstream, confined to what the token may
// read, and sent on as plain references. Paging links are rewritten onto
// this server's base with a MAC binding them to the authorization and
// to the link. Writes are decided on the stored version, fetched first,
// and sent with If-Match naming it; a transaction's entries are decided
// the same way, one by one, and the Bundle is sent on for the upstream to
// apply atomically. Reads in a transaction, conditional deletes, and
// conditional creates and updates for tokens that may not search a whole
// type are refused: their answers could not be judged before the writes,
// or the upstream would evaluate them over everything it holds.
//
// Package fhir is imported by internal/server; it imports store, smart,
// sampledata, fhirwire and its own upstream.
package fhir

// Package fhir is smartlaunch's FHIR R4 resource server: read and search
// over the resources in a store.Resources, with SMART App Launch 2.1 scope
// enforcement, and the loader that fills the store from transaction
// Bundles (package sampledata).
//
// Requests carry a bearer access token, checked by the TokenVerifier the
// server package hands to New; GET /metadata and CORS preflights need none.
// Every error is answered with an OperationOutcome; internal error text is
// logged, never sent.
//
// Scope enforcement. A type no scope grants is refused with 403. When only
// patient/ scopes grant a type, every read and search is confined to the
// patient compartment of Access.Patient (as defined by the FHIR R4 patient
// CompartmentDefinition; a Patient is in its own compartment). A read of a
// resource outside the compartment answers 404, exactly as for a resource
// that does not exist, so that a patient-scoped app cannot probe which ids
// exist. Types that can never be in a patient compartment (Organization,
// Practitioner, Location, Medication, ...) hold no patient data and are not
// confined. When every granting scope carries a query (SMART v2 granular
// scopes), the query is applied as an extra search filter.
//
// Indexing evaluates the FHIRPath expressions of search-parameters.json for
// the supported parameters (_id, patient, subject, category, code, date,
// status) and for the compartment parameters, using only the small subset of
// FHIRPath those expressions need: member paths, choice types, "as Type"
// and ".where(resolve() is Type)".
//
// Package fhir is imported by internal/server; it imports store, smart and
// sampledata.
package fhir

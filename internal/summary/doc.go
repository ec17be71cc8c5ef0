// Package summary turns stored FHIR resources into the few plain facts a
// page shows a person: a patient's name and birth date, a visit's type and
// date, a condition's name, an observation's name, value and date. It is
// used by the consent pages (the patient picker) and the EHR simulator.
//
// It imports only internal/store and the standard library.
package summary

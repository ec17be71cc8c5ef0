// Package sampledata embeds the synthetic FHIR R4 patients and the FHIR
// definitions smartlaunch serves and indexes by default.
//
// patients/ holds 23 transaction Bundles, one patient each: 19 Synthea
// patients from github.com/smart-on-fhir/generated-sample-data (Apache 2.0,
// Boston Children's Hospital) and 4 US Core test patients from
// github.com/inferno-framework/inferno-reference-server-data (Apache 2.0,
// The MITRE Corporation). definitions/ holds the official FHIR R4 patient
// CompartmentDefinition and search parameters (HL7, CC0). Every file is
// byte-identical to its upstream copy; SOURCE.md records the sources,
// commits and hashes, and licenses/ the licenses and notices that must
// travel with the data. No person in these files is real.
//
// Package sampledata imports only the standard library; any package may
// import it.
package sampledata

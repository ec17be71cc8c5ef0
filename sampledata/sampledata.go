package sampledata

import "embed"

// FS holds patients/*.json (transaction Bundles) and
// definitions/{compartmentdefinition-patient,search-parameters}.json.
//
//go:embed patients definitions
var FS embed.FS

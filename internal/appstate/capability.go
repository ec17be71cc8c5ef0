package appstate

import (
	"encoding/json"
	"time"
)

// Canonical URLs of the SMART App State artifacts (R-STATE-05).
const (
	capabilityURL = "http://hl7.org/fhir/smart-app-launch/CapabilityStatement/smart-app-state-server"
	profileURL    = "http://hl7.org/fhir/smart-app-launch/StructureDefinition/smart-app-state-basic"
)

// The parts of a FHIR R4 CapabilityStatement this endpoint fills in.
type (
	capability struct {
		ResourceType   string         `json:"resourceType"`
		Status         string         `json:"status"`
		Date           string         `json:"date"`
		Kind           string         `json:"kind"`
		Instantiates   []string       `json:"instantiates"`
		Software       software       `json:"software"`
		Implementation implementation `json:"implementation"`
		FHIRVersion    string         `json:"fhirVersion"`
		Format         []string       `json:"format"`
		Rest           []rest         `json:"rest"`
	}
	software struct {
		Name string `json:"name"`
	}
	implementation struct {
		Description string `json:"description"`
		URL         string `json:"url"`
	}
	rest struct {
		Mode     string     `json:"mode"`
		Security security   `json:"security"`
		Resource []resource `json:"resource"`
	}
	security struct {
		Service []codeableConcept `json:"service"`
	}
	codeableConcept struct {
		Coding []coding `json:"coding"`
	}
	coding struct {
		System string `json:"system"`
		Code   string `json:"code"`
	}
	resource struct {
		Type              string        `json:"type"`
		Profile           string        `json:"profile"`
		Interaction       []interaction `json:"interaction"`
		Versioning        string        `json:"versioning"`
		ReadHistory       bool          `json:"readHistory"`
		UpdateCreate      bool          `json:"updateCreate"`
		ConditionalCreate bool          `json:"conditionalCreate"`
		ConditionalUpdate bool          `json:"conditionalUpdate"`
		ConditionalDelete string        `json:"conditionalDelete"`
		SearchParam       []searchParam `json:"searchParam"`
	}
	interaction struct {
		Code string `json:"code"`
	}
	searchParam struct {
		Name          string `json:"name"`
		Type          string `json:"type"`
		Documentation string `json:"documentation"`
	}
)

// capabilityStatement returns the CapabilityStatement served at
// /metadata: an instance of smart-app-state-server with Basic's
// search-type, create, update and delete (R-STATE-05, R-STATE-08).
func capabilityStatement(base string, now time.Time) []byte {
	doc := capability{
		ResourceType:   "CapabilityStatement",
		Status:         "active",
		Date:           now.UTC().Format(time.RFC3339),
		Kind:           "instance",
		Instantiates:   []string{capabilityURL},
		Software:       software{Name: "smartlaunch"},
		Implementation: implementation{Description: "SMART App State endpoint", URL: base},
		FHIRVersion:    "4.0.1",
		Format:         []string{contentType},
		Rest: []rest{{
			Mode: "server",
			Security: security{Service: []codeableConcept{{Coding: []coding{{
				System: "http://terminology.hl7.org/CodeSystem/restful-security-service",
				Code:   "SMART-on-FHIR",
			}}}}},
			Resource: []resource{{
				Type:              "Basic",
				Profile:           profileURL,
				Interaction:       []interaction{{"search-type"}, {"create"}, {"update"}, {"delete"}},
				Versioning:        "versioned-update",
				ConditionalDelete: "not-supported",
				SearchParam: []searchParam{
					{"code", "token", "The state code, system|code, matched exactly"},
					{"subject", "reference", "The absolute subject reference, matched exactly; or subject:missing=true for global state"},
				},
			}},
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err) // only strings and bools above
	}
	return b
}

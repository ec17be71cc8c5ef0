package fhir

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// CapabilityStatement types (FHIR R4), only the elements served.
type (
	capStatement struct {
		ResourceType   string    `json:"resourceType"`
		Status         string    `json:"status"`
		Date           string    `json:"date"`
		Publisher      string    `json:"publisher"`
		Kind           string    `json:"kind"`
		Software       capName   `json:"software"`
		Implementation capImpl   `json:"implementation"`
		FHIRVersion    string    `json:"fhirVersion"`
		Format         []string  `json:"format"`
		Rest           []capRest `json:"rest"`
	}
	capName struct {
		Name string `json:"name"`
	}
	capImpl struct {
		Description string `json:"description"`
		URL         string `json:"url,omitempty"`
	}
	capRest struct {
		Mode        string           `json:"mode"`
		Security    capSecurity      `json:"security"`
		Resource    []capResource    `json:"resource"`
		Interaction []capInteraction `json:"interaction"`
	}
	capSecurity struct {
		Extension []extension       `json:"extension"`
		CORS      bool              `json:"cors"`
		Service   []codeableConcept `json:"service"`
	}
	extension struct {
		URL       string      `json:"url"`
		ValueURI  string      `json:"valueUri,omitempty"`
		Extension []extension `json:"extension,omitempty"`
	}
	codeableConcept struct {
		Coding []coding `json:"coding"`
		Text   string   `json:"text,omitempty"`
	}
	coding struct {
		System  string `json:"system"`
		Code    string `json:"code"`
		Display string `json:"display,omitempty"`
	}
	capOperation struct {
		Name       string `json:"name"`
		Definition string `json:"definition"`
	}
	capResource struct {
		Type              string           `json:"type"`
		Interaction       []capInteraction `json:"interaction"`
		Versioning        string           `json:"versioning"`
		ReadHistory       bool             `json:"readHistory"`
		UpdateCreate      bool             `json:"updateCreate"`
		ConditionalCreate bool             `json:"conditionalCreate"`
		ConditionalRead   string           `json:"conditionalRead"`
		ConditionalUpdate bool             `json:"conditionalUpdate"`
		ConditionalDelete string           `json:"conditionalDelete"`
		SearchInclude     []string         `json:"searchInclude,omitempty"`
		SearchRevInclude  []string         `json:"searchRevInclude,omitempty"`
		Operation         []capOperation   `json:"operation,omitempty"`
		SearchParam       []capSearchParam `json:"searchParam"`
	}
	capInteraction struct {
		Code string `json:"code"`
	}
	capSearchParam struct {
		Name       string `json:"name"`
		Definition string `json:"definition,omitempty"`
		Type       string `json:"type"`
	}
)

// oauthURIsExtension is SMART App Launch 2.1's CapabilityStatement
// extension naming the OAuth endpoints.
const oauthURIsExtension = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"

// capabilityStatement encodes the server's CapabilityStatement once.
func capabilityStatement(d *definitions, base string, o OAuthURIs, now time.Time, auditEvents bool) []byte {
	var oauth []extension
	for _, u := range []struct{ name, uri string }{
		{"authorize", o.Authorize}, {"token", o.Token}, {"revoke", o.Revoke},
		{"introspect", o.Introspect}, {"manage", o.Manage}, {"register", o.Register},
	} {
		if u.uri != "" {
			oauth = append(oauth, extension{URL: u.name, ValueURI: u.uri})
		}
	}
	cs := capStatement{
		ResourceType: "CapabilityStatement", Status: "active", Kind: "instance",
		Date: now.UTC().Format(time.RFC3339), Publisher: "smartlaunch",
		Software:       capName{Name: "smartlaunch"},
		Implementation: capImpl{Description: "smartlaunch FHIR R4 server", URL: base},
		FHIRVersion:    "4.0.1", Format: []string{"json"},
		Rest: []capRest{{
			Mode: "server",
			Security: capSecurity{
				Extension: []extension{{URL: oauthURIsExtension, Extension: oauth}},
				CORS:      true,
				Service: []codeableConcept{{Coding: []coding{{
					System:  "http://terminology.hl7.org/CodeSystem/restful-security-service",
					Code:    "SMART-on-FHIR",
					Display: "SMART-on-FHIR",
				}}, Text: "OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)"}},
			},
			Resource:    capResources(d),
			Interaction: []capInteraction{{"transaction"}, {"batch"}, {"search-system"}, {"history-system"}},
		}},
	}
	if auditEvents {
		cs.Rest[0].Resource = append(cs.Rest[0].Resource, auditEventResource)
	}
	b, err := json.Marshal(cs)
	if err != nil {
		panic(err) // only plain strings and slices: cannot fail
	}
	return b
}

// auditEventResource is the audit trail as the CapabilityStatement lists
// it: read and search only (auditEvents).
var auditEventResource = capResource{Type: "AuditEvent",
	Interaction: []capInteraction{{"read"}, {"search-type"}},
	Versioning:  "no-version", ConditionalRead: "not-supported", ConditionalDelete: "not-supported",
	SearchParam: []capSearchParam{
		{Name: "altid", Definition: "http://hl7.org/fhir/SearchParameter/AuditEvent-altid", Type: "token"},
		{Name: "date", Definition: "http://hl7.org/fhir/SearchParameter/AuditEvent-date", Type: "date"},
		{Name: "subtype", Definition: "http://hl7.org/fhir/SearchParameter/AuditEvent-subtype", Type: "token"},
	}}

// capResources lists, per type, the interactions served, the supported
// search parameters and the _include and _revinclude values accepted.
func capResources(d *definitions) []capResource {
	var out []capResource
	for _, typ := range d.typeNames() {
		td := d.types[typ]
		r := capResource{Type: typ, Interaction: []capInteraction{
			{"read"}, {"vread"}, {"update"}, {"patch"}, {"delete"}, {"history-instance"},
			{"history-type"}, {"create"}, {"search-type"}},
			Versioning: "versioned-update", ReadHistory: true, UpdateCreate: true, ConditionalCreate: true,
			ConditionalRead: "full-support", ConditionalUpdate: true, ConditionalDelete: "not-supported"}
		for _, sp := range td.search {
			r.SearchParam = append(r.SearchParam, capSearchParam{Name: sp.Code, Definition: sp.Definition, Type: sp.Type})
			if sp.Type == "reference" {
				r.SearchInclude = append(r.SearchInclude, typ+":"+sp.Code)
			}
		}
		for _, src := range d.typeNames() {
			for _, sp := range d.types[src].search {
				if sp.Type == "reference" && slices.Contains(sp.Targets, typ) {
					r.SearchRevInclude = append(r.SearchRevInclude, src+":"+sp.Code)
				}
			}
		}
		if typ == "Patient" {
			r.Operation = []capOperation{{Name: "everything", Definition: "http://hl7.org/fhir/OperationDefinition/Patient-everything"}}
		}
		slices.Sort(r.SearchInclude)
		slices.Sort(r.SearchRevInclude)
		slices.SortFunc(r.SearchParam, func(a, b capSearchParam) int { return strings.Compare(a.Name, b.Name) })
		out = append(out, r)
	}
	return out
}

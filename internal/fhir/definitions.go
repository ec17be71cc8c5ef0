package fhir

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// definitions are the resource types the server knows, with the search
// parameters it supports for each and the paths that put a resource in a
// patient compartment. They are read once from a CompartmentDefinition and
// a search-parameters Bundle and are read-only afterwards.
type definitions struct {
	types map[string]*typeDefs
}

// typeDefs are the definitions of one resource type.
type typeDefs struct {
	search map[string]searchParam
	// compartment are the reference paths linking the type to a Patient;
	// empty for types that are never in a patient compartment.
	compartment []path
}

// searchParam is one supported search parameter of one type.
type searchParam struct {
	Code       string
	Type       string // "token", "reference", "date" or "string"
	Definition string // canonical URL of the SearchParameter
	Targets    []string
	paths      []path
}

// supportedParams are the search parameters served, with their FHIR
// types. A code whose definition for some type has another FHIR type is
// not served for that type.
var supportedParams = map[string]string{
	"_id": "token", "patient": "reference", "subject": "reference",
	"category": "token", "code": "token", "date": "date", "status": "token", "identifier": "token",
	"name": "string", "family": "string", "given": "string", "gender": "token", "birthdate": "date",
	"requester": "reference", "practitioner": "reference", "performer": "reference",
	"encounter": "reference", "organization": "reference", "general-practitioner": "reference",
	"author": "reference", "medication": "reference", "participant": "reference",
	"location": "reference", "service-provider": "reference", "asserter": "reference",
	"recorder": "reference", "target": "reference",
}

const (
	compartmentFile = "definitions/compartmentdefinition-patient.json"
	searchParamFile = "definitions/search-parameters.json"
)

// loadDefinitions reads the patient CompartmentDefinition and the search
// parameter Bundle under definitions/ in fsys.
func loadDefinitions(fsys fs.FS) (*definitions, error) {
	comp, err := readCompartment(fsys)
	if err != nil {
		return nil, err
	}
	d := &definitions{types: map[string]*typeDefs{}}
	for typ := range comp {
		d.types[typ] = &typeDefs{search: map[string]searchParam{
			"_id": {Code: "_id", Type: "token", Definition: "http://hl7.org/fhir/SearchParameter/Resource-id"},
		}}
	}
	if err := d.readSearchParams(fsys, comp); err != nil {
		return nil, err
	}
	return d, nil
}

// readCompartment returns, for every resource type, the search parameters
// that link it to the Patient compartment.
func readCompartment(fsys fs.FS) (map[string][]string, error) {
	b, err := fs.ReadFile(fsys, compartmentFile)
	if err != nil {
		return nil, fmt.Errorf("fhir: definitions: %w", err)
	}
	var cd struct {
		Code     string `json:"code"`
		Resource []struct {
			Code  string   `json:"code"`
			Param []string `json:"param"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(b, &cd); err != nil {
		return nil, fmt.Errorf("fhir: definitions: %s: %w", compartmentFile, err)
	}
	if cd.Code != "Patient" || len(cd.Resource) == 0 {
		return nil, fmt.Errorf("fhir: definitions: %s is not the Patient compartment", compartmentFile)
	}
	out := make(map[string][]string, len(cd.Resource))
	for _, r := range cd.Resource {
		out[r.Code] = r.Param
	}
	return out, nil
}

// readSearchParams keeps, from the search parameter Bundle, the supported
// parameters and the compartment parameters of every known type.
func (d *definitions) readSearchParams(fsys fs.FS, comp map[string][]string) error {
	b, err := fs.ReadFile(fsys, searchParamFile)
	if err != nil {
		return fmt.Errorf("fhir: definitions: %w", err)
	}
	var bundle struct {
		Entry []struct {
			Resource struct {
				URL        string   `json:"url"`
				Code       string   `json:"code"`
				Base       []string `json:"base"`
				Type       string   `json:"type"`
				Expression string   `json:"expression"`
				Target     []string `json:"target"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		return fmt.Errorf("fhir: definitions: %s: %w", searchParamFile, err)
	}
	for _, e := range bundle.Entry {
		sp := e.Resource
		for _, base := range sp.Base {
			td := d.types[base]
			if td == nil {
				continue
			}
			paths := parseExpression(sp.Expression, base)
			if slices.Contains(comp[base], sp.Code) && sp.Type == "reference" {
				td.compartment = append(td.compartment, paths...)
			}
			if t, ok := supportedParams[sp.Code]; ok && t == sp.Type && sp.Code != "_id" && len(paths) > 0 {
				td.search[sp.Code] = searchParam{Code: sp.Code, Type: sp.Type, Definition: sp.URL,
					Targets: targets(sp.Target, paths), paths: paths}
			}
		}
	}
	return nil
}

// targets narrows a reference parameter's target types to those its
// paths can index: "patient" declares Patient and Group, but its paths keep
// only references that resolve to a Patient.
func targets(declared []string, paths []path) []string {
	var only []string
	for _, p := range paths {
		if p.resolveIs == "" {
			return declared
		}
		if !slices.Contains(only, p.resolveIs) {
			only = append(only, p.resolveIs)
		}
	}
	return only
}

// parseExpression returns the paths of expr (a "|"-separated FHIRPath
// union) that start at typ, skipping parts it cannot evaluate.
func parseExpression(expr, typ string) []path {
	var out []path
	for _, part := range strings.Split(expr, "|") {
		if p, ok := parsePath(strings.TrimSpace(part)); ok && p.base == typ {
			out = append(out, p)
		}
	}
	return out
}

// known reports whether typ is a resource type the server serves.
func (d *definitions) known(typ string) bool { return d.types[typ] != nil }

// param returns the supported search parameter code of typ.
func (d *definitions) param(typ, code string) (searchParam, bool) {
	td := d.types[typ]
	if td == nil {
		return searchParam{}, false
	}
	p, ok := td.search[code]
	return p, ok
}

// inCompartment reports whether resources of typ can be in a patient
// compartment.
func (d *definitions) inCompartment(typ string) bool {
	td := d.types[typ]
	return typ == "Patient" || td != nil && len(td.compartment) > 0
}

// typeNames returns the served types in order.
func (d *definitions) typeNames() []string {
	out := make([]string, 0, len(d.types))
	for t := range d.types {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

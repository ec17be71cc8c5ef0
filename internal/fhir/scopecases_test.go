package fhir

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// pred selects sample entries.
type pred func(e sampleEntry) bool

func (p pred) and(q pred) pred { return func(e sampleEntry) bool { return p(e) && q(e) } }
func (p pred) or(q pred) pred  { return func(e sampleEntry) bool { return p(e) || q(e) } }

func ofType(typ string) pred { return func(e sampleEntry) bool { return e.Type == typ } }

// in selects the resources of typ in patient's compartment.
func in(typ, patient string) pred {
	return func(e sampleEntry) bool { return e.Type == typ && e.inCompartmentOf(patient) }
}

func category(c string) pred { return func(e sampleEntry) bool { return has(e.Category, c) } }
func code(c string) pred     { return func(e sampleEntry) bool { return slices.Contains(e.Code, c) } }

// nameStarts selects Patients with a HumanName part (family, given,
// prefix, suffix, text) at path starting with prefix, ignoring case.
func nameStarts(prefix string, parts ...string) pred {
	return func(e sampleEntry) bool {
		for _, n := range asList(e.Raw["name"]) {
			n, _ := n.(map[string]any)
			for _, k := range parts {
				for _, v := range append(asList(n[k]), n[k]) {
					if s, ok := v.(string); ok && strings.HasPrefix(strings.ToLower(s), prefix) {
						return true
					}
				}
			}
		}
		return false
	}
}

func field(name, value string) pred {
	return func(e sampleEntry) bool { s, _ := e.Raw[name].(string); return s == value }
}

var (
	lab, labSys          = category("laboratory"), category(obsCategory + "|laboratory")
	obs355, cond355      = in("Observation", p355), in("Condition", p355)
	esc                  = url.QueryEscape
	subject355      pred = func(e sampleEntry) bool { return slices.Contains(e.refsAt("subject"), "Patient/"+p355) }
)

func one(ref string) []string { return []string{ref} }

// caseBuilder builds the cases of TestScopesOnSampleData from the oracle.
type caseBuilder struct {
	t     *testing.T
	f     sampleFacts
	byRef map[string]sampleEntry
	cases []scopeCase
}

func (b *caseBuilder) ids(p pred) []string { return oracleIDs(b.t, p) }

func (b *caseBuilder) add(token string, cs ...scopeCase) {
	for _, c := range cs {
		c.token = token
		b.cases = append(b.cases, c)
	}
}

// visible355 is what patient/*.read in the context of 355 allows of an
// existing resource.
func (b *caseBuilder) visible355(ref string) bool {
	e, ok := b.byRef[ref]
	return ok && (!compartmentType(b.t, e.Type) || e.inCompartmentOf(p355))
}

// refs returns the existing resources with prefix referenced at path by
// the entries p selects that patient/*.read shows, and whether it hides
// some.
func (b *caseBuilder) refs(p pred, prefix string, path ...string) (shown []string, hidden bool) {
	for _, e := range sampleEntries(b.t) {
		for _, r := range e.refsAt(path...) {
			if !p(e) || !strings.HasPrefix(r, prefix) || b.byRef[r].Type == "" {
				continue
			}
			if b.visible355(r) {
				shown = append(shown, r)
			} else {
				hidden = true
			}
		}
	}
	slices.Sort(shown)
	return slices.Compact(shown), hidden
}

// scopeCases are the cases of TestScopesOnSampleData. Tokens (see there):
// star patient/*.read; lab and labsys patient/Observation.rs?category=
// laboratory (code, system|code); problems patient/Condition.rs?category=
// problem-list-item; userpt user/Patient.rs; sonly patient/Observation.s;
// union a patient lab scope beside a user scope on one code; labpt
// patient/Patient.rs with the lab scope; chadobs user/Patient.rs with
// patient/Observation.rs. The patient in context is 355 except for chadobs.
func scopeCases(t *testing.T, f sampleFacts) []scopeCase {
	b := &caseBuilder{t: t, f: f, byRef: map[string]sampleEntry{}}
	for _, e := range sampleEntries(t) {
		b.byRef[e.Type+"/"+e.ID] = e
	}
	b.starCases()
	b.labCases()
	b.problemCases()
	b.userPatientCases()
	b.searchOnlyCases()
	b.unionCases()
	return b.cases
}

// starCases: patient/*.read (v1).
func (b *caseBuilder) starCases() {
	requesters, requesterHidden := b.refs(in("MedicationRequest", p355), "", "requester")
	practitioners, practitionerHidden := b.refs(in("Encounter", p355), "Practitioner/", "participant", "individual")
	org := b.ids(ofType("Organization"))[0]
	b.add("star",
		scopeCase{name: "read own Patient", path: "/Patient/" + p355, status: 200, want: one("Patient/" + p355)},
		scopeCase{name: "read another Patient is 404 (D-4)", path: "/Patient/" + chad, status: 404, code: "not-found"},
		scopeCase{name: "read own Observation", path: "/Observation/" + b.f.labObs, status: 200, want: one("Observation/" + b.f.labObs)},
		scopeCase{name: "read another patient's Observation is 404 (D-4)", path: "/Observation/" + b.f.otherLabObs, status: 404, code: "not-found"},
		scopeCase{name: "read a non-compartment Organization", path: "/" + org, status: 200, want: one(org)},
		scopeCase{name: "vread", path: "/Observation/" + b.f.labObs + "/_history/1", status: 200, want: one("Observation/" + b.f.labObs)},
		scopeCase{name: "vread of a version not kept is 404", path: "/Observation/" + b.f.labObs + "/_history/2", status: 404, code: "not-found"},
		scopeCase{name: "vread of another patient's is 404", path: "/Observation/" + b.f.otherLabObs + "/_history/1", status: 404, code: "not-found"},
		scopeCase{name: "instance history", path: "/Observation/" + b.f.labObs + "/_history", status: 200, want: one("Observation/" + b.f.labObs)},
		scopeCase{name: "instance history of another patient's is 404", path: "/Observation/" + b.f.otherLabObs + "/_history", status: 404, code: "not-found"},
		scopeCase{name: "search is the compartment", path: "/Observation?_count=200", status: 200, want: b.ids(obs355)},
		scopeCase{name: "search with a filter", path: "/Observation?category=laboratory&_count=200", status: 200, want: b.ids(obs355.and(lab))},
		scopeCase{name: "search of another patient is empty", path: "/Observation?patient=" + chad, status: 200, want: nil},
		scopeCase{name: "type history", path: "/Condition/_history?_count=200", status: 200, want: b.ids(cond355)},
		scopeCase{name: "system search", path: "/?_type=Observation,Condition&_count=200", status: 200, want: b.ids(obs355.or(cond355))},
		scopeCase{name: "system search by _id", path: "/?_type=Patient&_id=" + p355 + "," + chad, status: 200, want: one("Patient/" + p355)},
		scopeCase{name: "_include patient", path: "/Observation?category=laboratory&_include=Observation:patient&_count=200",
			status: 200, want: b.ids(obs355.and(lab)), include: one("Patient/" + p355)},
		scopeCase{name: "_include requester", path: "/MedicationRequest?_include=MedicationRequest:requester&_count=200",
			status: 200, want: b.ids(in("MedicationRequest", p355)), include: requesters, withheld: requesterHidden},
		scopeCase{name: "_include practitioner", path: "/Encounter?_include=Encounter:practitioner&_count=200",
			status: 200, want: b.ids(in("Encounter", p355)), include: practitioners, withheld: practitionerHidden},
		scopeCase{name: "_revinclude (D-6: reported whenever the type is restricted)", path: "/Patient?_revinclude=Observation:subject",
			status: 200, want: one("Patient/" + p355), include: b.ids(ofType("Observation").and(subject355)), withheld: true},
		scopeCase{name: "chain patient.gender", path: "/Observation?patient.gender=male&_count=200", status: 200, want: b.ids(obs355)},
		scopeCase{name: "chain patient.gender no match", path: "/Observation?patient.gender=female", status: 200, want: nil},
		scopeCase{name: "chain subject:Patient.birthdate", path: "/Observation?subject:Patient.birthdate=1940-09-05&_count=200", status: 200, want: b.ids(obs355)},
		scopeCase{name: "chain subject.gender", path: "/Observation?subject.gender=male&_count=200", status: 200, want: b.ids(obs355)},
		scopeCase{name: "chain to another patient's _id finds nothing", path: "/Observation?patient._id=" + chad, status: 200, want: nil},
		scopeCase{name: "_has", path: "/Patient?_has:Observation:patient:code=" + esc(b.f.sharedLab), status: 200, want: one("Patient/" + p355)},
	)
}

// labCases: patient/Observation.rs?category=laboratory, with the code and
// the system|code forms.
func (b *caseBuilder) labCases() {
	for _, tok := range []string{"lab", "labsys"} {
		b.add(tok,
			scopeCase{name: "read own lab Observation", path: "/Observation/" + b.f.labObs, status: 200, want: one("Observation/" + b.f.labObs)},
			scopeCase{name: "read own non-lab Observation is 404 (query mismatch, D-4)", path: "/Observation/" + b.f.vitalObs, status: 404, code: "not-found"},
			scopeCase{name: "read another patient's lab Observation is 404", path: "/Observation/" + b.f.otherLabObs, status: 404, code: "not-found"},
			scopeCase{name: "search is the query", path: "/Observation?_count=200", status: 200, want: b.ids(obs355.and(labSys))},
		)
	}
	b.add("lab",
		scopeCase{name: "read Patient is 403 (type not covered, D-4)", path: "/Patient/" + p355, status: 403, code: "forbidden"},
		scopeCase{name: "search is intersected with the query", path: "/Observation?category=vital-signs", status: 200, want: nil},
		scopeCase{name: "search by code", path: "/Observation?code=" + esc(b.f.sharedLab) + "&_count=200", status: 200,
			want: b.ids(obs355.and(lab).and(code(b.f.sharedLab)))},
		scopeCase{name: "type history", path: "/Observation/_history?_count=200", status: 200, want: b.ids(obs355.and(lab))},
		scopeCase{name: "system search", path: "/?_type=Observation&_count=200", status: 200, want: b.ids(obs355.and(lab))},
		scopeCase{name: "system search without _type", path: "/?_count=200", status: 200, want: b.ids(obs355.and(lab))},
		scopeCase{name: "system search naming an uncovered type is 403", path: "/?_type=Observation,Patient", status: 403, code: "forbidden"},
		scopeCase{name: "_include of an unreadable type is withheld (D-6)", path: "/Observation?_include=Observation:patient&_count=200",
			status: 200, want: b.ids(obs355.and(lab)), withheld: true},
		scopeCase{name: "chain over an unreadable type is 403", path: "/Observation?patient.gender=male", status: 403, code: "forbidden"},
	)
}

// problemCases: patient/Condition.rs?category=problem-list-item.
func (b *caseBuilder) problemCases() {
	b.add("problems",
		scopeCase{name: "search is the problem list", path: "/Condition?_count=200", status: 200,
			want: b.ids(cond355.and(category(condCategory + "|problem-list-item")))},
		scopeCase{name: "read a problem", path: "/Condition/" + b.f.problem, status: 200, want: one("Condition/" + b.f.problem)},
		scopeCase{name: "read an encounter diagnosis is 404 (D-4)", path: "/Condition/" + b.f.encDiag, status: 404, code: "not-found"},
		scopeCase{name: "search is intersected", path: "/Condition?category=encounter-diagnosis", status: 200, want: nil},
		scopeCase{name: "_include patient withheld (D-6)", path: "/Condition?_include=Condition:patient", status: 200,
			want: b.ids(cond355.and(category("problem-list-item"))), withheld: true},
		scopeCase{name: "Observation search is 403", path: "/Observation", status: 403, code: "forbidden"},
		scopeCase{name: "Patient search with _revinclude is 403", path: "/Patient?_revinclude=Condition:patient", status: 403, code: "forbidden"},
	)
}

// userPatientCases: user/Patient.rs.
func (b *caseBuilder) userPatientCases() {
	allPatients := b.ids(ofType("Patient"))
	b.add("userpt",
		scopeCase{name: "read any Patient", path: "/Patient/" + chad, status: 200, want: one("Patient/" + chad)},
		scopeCase{name: "read Observation is 403", path: "/Observation/" + b.f.labObs, status: 403, code: "forbidden"},
		scopeCase{name: "search all", path: "/Patient?_count=200", status: 200, want: allPatients},
		scopeCase{name: "search by gender", path: "/Patient?gender=female&_count=200", status: 200, want: b.ids(ofType("Patient").and(field("gender", "female")))},
		scopeCase{name: "search by birthdate", path: "/Patient?birthdate=lt1950&_count=200", status: 200,
			want: b.ids(ofType("Patient").and(func(e sampleEntry) bool { s, _ := e.Raw["birthDate"].(string); return s < "1950" }))},
		scopeCase{name: "search by name prefix", path: "/Patient?name=CHA", status: 200,
			want: b.ids(ofType("Patient").and(nameStarts("cha", "family", "given", "prefix", "suffix", "text")))},
		scopeCase{name: "search by family", path: "/Patient?family=quig", status: 200, want: b.ids(ofType("Patient").and(nameStarts("quig", "family")))},
		scopeCase{name: "_revinclude of an unreadable type (D-6)", path: "/Patient?_revinclude=Observation:subject&_count=200",
			status: 200, want: allPatients, withheld: true},
		scopeCase{name: "_has over an unreadable type is 403", path: "/Patient?_has:Observation:patient:code=x", status: 403, code: "forbidden"},
		scopeCase{name: "chain to unreadable types is 403", path: "/Patient?general-practitioner.name=x", status: 403, code: "forbidden"},
		scopeCase{name: "system search without _type", path: "/?_count=200", status: 200, want: allPatients},
		scopeCase{name: "system search naming Observation is 403", path: "/?_type=Patient,Observation", status: 403, code: "forbidden"},
		scopeCase{name: "type history", path: "/Patient/_history?_count=200", status: 200, want: allPatients},
	)
}

// searchOnlyCases: patient/Observation.s (search but no read).
func (b *caseBuilder) searchOnlyCases() {
	b.add("sonly",
		scopeCase{name: "read is 403 (no r)", path: "/Observation/" + b.f.labObs, status: 403, code: "forbidden"},
		scopeCase{name: "vread is 403", path: "/Observation/" + b.f.labObs + "/_history/1", status: 403, code: "forbidden"},
		scopeCase{name: "instance history is 403", path: "/Observation/" + b.f.labObs + "/_history", status: 403, code: "forbidden"},
		scopeCase{name: "search", path: "/Observation?_count=200", status: 200, want: b.ids(obs355)},
		scopeCase{name: "type history", path: "/Observation/_history?_count=200", status: 200, want: b.ids(obs355)},
		scopeCase{name: "system search", path: "/?_type=Observation&_count=200", status: 200, want: b.ids(obs355)},
		scopeCase{name: "_include withheld (D-6)", path: "/Observation?_include=Observation:patient&_count=200",
			status: 200, want: b.ids(obs355), withheld: true},
		scopeCase{name: "chain is 403", path: "/Observation?patient.gender=male", status: 403, code: "forbidden"},
		scopeCase{name: "_has on Patient is 403", path: "/Patient?_has:Observation:patient:code=x", status: 403, code: "forbidden"},
	)
}

// unionCases: several scopes covering one type (any scope allows), and
// _has never looking beyond them.
func (b *caseBuilder) unionCases() {
	chadHasShared := func(e sampleEntry) bool {
		return e.Type == "Patient" && e.ID == chad && len(b.ids(in("Observation", chad).and(code(b.f.sharedLab)))) > 0
	}
	b.add("union",
		scopeCase{name: "search is the union of the scopes", path: "/Observation?_count=200", status: 200,
			want: b.ids(obs355.and(lab).or(ofType("Observation").and(code(b.f.sharedLab))))},
		scopeCase{name: "read another patient's Observation with the user scope's code", path: "/Observation/" + b.f.otherShared,
			status: 200, want: one("Observation/" + b.f.otherShared)},
		scopeCase{name: "read another patient's other Observation is 404", path: "/Observation/" + b.f.otherObs, status: 404, code: "not-found"},
		scopeCase{name: "search another patient", path: "/Observation?patient=" + chad + "&_count=200", status: 200,
			want: b.ids(in("Observation", chad).and(code(b.f.sharedLab)))},
	)
	b.add("labpt",
		scopeCase{name: "_has does not see Observations hidden by the query", path: "/Patient?_has:Observation:patient:code=" + esc(b.f.vitalOnly),
			status: 200, want: nil},
		scopeCase{name: "_has within the query", path: "/Patient?_has:Observation:patient:code=" + esc(b.f.sharedLab), status: 200, want: one("Patient/" + p355)},
		scopeCase{name: "_revinclude keeps only lab Observations (D-6)", path: "/Patient?_revinclude=Observation:subject", status: 200,
			want: one("Patient/" + p355), include: b.ids(ofType("Observation").and(subject355).and(lab)), withheld: true},
		scopeCase{name: "_include patient", path: "/Observation?_include=Observation:patient&_count=200", status: 200,
			want: b.ids(obs355.and(lab)), include: one("Patient/" + p355)},
		scopeCase{name: "chain within the query", path: "/Observation?patient.gender=male&_count=200", status: 200, want: b.ids(obs355.and(lab))},
	)
	b.add("chadobs",
		scopeCase{name: "_has sees the patient's Observations", path: "/Patient?_has:Observation:patient:code=" + esc(b.f.chadShared),
			status: 200, want: one("Patient/" + chad)},
		scopeCase{name: "_has never sees other patients' Observations", path: "/Patient?_has:Observation:patient:code=" + esc(b.f.sharedLab),
			status: 200, want: b.ids(chadHasShared)},
	)
}

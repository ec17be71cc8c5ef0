package fhir

import (
	"bytes"
	"context"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/sampledata"
)

func TestLoadSampleData(t *testing.T) {
	st := sampleStore(t)
	t.Logf("loaded %d entries in %v", sharedN, sharedTook)
	entries := sampleEntries(t)
	if sharedN != len(entries) || sharedN != 4519 {
		t.Errorf("Load = %d entries, want %d (SOURCE.md: 4519)", sharedN, len(entries))
	}
	unique := map[string]bool{}
	for _, e := range entries {
		unique[e.Type+"/"+e.ID] = true
	}
	if n, err := st.CountResources(t.Context()); err != nil || n != len(unique) {
		t.Errorf("CountResources = %d, %v; want %d unique resources", n, err, len(unique))
	}
	for _, tc := range []struct {
		typ  string
		want int
	}{
		{"Patient", 23}, {"Observation", 1917}, {"Encounter", 521}, {"DocumentReference", 49},
	} {
		_, total, err := st.SearchResources(t.Context(), store.ResourceQuery{Type: tc.typ})
		if err != nil || total != tc.want {
			t.Errorf("%s total = %d, %v; want %d (SOURCE.md)", tc.typ, total, err, tc.want)
		}
	}
}

func TestLoadResolvesReferences(t *testing.T) {
	st := sampleStore(t)
	// A Synthea (urn:uuid) Observation of Chad Quigley.
	var obs sampleEntry
	for _, e := range sampleEntries(t) {
		if e.Type == "Observation" && e.Patient == chad {
			obs = e
			break
		}
	}
	r, err := st.GetResource(t.Context(), "Observation", obs.ID)
	if err != nil {
		t.Fatalf("GetResource: %v", err)
	}
	if bytes.Contains(r.JSON, []byte("urn:uuid:")) {
		t.Errorf("stored Observation still has urn:uuid references: %s", r.JSON)
	}
	if !bytes.Contains(r.JSON, []byte(`"reference":"Patient/`+chad+`"`)) {
		t.Errorf("stored Observation lacks the resolved subject reference")
	}
	if !bytes.HasPrefix(r.JSON, []byte(`{"resourceType":"Observation",`)) || r.VersionID != "1" || r.LastUpdated.IsZero() {
		t.Errorf("stored Observation = version %q, updated %v, JSON starting %.40s", r.VersionID, r.LastUpdated, r.JSON)
	}
	if len(r.Patients) != 1 || r.Patients[0] != chad {
		t.Errorf("Observation compartments = %v, want [%s]", r.Patients, chad)
	}
}

// subsetFS holds two Bundles that share Organization and Practitioner ids.
func subsetFS(t *testing.T) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	for _, name := range []string{
		"patients/Chad_Quigley_b9737c68-296c-46fa-9a3c-aca513681a73.json",
		"patients/inferno_uscore_bundle_patient_client_test.json",
	} {
		b, err := fs.ReadFile(sampledata.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		m[name] = &fstest.MapFile{Data: b}
	}
	return m
}

func TestLoadIdempotent(t *testing.T) {
	st := emptyStore(t)
	ctx := context.Background()
	fsys := subsetFS(t)
	var counts []int
	for range 2 {
		n, err := Load(ctx, st, fsys)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		c, err := st.CountResources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 193+54 {
			t.Errorf("Load = %d, want %d", n, 193+54)
		}
		counts = append(counts, c)
	}
	if counts[0] != counts[1] || counts[0] != 193+54 {
		t.Errorf("resource counts after two loads = %v, want %d twice", counts, 193+54)
	}
	_, total, err := st.SearchResources(ctx, store.ResourceQuery{Type: "Observation", Patient: "us-core-client-tests-patient"})
	if err != nil || total == 0 {
		t.Errorf("client-test patient's Observations = %d, %v; want some (PUT Type/id bundle)", total, err)
	}
}

func TestLoadRejectsNonTransaction(t *testing.T) {
	fsys := fstest.MapFS{"patients/x.json": {Data: []byte(`{"resourceType":"Bundle","type":"searchset"}`)}}
	if _, err := Load(t.Context(), emptyStore(t), fsys); err == nil {
		t.Errorf("Load of a searchset Bundle: got no error")
	}
}

package summary

import (
	"testing"

	"github.com/smartlaunch/smartlaunch/internal/store"
)

func TestOfPatient(t *testing.T) {
	tests := []struct {
		name, json string
		want       Patient
	}{
		{"given and family", `{"name":[{"given":["Jill"],"family":"Tillman"}],"birthDate":"1971-05-18","gender":"female"}`,
			Patient{ID: "p", Name: "Jill Tillman", BirthDate: "1971-05-18", Gender: "female"}},
		{"text wins", `{"name":[{"text":"Peter James Chalmers","family":"Chalmers"}]}`, Patient{ID: "p", Name: "Peter James Chalmers"}},
		{"no name", `{}`, Patient{ID: "p", Name: "Patient p"}},
		{"not JSON", `{`, Patient{ID: "p", Name: "Patient p"}},
	}
	for _, tt := range tests {
		if got := OfPatient(store.Resource{ID: "p", JSON: []byte(tt.json)}); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestOfItems(t *testing.T) {
	got := OfItems([]store.Resource{
		{ID: "o1", JSON: []byte(`{"code":{"coding":[{"display":"Body Weight"}]},"effectiveDateTime":"2019-01-02T10:00:00Z","valueQuantity":{"value":70.5,"unit":"kg"}}`)},
		{ID: "e1", JSON: []byte(`{"type":[{"text":"Office visit"}],"period":{"start":"2020-03-04T09:00:00Z"}}`)},
		{ID: "c1", JSON: []byte(`{"code":{"text":"Hypertension"},"onsetDateTime":"2018-07-01"}`)},
	})
	want := []Item{
		{ID: "e1", Date: "2020-03-04", Text: "Office visit"},
		{ID: "o1", Date: "2019-01-02", Text: "Body Weight", Value: "70.5 kg"},
		{ID: "c1", Date: "2018-07-01", Text: "Hypertension"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d items, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("item %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

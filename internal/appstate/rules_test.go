package appstate

import "testing"

// R-STATE-33: the origin compared by the default trust rule.
func TestOrigin(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"https://app.example.org/state", "https://app.example.org", true},
		{"HTTPS://App.Example.org:443/x", "https://app.example.org", true},
		{"http://app.example.org:80", "http://app.example.org", true},
		{"http://127.0.0.1:9000/cb?x=1", "http://127.0.0.1:9000", true},
		{"https://app.example.org:8443", "https://app.example.org:8443", true},
		{"https://[::1]:8443/x", "https://[::1]:8443", true},
		{"https://[::1]/x", "https://[::1]", true},
		{"urn:uuid:1234", "", false},
		{"app.example.org/state", "", false},
		{"ftp://app.example.org", "", false},
		{"https://", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := origin(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("origin(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// R-STATE-13, R-STATE-14: subjects are absolute references into the FHIR
// server to the five supported types.
func TestCheckSubject(t *testing.T) {
	h := New(Config{FHIRBase: "https://ehr.example/fhir/"})
	for _, typ := range []string{"Patient", "Practitioner", "PractitionerRole", "RelatedPerson", "Person"} {
		if err := h.checkSubject("https://ehr.example/fhir/" + typ + "/a-1.b"); err != nil {
			t.Errorf("%s subject refused: %v", typ, err)
		}
	}
	for _, ref := range []string{
		"Patient/a", "https://ehr.example/fhir/Organization/a", "https://ehr.example/fhir/Patient/",
		"https://ehr.example/fhir/Patient/a/_history/1", "https://ehr.example/fhirx/Patient/a",
		"https://other.example/fhir/Patient/a", "https://ehr.example/fhir/Patient/a b",
	} {
		if err := h.checkSubject(ref); err == nil {
			t.Errorf("subject %q accepted", ref)
		}
	}
}

// If-Match accepts the weak and strong forms of a version ETag only.
func TestParseIfMatch(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{`W/"1"`, 1, true},
		{`"12"`, 12, true},
		{` W/"3" `, 3, true},
		{`*`, 0, false},
		{``, 0, false},
		{`W/"0"`, 0, false},
		{`W/"x"`, 0, false},
		{`W/1`, 0, false},
		{`W/"1", W/"2"`, 0, false},
	}
	for _, tt := range tests {
		got, ok := parseIfMatch(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseIfMatch(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

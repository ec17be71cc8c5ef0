package appstate_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// query encodes an App State search: subject "" searches global state.
func query(code, subject string) string {
	v := url.Values{"code": {code}}
	if subject == "" {
		v.Set("subject:missing", "true")
	} else {
		v.Set("subject", subject)
	}
	return v.Encode()
}

// R-STATE-13, R-STATE-15, R-STATE-16, R-STATE-17: a create assigns id and
// versionId 1, persists subject, code and extensions, and answers 201 with
// ETag, Location and the persisted resource.
func TestCreatePersists(t *testing.T) {
	e := newEnv(t, 0)
	body := `{"resourceType":"Basic","subject":{"reference":"` + patientRef + `"},` +
		`"code":{"coding":[{"system":"https://app.example.org/state","code":"prefs"}]},` +
		`"extension":[{"url":"https://app.example.org/a","valueString":"<b>kept as is</b>"},` +
		`{"url":"https://app.example.org/b","valueString":"2"}],"meta":{"tag":[{"code":"t"}]}}`
	r := e.do(t, "POST", "/Basic", "patient", body)
	r.want(t, "POST /Basic", http.StatusCreated)
	s := r.state(t)
	if s.ID == "" || s.Meta.VersionID != "1" || s.Meta.LastUpdated != "2025-03-14T15:09:26Z" {
		t.Errorf("created id %q versionId %q lastUpdated %q; want an id, versionId 1, the clock's time", s.ID, s.Meta.VersionID, s.Meta.LastUpdated)
	}
	if got := r.header.Get("ETag"); got != `W/"1"` {
		t.Errorf("ETag = %q, want W/\"1\"", got)
	}
	if got, want := r.header.Get("Location"), base+"/Basic/"+s.ID+"/_history/1"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if s.Subject == nil || s.Subject.Reference != patientRef || len(s.Code.Coding) != 1 ||
		s.Code.Coding[0].System+"|"+s.Code.Coding[0].Code != appCode ||
		len(s.Extension) != 2 || s.Extension[0].ValueString != "<b>kept as is</b>" || s.Extension[1].ValueString != "2" {
		t.Errorf("created resource %s does not carry the subject, code and extensions sent", r.body)
	}
	if !strings.Contains(string(r.body), `"tag":[{"code":"t"}]`) {
		t.Errorf("created resource %s lost meta.tag", r.body)
	}
	// What was answered is what is stored and found (R-STATE-28).
	b := e.search(t, "patient", query(appCode, patientRef))
	if len(b.Entry) != 1 || string(b.Entry[0].Resource) != string(r.body) || b.Entry[0].FullURL != base+"/Basic/"+s.ID {
		t.Errorf("search found %+v, want exactly the created resource at %s", b.Entry, base+"/Basic/"+s.ID)
	}
	// Two states per code and subject are allowed (R-STATE-11).
	e.create(t, "patient", appCode, patientRef, "second")
	if b := e.search(t, "patient", query(appCode, patientRef)); len(b.Entry) != 2 {
		t.Errorf("after a second create: %d entries, want 2", len(b.Entry))
	}
}

// R-STATE-05, R-STATE-13, R-STATE-14, R-STATE-16: a create that breaks the
// profile is refused and nothing is stored.
func TestCreateRefusesInvalid(t *testing.T) {
	e := newEnv(t, 0)
	code := `"code":{"coding":[{"system":"https://app.example.org/state","code":"prefs"}]}`
	tests := []struct {
		name, body string
		header     []string
		want       int
	}{
		{"id given", basicJSON("x1", appCode, patientRef, "v"), nil, http.StatusBadRequest},
		{"versionId given", `{"resourceType":"Basic","meta":{"versionId":"1"},` + code + `}`, nil, http.StatusBadRequest},
		{"not Basic", `{"resourceType":"Patient",` + code + `}`, nil, http.StatusBadRequest},
		{"no code", `{"resourceType":"Basic"}`, nil, http.StatusBadRequest},
		{"two codings", `{"resourceType":"Basic","code":{"coding":[{"system":"https://app.example.org","code":"a"},{"system":"https://app.example.org","code":"b"}]}}`, nil, http.StatusBadRequest},
		{"coding without system", `{"resourceType":"Basic","code":{"coding":[{"code":"a"}]}}`, nil, http.StatusBadRequest},
		{"relative subject", basicJSON("", appCode, "Patient/a", "v"), nil, http.StatusBadRequest},
		{"subject on another server", basicJSON("", appCode, "https://elsewhere.example/fhir/Patient/a", "v"), nil, http.StatusBadRequest},
		{"subject of another type", basicJSON("", appCode, fhirBase+"/Observation/a", "v"), nil, http.StatusBadRequest},
		{"two subjects", `{"resourceType":"Basic",` + code + `,"subject":[{"reference":"` + patientRef + `"},{"reference":"` + userRef + `"}]}`, nil, http.StatusBadRequest},
		{"subject without reference", `{"resourceType":"Basic",` + code + `,"subject":{"display":"A"}}`, nil, http.StatusBadRequest},
		{"non-string extension", `{"resourceType":"Basic",` + code + `,"extension":[{"url":"https://x","valueInteger":1}]}`, nil, http.StatusBadRequest},
		{"null valueString", `{"resourceType":"Basic",` + code + `,"extension":[{"url":"https://x","valueString":null}]}`, nil, http.StatusBadRequest},
		{"nested extension", `{"resourceType":"Basic",` + code + `,"extension":[{"url":"https://x","valueString":"a","extension":[]}]}`, nil, http.StatusBadRequest},
		{"modifierExtension", `{"resourceType":"Basic",` + code + `,"modifierExtension":[{"url":"https://x","valueString":"a"}]}`, nil, http.StatusBadRequest},
		{"not JSON", `{"resourceType":"Basic"`, nil, http.StatusBadRequest},
		{"trailing data", basicJSON("", appCode, patientRef, "v") + `{}`, nil, http.StatusBadRequest},
		{"not FHIR JSON", basicJSON("", appCode, patientRef, "v"), []string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do(t, "POST", "/Basic", "patient", tt.body, tt.header...).want(t, "POST", tt.want)
		})
	}
	if b := e.search(t, "patient", query(appCode, patientRef)); len(b.Entry) != 0 {
		t.Errorf("refused creates stored %d resources", len(b.Entry))
	}
	// application/json is accepted as well.
	e.do(t, "POST", "/Basic", "patient", basicJSON("", appCode, patientRef, "v"), "Content-Type", "application/json").
		want(t, "POST application/json", http.StatusCreated)
}

// R-STATE-13: bodies over the limit are refused with 413; the default
// limit is 256 KiB.
func TestSizeLimit(t *testing.T) {
	tests := []struct {
		name     string
		maxBytes int64
		value    int
		want     int
	}{
		{"default limit, under", 0, 250 << 10, http.StatusCreated},
		{"default limit, over", 0, 256 << 10, http.StatusRequestEntityTooLarge},
		{"configured limit, under", 1 << 10, 100, http.StatusCreated},
		{"configured limit, over", 1 << 10, 1 << 10, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.maxBytes)
			body := basicJSON("", appCode, patientRef, strings.Repeat("x", tt.value))
			e.do(t, "POST", "/Basic", "patient", body).want(t, "POST", tt.want)
		})
	}
	// An update is bounded alike.
	e := newEnv(t, 1<<10)
	id := e.create(t, "patient", appCode, patientRef, "small")
	e.do(t, "PUT", "/Basic/"+id, "patient", basicJSON(id, appCode, patientRef, strings.Repeat("x", 1<<10)), "If-Match", `W/"1"`).
		want(t, "PUT too large", http.StatusRequestEntityTooLarge)
}

// R-STATE-18..21: an update needs If-Match naming the latest version and
// the same subject and code; it answers the new version.
func TestUpdate(t *testing.T) {
	e := newEnv(t, 0)
	id := e.create(t, "patient", appCode, patientRef, "v1")
	put := func(body string, header ...string) response {
		return e.do(t, "PUT", "/Basic/"+id, "patient", body, header...)
	}
	r := put(basicJSON(id, appCode, patientRef, "v2"), "If-Match", `W/"1"`)
	r.want(t, "PUT W/1", http.StatusOK)
	if s := r.state(t); s.Meta.VersionID != "2" || s.Extension[0].ValueString != "v2" || r.header.Get("ETag") != `W/"2"` {
		t.Errorf("PUT answered %s with ETag %q, want versionId 2, the new value and W/\"2\"", r.body, r.header.Get("ETag"))
	}
	tests := []struct {
		name, body string
		header     []string
		want       int
	}{
		{"stale If-Match", basicJSON(id, appCode, patientRef, "v3"), []string{"If-Match", `W/"1"`}, http.StatusPreconditionFailed},
		{"missing If-Match", basicJSON(id, appCode, patientRef, "v3"), nil, http.StatusPreconditionFailed},
		{"If-Match *", basicJSON(id, appCode, patientRef, "v3"), []string{"If-Match", `*`}, http.StatusPreconditionFailed},
		{"subject changed", basicJSON(id, appCode, "", "v3"), []string{"If-Match", `W/"2"`}, http.StatusPreconditionFailed},
		{"subject to the user", basicJSON(id, appCode, userRef, "v3"), []string{"If-Match", `W/"2"`}, http.StatusPreconditionFailed},
		{"code changed", basicJSON(id, "https://app.example.org/state|other", patientRef, "v3"), []string{"If-Match", `W/"2"`}, http.StatusPreconditionFailed},
		{"id differs", basicJSON("other", appCode, patientRef, "v3"), []string{"If-Match", `W/"2"`}, http.StatusBadRequest},
		{"no id", basicJSON("", appCode, patientRef, "v3"), []string{"If-Match", `W/"2"`}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { put(tt.body, tt.header...).want(t, "PUT", tt.want) })
	}
	// A strong ETag names the version as well.
	put(basicJSON(id, appCode, patientRef, "v3"), "If-Match", `"2"`).want(t, "PUT \"2\"", http.StatusOK)
	e.do(t, "PUT", "/Basic/unknown", "patient", basicJSON("unknown", appCode, patientRef, "v"), "If-Match", `W/"1"`).
		want(t, "PUT unknown id", http.StatusNotFound)
	b := e.search(t, "patient", query(appCode, patientRef))
	if len(b.Entry) != 1 || !strings.Contains(string(b.Entry[0].Resource), `"versionId":"3"`) {
		t.Errorf("after updates the search found %+v, want one resource at version 3", b.Entry)
	}
}

// R-STATE-20: of concurrent updates naming the same version exactly one
// wins; the others get 412.
func TestConcurrentUpdates(t *testing.T) {
	e := newEnv(t, 0)
	id := e.create(t, "patient", appCode, patientRef, "v1")
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := basicJSON(id, appCode, patientRef, fmt.Sprint(i))
			statuses[i] = e.do(t, "PUT", "/Basic/"+id, "patient", body, "If-Match", `W/"1"`).status
		})
	}
	wg.Wait()
	won := 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			won++
		case http.StatusPreconditionFailed:
		default:
			t.Errorf("concurrent PUT: status %d, want 200 or 412", s)
		}
	}
	if won != 1 {
		t.Errorf("concurrent PUTs with W/\"1\": %d won, want exactly 1 (statuses %v)", won, statuses)
	}
}

// R-STATE-22..25: a delete needs If-Match naming the latest version;
// afterwards every request about the id is a failed precondition.
func TestDelete(t *testing.T) {
	e := newEnv(t, 0)
	id := e.create(t, "patient", appCode, patientRef, "v1")
	e.do(t, "DELETE", "/Basic/"+id, "patient", "").want(t, "DELETE without If-Match", http.StatusPreconditionFailed)
	e.do(t, "DELETE", "/Basic/"+id, "patient", "", "If-Match", `W/"2"`).want(t, "DELETE stale", http.StatusPreconditionFailed)
	r := e.do(t, "DELETE", "/Basic/"+id, "patient", "", "If-Match", `W/"1"`)
	r.want(t, "DELETE W/1", http.StatusNoContent)
	if len(r.body) != 0 {
		t.Errorf("DELETE answered a body: %s", r.body)
	}
	// R-STATE-24: any later request about the id.
	e.do(t, "DELETE", "/Basic/"+id, "patient", "", "If-Match", `W/"1"`).want(t, "DELETE again", http.StatusPreconditionFailed)
	e.do(t, "PUT", "/Basic/"+id, "patient", basicJSON(id, appCode, patientRef, "v"), "If-Match", `W/"1"`).
		want(t, "PUT after delete", http.StatusPreconditionFailed)
	e.do(t, "PUT", "/Basic/"+id, "patient", basicJSON(id, appCode, patientRef, "v"), "If-Match", `W/"2"`).
		want(t, "PUT after delete, next version", http.StatusPreconditionFailed)
	if b := e.search(t, "patient", query(appCode, patientRef)); len(b.Entry) != 0 {
		t.Errorf("search after delete found %d resources, want none", len(b.Entry))
	}
	e.do(t, "DELETE", "/Basic/unknown", "patient", "", "If-Match", `W/"1"`).want(t, "DELETE unknown", http.StatusNotFound)
}

// R-STATE-08: read by id is not part of the App State API.
func TestReadNotSupported(t *testing.T) {
	e := newEnv(t, 0)
	id := e.create(t, "patient", appCode, patientRef, "v1")
	r := e.do(t, "GET", "/Basic/"+id, "patient", "")
	r.want(t, "GET /Basic/{id}", http.StatusMethodNotAllowed)
	if got := r.header.Get("Allow"); got != "PUT, DELETE, OPTIONS" {
		t.Errorf("Allow = %q", got)
	}
	e.do(t, "GET", "/Patient", "patient", "").want(t, "GET /Patient", http.StatusNotFound)
	e.do(t, "PATCH", "/Basic", "patient", "").want(t, "PATCH /Basic", http.StatusMethodNotAllowed)
}

// R-STATE-26..28: searches by code and subject, and by code for global
// state, match exactly and answer searchset Bundles.
func TestSearch(t *testing.T) {
	e := newEnv(t, 0)
	pat := e.create(t, "patient", appCode, patientRef, "p")
	usr := e.create(t, "user", appCode, userRef, "u")
	glob := e.create(t, "user", appCode, "", "g")
	e.create(t, "patient", "https://app.example.org/state|other", patientRef, "o")
	tests := []struct {
		name, token, query string
		want               []string
	}{
		{"patient", "patient", query(appCode, patientRef), []string{pat}},
		{"user", "user", query(appCode, userRef), []string{usr}},
		{"global", "user", query(appCode, ""), []string{glob}},
		{"no match", "user", query("https://app.example.org/state|none", ""), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.search(t, tt.token, tt.query)
			var got []string
			for _, en := range b.Entry {
				got = append(got, strings.TrimPrefix(en.FullURL, base+"/Basic/"))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("found %v, want %v", got, tt.want)
			}
		})
	}
	bad := []struct{ name, query string }{
		{"no code", "subject:missing=true"},
		{"no subject", "code=" + url.QueryEscape(appCode)},
		{"both subject forms", query(appCode, patientRef) + "&subject:missing=true"},
		{"subject:missing=false", "code=" + url.QueryEscape(appCode) + "&subject:missing=false"},
		{"code without system", query("prefs", patientRef)},
		{"two codes", query(appCode, patientRef) + "&code=" + url.QueryEscape(appCode)},
		{"unknown parameter", query(appCode, patientRef) + "&_count=5"},
		{"relative subject", query(appCode, "Patient/a")},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			e.do(t, "GET", "/Basic?"+tt.query, "patient", "").want(t, "search", http.StatusBadRequest)
		})
	}
}

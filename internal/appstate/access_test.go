package appstate_test

import (
	"bytes"
	"net/http"
	"testing"
)

// R-STATE-30, R-STATE-32, R-STATE-33, R-STATE-35, R-STATE-37: the access
// matrix for creates and searches: the scope context must fit the subject
// (patient/ for the patient in context, user/ for the user and for global
// state, nothing else), the code's system must share an origin with the
// app's redirect or launch URL unless a scope names the code, and the
// permission letter must be granted.
func TestAccessMatrix(t *testing.T) {
	e := newEnv(t, 0)
	const otherPatient = fhirBase + "/Patient/z"
	tests := []struct {
		name, token, code, subject string
		create, search             int
	}{
		{"patient scope, patient subject", "patient", appCode, patientRef, 201, 200},
		{"patient scope, launch URL origin", "patient", launchCode, patientRef, 201, 200},
		{"patient scope, user subject", "patient", appCode, userRef, 403, 403},
		{"patient scope, global", "patient", appCode, "", 403, 403},
		{"patient scope, other patient", "patient", appCode, otherPatient, 403, 403},
		{"patient scope, foreign code system", "patient", foreignCode, patientRef, 403, 403},
		{"patient scope, non-URL code system", "patient", "urn:x|prefs", patientRef, 403, 403},
		{"user scope, user subject", "user", appCode, userRef, 201, 200},
		{"user scope, global", "user", appCode, "", 201, 200},
		{"user scope, patient subject", "user", appCode, patientRef, 403, 403},
		{"user scope, other practitioner", "user", appCode, fhirBase + "/Practitioner/z", 403, 403},
		{"user scope, foreign code system", "user", foreignCode, "", 403, 403},
		{"user scope, fhirUser is the patient", "self-user", appCode, patientRef, 201, 200},
		{"wildcard type", "wildcard", appCode, patientRef, 201, 200},
		{"no Basic scope", "patient-read", appCode, patientRef, 403, 403},
		{"system scope", "system", appCode, "", 403, 403},
		{"create only", "patient-c", appCode, patientRef, 201, 403},
		{"scope query other than code", "odd-query", appCode, patientRef, 403, 403},
		{"client not registered", "unregistered", appCode, patientRef, 403, 403},
		{"other app, its own origin rule", "other-app", appCode, patientRef, 403, 403},
		{"other app, scope names the code", "other-app-for", appCode, patientRef, 201, 200},
		{"other app, scope names the code, user search", "other-app-for", appCode, userRef, 403, 200},
		{"other app, scope names the code, global search", "other-app-for", appCode, "", 403, 200},
		{"other app, scope names another code", "other-app-for", "https://app.example.org/state|x", patientRef, 403, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do(t, "POST", "/Basic", tt.token, basicJSON("", tt.code, tt.subject, "v")).want(t, "POST", tt.create)
			e.do(t, "GET", "/Basic?"+query(tt.code, tt.subject), tt.token, "").want(t, "search", tt.search)
		})
	}
}

// R-STATE-30, D-4: an update or delete of a resource the token may not use
// is answered exactly as an unknown id (404), also after the resource was
// deleted; a token without the permission on Basic gets 403. A companion
// app whose scope names the code may change it (R-STATE-33).
func TestAccessByID(t *testing.T) {
	e := newEnv(t, 0)
	id := e.create(t, "patient", appCode, patientRef, "v1")
	gone := e.create(t, "patient", appCode, patientRef, "v1")
	e.do(t, "DELETE", "/Basic/"+gone, "patient", "", "If-Match", `W/"1"`).want(t, "DELETE", http.StatusNoContent)
	unknown := e.do(t, "DELETE", "/Basic/unknown", "other-app", "", "If-Match", `W/"1"`)
	unknown.want(t, "DELETE unknown", http.StatusNotFound)
	tests := []struct {
		name, token, id string
		want            int
	}{
		{"other app", "other-app", id, 404},
		{"user scope on patient state", "user", id, 404},
		{"other app, deleted id", "other-app", gone, 404},
		{"no Basic scope", "patient-read", id, 403},
		{"create only", "patient-c", id, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			put := e.do(t, "PUT", "/Basic/"+tt.id, tt.token, basicJSON(tt.id, appCode, patientRef, "x"), "If-Match", `W/"1"`)
			put.want(t, "PUT", tt.want)
			del := e.do(t, "DELETE", "/Basic/"+tt.id, tt.token, "", "If-Match", `W/"1"`)
			del.want(t, "DELETE", tt.want)
			if tt.want == 404 && (!bytes.Equal(put.body, unknown.body) || !bytes.Equal(del.body, unknown.body)) {
				t.Errorf("hidden id answered %s / %s, want the unknown-id body %s", put.body, del.body, unknown.body)
			}
		})
	}
	e.do(t, "PUT", "/Basic/"+id, "other-app-for", basicJSON(id, appCode, patientRef, "x"), "If-Match", `W/"1"`).
		want(t, "PUT by companion app", http.StatusOK)
	e.do(t, "DELETE", "/Basic/"+id, "other-app-for", "", "If-Match", `W/"2"`).
		want(t, "DELETE by companion app", http.StatusNoContent)
}

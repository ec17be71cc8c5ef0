package fhir

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/smartlaunch/smartlaunch/internal/store"
	"github.com/smartlaunch/smartlaunch/internal/store/sqlite"
)

// uscore is the Inferno US Core client-test patient of subsetFS.
const uscore = "us-core-client-tests-patient"

// writeEnv is a server over a writable copy of two sample patients, chad
// and uscore, with one of each one's Observations.
type writeEnv struct {
	ts                 *httptest.Server
	st                 *sqlite.DB
	chadObs, uscoreObs store.Resource
}

func newWriteEnv(t *testing.T, m mode) writeEnv {
	t.Helper()
	st := emptyStore(t)
	if _, err := Load(t.Context(), st, subsetFS(t)); err != nil {
		t.Fatal(err)
	}
	env := writeEnv{st: st, ts: m.serve(t, st, fakeVerifier{
		"chad-w":  access("patient/Observation.cruds patient/Patient.rs", chad),
		"chad-rs": access("patient/Observation.rs", chad),
		"chad-c":  access("patient/Observation.c", chad),
		"chad-u":  access("patient/Observation.u", chad),
		"admin":   access("user/*.cruds", ""),
	})}
	env.chadObs = env.firstObs(t, chad)
	env.uscoreObs = env.firstObs(t, uscore)
	return env
}

func (env writeEnv) firstObs(t *testing.T, patient string) store.Resource {
	t.Helper()
	rs, _, err := env.st.SearchResources(t.Context(), store.ResourceQuery{Type: "Observation", Patient: patient, Count: 1})
	if err != nil || len(rs) != 1 {
		t.Fatalf("no Observation of %s: %v", patient, err)
	}
	return must(env.st.GetResource(t.Context(), "Observation", rs[0].ID))
}

// send makes a request with a token, a body and "Name: value" headers.
func (env writeEnv) send(t *testing.T, method, path, token, body string, headers ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, env.ts.URL+"/fhir"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		req.Header.Set(name, value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, resp.Header, b.Bytes()
}

// stored returns the current version of typ/id, or "" when there is none.
func (env writeEnv) stored(t *testing.T, typ, id string) store.Resource {
	t.Helper()
	r, err := env.st.GetResource(t.Context(), typ, id)
	if err != nil {
		return store.Resource{}
	}
	return r
}

// edit returns r's JSON with the top-level members set (a nil value
// removes one).
func edit(t *testing.T, r []byte, set map[string]any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return string(must(json.Marshal(m)))
}

func subject(patient string) map[string]any { return map[string]any{"reference": "Patient/" + patient} }

// resourceOf decodes a resource answer.
func resourceOf(t *testing.T, body []byte) (id, version, subj string) {
	t.Helper()
	var r struct {
		ID      string
		Meta    struct{ VersionID string }
		Subject struct{ Reference string }
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("not a resource: %v: %.200s", err, body)
	}
	return r.ID, r.Meta.VersionID, r.Subject.Reference
}

// TestCreate: POST /{type} stores a new resource with a server-assigned id
// only where the token may create it.
func TestCreate(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		env := newWriteEnv(t, m)
		mine := edit(t, env.chadObs.JSON, map[string]any{"id": nil, "meta": nil})
		theirs := edit(t, env.chadObs.JSON, map[string]any{"id": nil, "meta": nil, "subject": subject(uscore)})
		before := must(env.st.CountResources(t.Context()))
		for _, tc := range []struct {
			name, token, body string
			headers           []string
			status            int
		}{
			{"into the patient's compartment", "chad-w", mine, nil, 201},
			{"create only", "chad-c", mine, []string{"Prefer: return=minimal"}, 201},
			{"A-85: into another patient's compartment", "chad-w", theirs, nil, 403},
			{"A-84: read and search only", "chad-rs", mine, nil, 403},
			{"malformed reference", "chad-w", edit(t, env.chadObs.JSON, map[string]any{"id": nil, "subject": map[string]any{"reference": "Patient?name=x"}}), nil, 400},
			{"id of another shape", "chad-w", edit(t, env.chadObs.JSON, map[string]any{"id": "a_b"}), nil, 400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, h, body := env.send(t, "POST", "/Observation", tc.token, tc.body, tc.headers...)
				if status != tc.status {
					t.Fatalf("status = %d, want %d: %.300s", status, tc.status, body)
				}
				if status != 201 {
					return
				}
				loc := strings.TrimPrefix(h.Get("Location"), testBase+"/Observation/")
				id, vid, _ := strings.Cut(strings.TrimSuffix(loc, "/_history/1"), "/")
				got := env.stored(t, "Observation", id)
				if vid != "" || got.VersionID != "1" || h.Get("ETag") != `W/"1"` || id == env.chadObs.ID {
					t.Fatalf("Location %q, ETag %q; stored version %q", h.Get("Location"), h.Get("ETag"), got.VersionID)
				}
				if len(tc.headers) > 0 {
					if len(body) != 0 {
						t.Errorf("return=minimal answered a body: %.100s", body)
					}
					return
				}
				if bid, bv, subj := resourceOf(t, body); bid != id || bv != "1" || subj != "Patient/"+chad {
					t.Errorf("answered id %q version %q subject %q", bid, bv, subj)
				}
				if status, _, _ := env.send(t, "GET", "/Observation/"+id, "chad-rs", ""); status != 200 {
					t.Errorf("reading the new resource: %d", status)
				}
			})
		}
		if after := must(env.st.CountResources(t.Context())); after != before+2 {
			t.Errorf("%d resources after, want %d: a refused create stored something", after, before+2)
		}
	})
}

// TestUpdate: PUT replaces a resource only when the token may update both
// the stored and the new version, and If-Match names the current
// version (412 otherwise).
func TestUpdate(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		env := newWriteEnv(t, m)
		id, other := env.chadObs.ID, env.uscoreObs.ID
		final := edit(t, env.chadObs.JSON, map[string]any{"status": "amended"})
		for _, tc := range []struct {
			name, token, path, body string
			headers                 []string
			status                  int
			wantVersion             string // of path's resource afterwards
		}{
			{"update", "chad-u", "/Observation/" + id, final, []string{`If-Match: W/"1"`}, 200, "2"},
			{"stale If-Match", "chad-w", "/Observation/" + id, final, []string{`If-Match: W/"1"`}, 412, "2"},
			{"A-85: move out of the compartment", "chad-w", "/Observation/" + id,
				edit(t, env.chadObs.JSON, map[string]any{"subject": subject(uscore)}), nil, 403, "2"},
			{"A-85: take over another patient's resource", "chad-w", "/Observation/" + other,
				edit(t, env.uscoreObs.JSON, map[string]any{"subject": subject(chad)}), nil, 403, "1"},
			{"A-84: read only", "chad-rs", "/Observation/" + id, final, nil, 403, "2"},
			{"id differs from the URL", "chad-w", "/Observation/" + id,
				edit(t, env.chadObs.JSON, map[string]any{"id": other}), nil, 400, "2"},
			{"update as create", "chad-w", "/Observation/new-one", edit(t, env.chadObs.JSON, map[string]any{"id": "new-one"}), nil, 201, "1"},
			{"If-Match on a missing one", "chad-w", "/Observation/missing", edit(t, env.chadObs.JSON, map[string]any{"id": "missing"}),
				[]string{`If-Match: W/"1"`}, 412, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, h, body := env.send(t, "PUT", tc.path, tc.token, tc.body, tc.headers...)
				if status != tc.status {
					t.Fatalf("status = %d, want %d: %.300s", status, tc.status, body)
				}
				if got := env.stored(t, "Observation", strings.TrimPrefix(tc.path, "/Observation/")).VersionID; got != tc.wantVersion {
					t.Errorf("stored version = %q, want %q", got, tc.wantVersion)
				}
				if status < 300 && h.Get("ETag") != `W/"`+tc.wantVersion+`"` {
					t.Errorf("ETag = %q", h.Get("ETag"))
				}
			})
		}
		var cur struct{ Status string }
		json.Unmarshal(env.stored(t, "Observation", id).JSON, &cur)
		if cur.Status != "amended" {
			t.Errorf("stored status = %q, want amended", cur.Status)
		}
	})
}

// TestPatch: a JSON Patch is applied under the same rules as an update
// one the token may not update is not found.
func TestPatch(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		env := newWriteEnv(t, m)
		id, other := env.chadObs.ID, env.uscoreObs.ID
		for _, tc := range []struct {
			name, token, path, patch string
			status                   int
			wantVersion              string
		}{
			{"replace status", "chad-w", "/Observation/" + id, `[{"op":"replace","path":"/status","value":"corrected"}]`, 200, "2"},
			{"A-85: move the subject out", "chad-w", "/Observation/" + id,
				`[{"op":"replace","path":"/subject/reference","value":"Patient/` + uscore + `"}]`, 403, "2"},
			{"A-85: another patient's resource", "chad-w", "/Observation/" + other, `[{"op":"replace","path":"/status","value":"corrected"}]`, 404, "1"},
			{"failing test", "chad-w", "/Observation/" + id, `[{"op":"test","path":"/status","value":"final"}]`, 422, "2"},
			{"change the id", "chad-w", "/Observation/" + id, `[{"op":"replace","path":"/id","value":"x"}]`, 422, "2"},
			{"break a reference", "chad-w", "/Observation/" + id, `[{"op":"replace","path":"/subject/reference","value":"nonsense"}]`, 422, "2"},
			{"not a patch", "chad-w", "/Observation/" + id, `{"status":"x"}`, 400, "2"},
			{"missing", "chad-w", "/Observation/missing", `[]`, 404, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, _, body := env.send(t, "PATCH", tc.path, tc.token, tc.patch, "Content-Type: application/json-patch+json")
				if status != tc.status {
					t.Fatalf("status = %d, want %d: %.300s", status, tc.status, body)
				}
				if got := env.stored(t, "Observation", strings.TrimPrefix(tc.path, "/Observation/")).VersionID; got != tc.wantVersion {
					t.Errorf("stored version = %q, want %q", got, tc.wantVersion)
				}
			})
		}
	})
}

// TestDelete: DELETE removes a resource the token may delete; one it may
// not is answered as missing and kept; its versions stay readable.
func TestDelete(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		env := newWriteEnv(t, m)
		id, other := env.chadObs.ID, env.uscoreObs.ID
		for _, tc := range []struct {
			name, token, path string
			headers           []string
			status            int
		}{
			{"A-84: no d", "chad-rs", "/Observation/" + id, nil, 403},
			{"stale If-Match", "chad-w", "/Observation/" + id, []string{`If-Match: W/"7"`}, 412},
			{"another patient's", "chad-w", "/Observation/" + other, nil, 404},
			{"delete", "chad-w", "/Observation/" + id, []string{`If-Match: W/"1"`}, 204},
			{"again", "chad-w", "/Observation/" + id, nil, 404},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if status, _, body := env.send(t, "DELETE", tc.path, tc.token, "", tc.headers...); status != tc.status {
					t.Fatalf("status = %d, want %d: %.300s", status, tc.status, body)
				}
			})
		}
		if env.stored(t, "Observation", other).VersionID != "1" || env.stored(t, "Observation", id).VersionID != "" {
			t.Fatalf("after deletes: %s kept %v, %s gone %v", other, env.stored(t, "Observation", other).VersionID, id, env.stored(t, "Observation", id).VersionID)
		}
		for _, tc := range []struct {
			path   string
			status int
		}{
			{"/Observation/" + id, 404},
			{"/Observation/" + id + "/_history/1", 200},
			{"/Observation/" + id + "/_history/2", 410},
		} {
			if status, _, body := env.send(t, "GET", tc.path, "chad-rs", ""); status != tc.status {
				t.Errorf("GET %s = %d, want %d: %.200s", tc.path, status, tc.status, body)
			}
		}
		// A deleted resource can be created again with its id; its versions go on.
		status, h, _ := env.send(t, "PUT", "/Observation/"+id, "chad-w", string(env.chadObs.JSON))
		if status != 201 || h.Get("ETag") != `W/"3"` {
			t.Errorf("re-create: %d, ETag %q; want 201, version 3", status, h.Get("ETag"))
		}
	})
}

// TestConcurrentIfMatch: of writers racing with one If-Match, exactly one
// wins and the others get 412; none is lost silently.
func TestConcurrentIfMatch(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		env := newWriteEnv(t, m)
		id := env.chadObs.ID
		const n = 8
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				body := edit(t, env.chadObs.JSON, map[string]any{"status": "amended"})
				statuses[i], _, _ = env.send(t, "PUT", "/Observation/"+id, "chad-w", body, `If-Match: W/"1"`)
			})
		}
		wg.Wait()
		won := 0
		for _, s := range statuses {
			switch s {
			case 200:
				won++
			case 412:
			default:
				t.Errorf("status %d", s)
			}
		}
		if won != 1 || env.stored(t, "Observation", id).VersionID != "2" {
			t.Errorf("%d writers won, version %q; want 1 and version 2", won, env.stored(t, "Observation", id).VersionID)
		}
	})
}

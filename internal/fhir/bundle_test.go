package fhir

import (
	"encoding/json"
	"github.com/smartlaunch/smartlaunch/internal/store"
	"strings"
	"testing"
)

// bundleResult is a batch-response or transaction-response.
type bundleResult struct {
	Type  string
	Entry []struct {
		Resource json.RawMessage
		Response struct {
			Status, Location string
			Outcome          json.RawMessage
		}
	}
}

func (env writeEnv) postBundle(t *testing.T, token string, b map[string]any) (int, bundleResult, []byte) {
	t.Helper()
	status, _, body := env.send(t, "POST", "/", token, string(must(json.Marshal(b))))
	var r bundleResult
	if status == 200 {
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("not a Bundle: %v", err)
		}
	}
	return status, r, body
}

func entry(method, url string, resource any, extra ...string) map[string]any {
	req := map[string]any{"method": method, "url": url}
	for i := 0; i+1 < len(extra); i += 2 {
		req[extra[i]] = extra[i+1]
	}
	e := map[string]any{"request": req}
	if resource != nil {
		e["resource"] = resource
	}
	return e
}

func object(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBatch: every entry of a batch is authorized as if sent alone, and
// one entry's refusal changes nothing for the others (A-89, R-SCOPE-09).
func TestBatch(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		env := newWriteEnv(t, m)
		mine := object(t, edit(t, env.chadObs.JSON, map[string]any{"id": nil, "meta": nil}))
		theirs := object(t, edit(t, env.chadObs.JSON, map[string]any{"id": nil, "meta": nil, "subject": subject(uscore)}))
		patch := map[string]any{"resourceType": "Binary", "contentType": "application/json-patch+json",
			"data": "W3sib3AiOiJyZXBsYWNlIiwicGF0aCI6Ii9zdGF0dXMiLCJ2YWx1ZSI6ImNvcnJlY3RlZCJ9XQ=="} // replace /status
		before := must(env.st.CountResources(t.Context()))
		status, r, body := env.postBundle(t, "chad-w", map[string]any{"resourceType": "Bundle", "type": "batch", "entry": []any{
			entry("GET", "Patient/"+uscore, nil),
			entry("POST", "Observation", theirs),
			entry("POST", "Observation", mine),
			entry("DELETE", "Observation?code=x", nil),
			entry("DELETE", "Observation/"+env.uscoreObs.ID, nil),
			entry("GET", "Observation/"+env.chadObs.ID, nil),
			entry("PATCH", "Observation/"+env.chadObs.ID, patch, "ifMatch", `W/"1"`),
			entry("POST", testBase+"/", object(t, `{"resourceType":"Bundle","type":"batch"}`)),
			entry("GET", "Condition?patient="+chad, nil),
		}})
		if status != 200 || r.Type != "batch-response" {
			t.Fatalf("batch: %d %.300s", status, body)
		}
		want := []string{"404", "403", "201", "400", "404", "200", "200", "400", "403"}
		if len(r.Entry) != len(want) {
			t.Fatalf("%d entries, want %d", len(r.Entry), len(want))
		}
		for i, e := range r.Entry {
			if got, _, _ := strings.Cut(e.Response.Status, " "); got != want[i] {
				t.Errorf("entry %d: status %q, want %s (%s)", i, e.Response.Status, want[i], e.Response.Outcome)
			}
			if want[i] >= "400" && outcomeCode(t, e.Response.Outcome) == "" {
				t.Errorf("entry %d: no OperationOutcome", i)
			}
		}
		if after := must(env.st.CountResources(t.Context())); after != before+1 {
			t.Errorf("%d resources, want %d", after, before+1)
		}
		if env.stored(t, "Observation", env.uscoreObs.ID).VersionID != "1" || env.stored(t, "Observation", env.chadObs.ID).VersionID != "2" {
			t.Errorf("the refused delete or the allowed patch did not do what it should")
		}
	})
}

// TestTransaction: a transaction stores all its writes or none (A-89: one
// entry the token may not write refuses the whole Bundle), and references
// to other entries' fullUrl become the ids the server gives them.
func TestTransaction(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		env := newWriteEnv(t, m)
		mine := func(extra map[string]any) map[string]any {
			extra["id"], extra["meta"] = nil, nil
			return object(t, edit(t, env.chadObs.JSON, extra))
		}
		theirs := mine(map[string]any{"subject": subject(uscore)})
		before := must(env.st.CountResources(t.Context()))
		for _, tc := range []struct {
			name    string
			entries []any
			status  int
		}{
			{"A-89: one entry in another compartment", []any{
				entry("POST", "Observation", mine(map[string]any{})),
				entry("POST", "Observation", theirs)}, 403},
			{"A-89: a delete the token may not make", []any{
				entry("POST", "Observation", mine(map[string]any{})),
				entry("DELETE", "Observation/"+env.uscoreObs.ID, nil)}, 404},
			{"stale If-Match", []any{
				entry("POST", "Observation", mine(map[string]any{})),
				entry("PUT", "Observation/"+env.chadObs.ID, object(t, string(env.chadObs.JSON)), "ifMatch", `W/"9"`)}, 412},
			{"one resource twice", []any{
				entry("DELETE", "Observation/"+env.chadObs.ID, nil),
				entry("PUT", "Observation/"+env.chadObs.ID, object(t, string(env.chadObs.JSON)))}, 400},
			{"unresolved placeholder", []any{
				entry("POST", "Observation", mine(map[string]any{"hasMember": []any{map[string]any{"reference": "urn:uuid:0b7e1b3a-0000-4000-8000-000000000001"}}}))}, 400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, _, body := env.postBundle(t, "chad-w", map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": tc.entries})
				if status != tc.status || !strings.Contains(string(body), "entry ") {
					t.Errorf("status = %d, want %d naming the entry: %.300s", status, tc.status, body)
				}
			})
		}
		if after := must(env.st.CountResources(t.Context())); after != before || env.stored(t, "Observation", env.chadObs.ID).VersionID != "1" {
			t.Fatalf("refused transactions changed the store: %d resources (want %d)", after, before)
		}
		const panel = "urn:uuid:6b5f9f3e-1c1e-4d7e-9d55-000000000001"
		member := mine(map[string]any{})
		e1 := entry("POST", "Observation", member)
		e1["fullUrl"] = panel
		e2 := entry("POST", "Observation", mine(map[string]any{"hasMember": []any{map[string]any{"reference": panel}}}))
		status, r, body := env.postBundle(t, "chad-w", map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{e2, e1}})
		if status != 200 || r.Type != "transaction-response" || len(r.Entry) != 2 {
			t.Fatalf("transaction: %d %.300s", status, body)
		}
		var created struct{ HasMember []struct{ Reference string } }
		json.Unmarshal(r.Entry[0].Resource, &created)
		memberID := strings.TrimPrefix(strings.Split(r.Entry[1].Response.Location, "/_history/")[0], testBase+"/")
		if len(created.HasMember) != 1 || created.HasMember[0].Reference != memberID || !strings.HasPrefix(memberID, "Observation/") {
			t.Errorf("hasMember = %+v, want the member's new id %q", created.HasMember, memberID)
		}
		if got := env.stored(t, "Observation", strings.TrimPrefix(memberID, "Observation/")); got.VersionID != "1" {
			t.Errorf("member %s not stored", memberID)
		}
		if after := must(env.st.CountResources(t.Context())); after != before+2 {
			t.Errorf("%d resources after, want %d", after, before+2)
		}
		// A read in a transaction runs after its writes; in proxy mode it is
		// refused (it could not be judged before the writes are made).
		read := entry("GET", "Observation?patient="+chad+"&_summary=count", nil)
		status, r, body = env.postBundle(t, "chad-w", map[string]any{"resourceType": "Bundle", "type": "transaction",
			"entry": []any{entry("POST", "Observation", mine(map[string]any{})), read}})
		if m.name == "proxy" {
			if status != 400 || must(env.st.CountResources(t.Context())) != before+2 {
				t.Errorf("proxied transaction with a read: %d %.200s, want 400 and nothing stored", status, body)
			}
			return
		}
		var counted struct{ Total int }
		if status == 200 && len(r.Entry) == 2 {
			json.Unmarshal(r.Entry[1].Resource, &counted)
		}
		if counted.Total != chadObservations(t, env) {
			t.Errorf("the read entry counted %d, want %d (the writes before it included)", counted.Total, chadObservations(t, env))
		}
	})
}

// chadObservations counts chad's Observations in the store.
func chadObservations(t *testing.T, env writeEnv) int {
	t.Helper()
	_, n, err := env.st.SearchResources(t.Context(), store.ResourceQuery{Type: "Observation", Patient: chad})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

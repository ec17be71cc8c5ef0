package fhir

import (
	"encoding/json"
	"slices"
	"testing"
)

// historyVersions returns "id/version" of every entry of a history Bundle
// (deletions marked), in order.
func historyVersions(t *testing.T, env writeEnv, path, token string) (int, []string) {
	t.Helper()
	status, _, body := env.send(t, "GET", path, token, "")
	if status != 200 {
		return status, nil
	}
	var b struct {
		Type  string
		Entry []struct {
			FullURL  string
			Resource *struct {
				ID   string
				Meta struct{ VersionID string }
			}
			Request  struct{ Method string }
			Response struct{ Etag string }
		}
	}
	if err := json.Unmarshal(body, &b); err != nil || b.Type != "history" {
		t.Fatalf("GET %s: not a history Bundle (%v): %.200s", path, err, body)
	}
	var out []string
	for _, e := range b.Entry {
		if e.Resource == nil {
			out = append(out, e.Request.Method+" "+e.Response.Etag)
			continue
		}
		out = append(out, e.Resource.ID+"/"+e.Resource.Meta.VersionID)
	}
	return status, out
}

// TestHistoryVersions: instance, type and system history and vread judge
// every version on its own content: an Observation that belonged to
// another patient in version 1 and to chad since version 2 shows chad's
// token version 2 only, and an administrator both.
func TestHistoryVersions(t *testing.T) {
	forModes(t, func(t *testing.T, m mode) {
		env := newWriteEnv(t, m)
		id := env.uscoreObs.ID
		moved := edit(t, env.uscoreObs.JSON, map[string]any{"subject": subject(chad)})
		if status, _, body := env.send(t, "PUT", "/Observation/"+id, "admin", moved); status != 200 {
			t.Fatalf("moving the Observation: %d %.200s", status, body)
		}
		// A second resource that chad's token may read in full: updated, then
		// deleted.
		mine := env.chadObs.ID
		env.send(t, "PUT", "/Observation/"+mine, "admin", edit(t, env.chadObs.JSON, map[string]any{"status": "amended"}))
		if status, _, _ := env.send(t, "DELETE", "/Observation/"+mine, "admin", ""); status != 204 {
			t.Fatalf("delete: %d", status)
		}
		for _, tc := range []struct {
			name, token, path string
			status            int
			want              []string
		}{
			{"instance, chad", "chad-rs", "/Observation/" + id + "/_history", 200, []string{id + "/2"}},
			{"instance, admin", "admin", "/Observation/" + id + "/_history", 200, []string{id + "/2", id + "/1"}},
			{"instance with a deletion", "chad-rs", "/Observation/" + mine + "/_history", 200,
				[]string{`DELETE W/"3"`, mine + "/2", mine + "/1"}},
			{"instance paged", "chad-rs", "/Observation/" + mine + "/_history?_count=1&_offset=1", 200, []string{mine + "/2"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, got := historyVersions(t, env, tc.path, tc.token)
				if status != tc.status || !slices.Equal(got, tc.want) {
					t.Errorf("GET %s = %d %v, want %d %v", tc.path, status, got, tc.status, tc.want)
				}
			})
		}
		// Type and system history: chad's token never sees version 1 of the
		// moved Observation, the administrator does.
		for _, tc := range []struct {
			token, path string
			see1        bool
		}{
			{"chad-rs", "/Observation/_history?_count=200", false},
			{"admin", "/Observation/_history?_count=200", true},
			{"chad-rs", "/_history?_type=Observation&_count=200", false},
			{"admin", "/_history?_type=Observation,Patient&_count=200", true},
		} {
			status, got := historyVersions(t, env, tc.path, tc.token)
			if status != 200 || !slices.Contains(got, id+"/2") || slices.Contains(got, id+"/1") != tc.see1 {
				t.Errorf("%s GET %s = %d, has %s/1: %v, want %v", tc.token, tc.path, status, id, slices.Contains(got, id+"/1"), tc.see1)
			}
			if tc.token == "chad-rs" && !slices.Contains(got, `DELETE W/"3"`) {
				t.Errorf("%s GET %s: no deletion entry", tc.token, tc.path)
			}
		}
		for _, tc := range []struct {
			token, vid string
			status     int
		}{
			{"chad-rs", "1", 404}, {"chad-rs", "2", 200}, {"admin", "1", 200}, {"chad-rs", "3", 404},
		} {
			if status, _, _ := env.send(t, "GET", "/Observation/"+id+"/_history/"+tc.vid, tc.token, ""); status != tc.status {
				t.Errorf("%s vread version %s = %d, want %d", tc.token, tc.vid, status, tc.status)
			}
		}
	})
}

// TestConditionalWrites: If-None-Exist creates once; a conditional update
// creates, then updates the one match; several matches are 412; both need
// a search permission on the type, so that they cannot probe what the
// token may not search.
func TestConditionalWrites(t *testing.T) {
	env := newWriteEnv(t, modes[0])
	body := edit(t, env.chadObs.JSON, map[string]any{"id": nil, "meta": nil,
		"identifier": []any{map[string]any{"system": "urn:example:lab", "value": "A-1"}}})
	cond := "If-None-Exist: identifier=urn:example:lab|A-1"
	status, h, _ := env.send(t, "POST", "/Observation", "chad-w", body, cond)
	if status != 201 {
		t.Fatalf("first conditional create: %d", status)
	}
	first := h.Get("Location")
	status, h, _ = env.send(t, "POST", "/Observation", "chad-w", body, cond)
	if status != 200 || h.Get("Location") != first {
		t.Errorf("second conditional create: %d at %q, want 200 at %q", status, h.Get("Location"), first)
	}
	if status, _, _ := env.send(t, "POST", "/Observation", "chad-c", body, cond); status != 403 {
		t.Errorf("conditional create without s: %d, want 403", status)
	}
	if status, _, _ := env.send(t, "POST", "/Observation", "chad-w", body, "If-None-Exist: nonsense-param=1"); status != 400 {
		t.Errorf("conditional create on an unsupported parameter: %d, want 400", status)
	}
	upd := edit(t, env.chadObs.JSON, map[string]any{"id": nil, "meta": nil,
		"identifier": []any{map[string]any{"system": "urn:example:lab", "value": "B-2"}}})
	status, h, _ = env.send(t, "PUT", "/Observation?identifier=urn:example:lab|B-2", "chad-w", upd)
	if status != 201 {
		t.Fatalf("conditional update, no match: %d", status)
	}
	status, h2, _ := env.send(t, "PUT", "/Observation?identifier=urn:example:lab|B-2", "chad-w", upd)
	if status != 200 || h2.Get("ETag") != `W/"2"` || trimVersion(h2.Get("Location")) != trimVersion(h.Get("Location")) {
		t.Errorf("conditional update, one match: %d %s %s", status, h2.Get("ETag"), h2.Get("Location"))
	}
	// Two resources with the same code: more than one match.
	if status, _, _ := env.send(t, "PUT", "/Observation?patient="+chad, "chad-w", upd); status != 412 {
		t.Errorf("conditional update, many matches: %d, want 412", status)
	}
}

func trimVersion(loc string) string {
	if i := len(loc) - len("/_history/1"); i > 0 {
		return loc[:i]
	}
	return loc
}

package fhir

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func TestRequestErrors(t *testing.T) {
	ts := newTestServer(t, sampleStore(t), fakeVerifier{"all": access("user/*.cruds", "")})
	big := strings.NewReader("patient=" + strings.Repeat("x", 1<<20+1))
	for _, tc := range []struct {
		name, method, path, ctype string
		body                      *strings.Reader
		status                    int
		code                      string
	}{
		{"unknown type", "GET", "/Nonsense/1", "", nil, 404, "not-found"},
		{"unknown type search", "GET", "/Nonsense", "", nil, 404, "not-found"},
		{"unknown id", "GET", "/Observation/does-not-exist", "", nil, 404, "not-found"},
		{"malformed id", "GET", "/Observation/a_b", "", nil, 404, "not-found"},
		{"repeated _count", "GET", "/Observation?_count=1&_count=2", "", nil, 400, "invalid"},
		{"negative _count", "GET", "/Observation?_count=-1", "", nil, 400, "invalid"},
		{"bad date", "GET", "/Observation?date=yesterday", "", nil, 400, "invalid"},
		{"bad prefix", "GET", "/Observation?date=xx2020", "", nil, 400, "invalid"},
		{"invalid UTF-8", "GET", "/Observation?code=%ff", "", nil, 400, "invalid"},
		{"malformed query", "GET", "/Observation?code=%zz", "", nil, 400, "invalid"},
		{"empty token", "GET", "/Observation?code=", "", nil, 400, "invalid"},
		{"body too large", "POST", "/Observation/_search", "application/x-www-form-urlencoded", big, 413, "too-costly"},
		{"search body not a form", "POST", "/Observation/_search", "application/json", strings.NewReader("{}"), 415, "not-supported"},
		{"PUT of no resource", "PUT", "/Observation/x", "application/fhir+json", strings.NewReader("{}"), 400, "invalid"},
		{"POST create of another type", "POST", "/Observation", "application/fhir+json", strings.NewReader(`{"resourceType":"Patient"}`), 400, "invalid"},
		{"POST create of JSON", "POST", "/Observation", "application/fhir+json", strings.NewReader(`[1]`), 400, "invalid"},
		{"POST create of XML", "POST", "/Observation", "application/fhir+xml", strings.NewReader("<Observation/>"), 415, "not-supported"},
		{"PATCH not a JSON Patch", "PATCH", "/Observation/x", "application/merge-patch+json", strings.NewReader("{}"), 415, "not-supported"},
		{"DELETE of a missing one", "DELETE", "/Observation/x", "", nil, 404, "not-found"},
		{"conditional DELETE", "DELETE", "/Observation?code=x", "", nil, 400, "not-supported"},
		{"PATCH of a type", "PATCH", "/Observation", "", nil, 405, "not-supported"},
		{"GET _search", "GET", "/Observation/_search", "", nil, 405, "not-supported"},
		{"history", "GET", "/Observation/x/_history", "", nil, 404, "not-found"},
		{"vread of unknown id", "GET", "/Observation/x/_history/1", "", nil, 404, "not-found"},
		{"under system history", "GET", "/_history/1", "", nil, 404, "not-found"},
		{"too deep", "GET", "/Observation/x/_history/1/y", "", nil, 404, "not-found"},
		{"POST to base not a Bundle", "POST", "/", "application/fhir+json", strings.NewReader("{}"), 400, "invalid"},
		{"POST to base a collection", "POST", "/", "application/fhir+json", strings.NewReader(`{"resourceType":"Bundle","type":"collection"}`), 400, "invalid"},
		{"DELETE the base", "DELETE", "/", "", nil, 405, "not-supported"},
		{"unknown _type", "GET", "/?_type=Nonsense", "", nil, 400, "invalid"},
		{"reference of a type the parameter cannot target", "GET", "/Observation?patient=Group/1", "", nil, 400, "invalid"},
		{"bad chained value", "GET", "/Observation?patient.birthdate=soon", "", nil, 400, "invalid"},
		{"bad _has value", "GET", "/Patient?_has:Observation:patient:date=soon", "", nil, 400, "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body *bytes.Reader
			if tc.body != nil {
				b := make([]byte, tc.body.Len())
				tc.body.Read(b)
				body = bytes.NewReader(b)
			} else {
				body = bytes.NewReader(nil)
			}
			resp, got := do(t, tc.method, ts.URL+"/fhir"+tc.path, "all", tc.ctype, body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %.300s", resp.StatusCode, tc.status, got)
			}
			if c := outcomeCode(t, got); c != tc.code {
				t.Errorf("issue code = %q, want %q", c, tc.code)
			}
		})
	}
}

func TestUnauthorized(t *testing.T) {
	ts := newTestServer(t, sampleStore(t), fakeVerifier{})
	for _, tc := range []struct {
		name, header, want string
	}{
		{"missing", "", `Bearer realm="fhir"`},
		{"other scheme", "Basic dXNlcjpwdw==", `Bearer realm="fhir"`},
		{"invalid", "Bearer nope", `Bearer realm="fhir", error="invalid_token"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), "GET", ts.URL+"/fhir/Patient/"+chad, nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != tc.want {
				t.Errorf("got %d, WWW-Authenticate %q; want 401, %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), tc.want)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") == "" {
				t.Errorf("no CORS header on 401")
			}
		})
	}
}

func TestCORS(t *testing.T) {
	ts := newTestServer(t, sampleStore(t), fakeVerifier{"all": access("user/*.rs", "")})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, ts.URL+"/fhir/Observation", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "authorization")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "PATCH") || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "If-Match") {
		t.Errorf("preflight = %d %v", resp.StatusCode, h)
	}
	resp, _ = do(t, http.MethodGet, ts.URL+"/fhir/Patient/"+chad, "all", "", nil)
	expose := resp.Header.Get("Access-Control-Expose-Headers")
	if resp.StatusCode != 200 || !strings.Contains(expose, "WWW-Authenticate") || !strings.Contains(expose, "DPoP-Nonce") ||
		resp.Header.Get("ETag") != `W/"1"` {
		t.Errorf("read = %d %v", resp.StatusCode, resp.Header)
	}
}

// TestCapabilityStatement compares GET /metadata, which needs no token,
// with testdata/capabilitystatement.json (go test -update rewrites it).
func TestCapabilityStatement(t *testing.T) {
	ts := newTestServer(t, emptyStore(t), fakeVerifier{})
	resp, body := do(t, http.MethodGet, ts.URL+"/fhir/metadata", "", "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != contentType ||
		resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("GET /metadata = %d %v", resp.StatusCode, resp.Header)
	}
	var pretty bytes.Buffer
	if err := jsonIndent(&pretty, body); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "capabilitystatement.json")
	if *update {
		if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("CapabilityStatement differs from %s (run go test -update and review the diff)", golden)
	}
	for _, s := range []string{`"SMART-on-FHIR"`, oauthURIsExtension, `"fhirVersion": "4.0.1"`, `"valueUri": "http://fhir.test/token"`} {
		if !bytes.Contains(want, []byte(s)) {
			t.Errorf("CapabilityStatement lacks %s", s)
		}
	}
}

func jsonIndent(dst *bytes.Buffer, src []byte) error {
	if err := json.Indent(dst, src, "", "  "); err != nil {
		return err
	}
	dst.WriteByte('\n')
	return nil
}
